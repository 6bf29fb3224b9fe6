import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { readElfSummary } from '../layers/index.js';
import { ensureLabBuilt } from './lab-builder.js';
import { parseKernelConfig } from './kernel-modules.js';

void describe('ensureLabBuilt (Debian kernel + busybox-static)', { timeout: 300_000 }, () => {
  void it('builds once and returns the cached guest afterwards', async () => {
    const first = await ensureLabBuilt();
    const second = await ensureLabBuilt();
    assert.deepEqual(second, first);
    assert.match(first.kernelVersion, /^\d+\.\d+\.\d+-\d+-amd64$/);
  });

  void it('extracts a vmlinux that carries BTF, and an initramfs the kernel can unpack', async () => {
    const lab = await ensureLabBuilt();
    const sections = (await readElfSummary(lab.vmlinux)).sections.map((s) => s.name);
    assert.ok(sections.includes('.BTF'));
    assert.ok(sections.includes('.text'));
    const initramfs = readFileSync(lab.initramfs);
    assert.deepEqual([...initramfs.subarray(0, 2)], [0x1f, 0x8b], 'gzip magic');
    assert.equal(readFileSync(lab.bzImage).toString('latin1', 0x202, 0x206), 'HdrS');
    assert.equal(
      parseKernelConfig(readFileSync(lab.config, 'utf8')).get('CONFIG_SERIAL_8250_CONSOLE'),
      'y',
    );
  });
});
