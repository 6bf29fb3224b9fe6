import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { parseMemorySize } from './memory-size.js';

void describe('parseMemorySize', () => {
  void it('parses QEMU -m sizes (a bare number is MiB)', () => {
    assert.equal(parseMemorySize('256M'), 256 * 2 ** 20);
    assert.equal(parseMemorySize('1G'), 2 ** 30);
    assert.equal(parseMemorySize('512'), 512 * 2 ** 20);
    assert.equal(parseMemorySize('131072k'), 128 * 2 ** 20);
    assert.equal(parseMemorySize('2GiB'), 2 * 2 ** 30);
  });
  void it('rejects malformed and out-of-range sizes', () => {
    for (const text of ['', 'lots', '-1M', '1.5G', '16M', '8G', '100000K']) {
      assert.throws(
        () => parseMemorySize(text),
        (e) => isVmsightError(e, 'INVALID_ARGUMENT'),
        text,
      );
    }
  });
});
