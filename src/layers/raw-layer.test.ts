import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { isVmsightError } from '../core/index.js';
import { openRawLayer } from './raw-layer.js';

void describe('openRawLayer', () => {
  let dir = '';
  const size = 1 << 20;
  const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 31 + (i >> 12)) & 0xff);
  let path = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmsight-raw-'));
    path = join(dir, 'ram.bin');
    writeFileSync(path, bytes);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('reads any range exactly as the file holds it, within a bounded cache', () => {
    const layer = openRawLayer(path, { cache: { blockSize: 4096, maxBlocks: 4 } });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: size - 1 }),
        fc.integer({ min: 0, max: 20_000 }),
        (at, want) => {
          const length = Math.min(want, size - at);
          assert.deepEqual(layer.read(BigInt(at), length), bytes.slice(at, at + length));
          assert.ok(layer.source.cachedBytes <= 4 * 4096);
        },
      ),
      { numRuns: 300 },
    );
    layer.close();
  });

  void it('ends at the file size', () => {
    const layer = openRawLayer(path, { cache: false });
    assert.equal(layer.isValid(BigInt(size - 1)), true);
    assert.equal(layer.isValid(BigInt(size - 1), 2), false);
    assert.throws(
      () => layer.read(BigInt(size - 1), 2),
      (e: unknown) => isVmsightError(e, 'INVALID_ADDRESS'),
    );
    assert.throws(() => layer.read(0n, -1), RangeError);
    layer.close();
  });

  void it('maps a RAM block of a 4 GiB guest around the PCI hole with { ram: true }', () => {
    const sparse = join(dir, 'ram-4g.bin');
    const fd = openSync(sparse, 'w');
    ftruncateSync(fd, 4 * 1024 ** 3); // sparse: no disk used
    writeSync(fd, Buffer.from('high'), 0, 4, 3 * 1024 ** 3 + 16);
    closeSync(fd);
    const layer = openRawLayer(sparse, { ram: true });
    assert.equal(Buffer.from(layer.read((4n << 30n) + 16n, 4)).toString(), 'high');
    assert.equal(layer.isValid(3n << 30n), false); // the PCI hole
    assert.equal(layer.isValid((5n << 30n) - 1n), true);
    layer.close();
  });
});
