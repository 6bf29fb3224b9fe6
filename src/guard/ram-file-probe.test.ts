import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MAX_PROBE_BYTES, RamFileProbe } from './ram-file-probe.js';

const dir = mkdtempSync(join(tmpdir(), 'vmsight-ram-probe-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('RAM file probe: reads guest-physical bytes by VM; out-of-range, oversized or unknown reads give nothing', () => {
  const ram = Buffer.alloc(64 * 1024);
  ram.writeUInt32LE(0xdeadbeef, 0x1000);
  const path = join(dir, 'ram');
  writeFileSync(path, ram);
  const probe = new RamFileProbe({ vm1: path, broken: join(dir, 'missing') });
  try {
    assert.deepEqual([...(probe.probe('vm1', 0x1000, 4) ?? [])], [0xef, 0xbe, 0xad, 0xde]);
    assert.equal(probe.probe('vm1', ram.length - 2, 4), undefined);
    assert.equal(probe.probe('vm1', -1, 4), undefined);
    assert.equal(probe.probe('vm1', 0, MAX_PROBE_BYTES + 1), undefined);
    assert.equal(probe.probe('vm2', 0, 4), undefined);
    assert.equal(probe.probe('broken', 0, 4), undefined);
  } finally {
    probe.close();
  }
});
