import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { programKey } from './guest-task-reader.js';

describe('programKey', () => {
  it('uses argv[0] when the comm is its basename, or "exe" (busybox applets)', () => {
    assert.equal(programKey('sysprobe', '/tmp/sysprobe'), '/tmp/sysprobe');
    assert.equal(programKey('exe', 'nc'), 'nc');
    assert.equal(
      programKey('a-very-long-pro', '/opt/a-very-long-program-name'),
      '/opt/a-very-long-program-name',
    );
  });

  it('uses the comm for renamed tasks and when argv is unknown', () => {
    assert.equal(programKey('ls', 'sh'), 'ls');
    assert.equal(programKey('kworker/0:1', undefined), 'kworker/0:1');
    assert.equal(programKey('init', ''), 'init');
  });
});
