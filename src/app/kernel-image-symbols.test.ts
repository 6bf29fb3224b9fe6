import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensureLabBuilt } from '../lab/index.js';
import { symbolsFromKernelImage } from './kernel-image-symbols.js';

describe('symbolsFromKernelImage', () => {
  it('recovers the lab kernel’s link-time addresses from the kallsyms tables of its vmlinux', async () => {
    const { vmlinux, kernelVersion } = await ensureLabBuilt();
    const found = symbolsFromKernelImage(vmlinux, [
      'entry_SYSCALL_64',
      '__switch_to',
      'init_task',
      'no_such_symbol',
    ]);
    // The addresses the guest's own /proc/kallsyms prints on a nokaslr (PVH) boot of
    // 6.1.0-56-amd64 (lab-notes §4), aligned as kernel text and data are.
    assert.equal(found.size, 3);
    for (const address of found.values()) assert.ok(address >= 0xffffffff81000000n);
    assert.equal((found.get('entry_SYSCALL_64') ?? 1n) & 0xfn, 0n);
    assert.equal(found.get('no_such_symbol'), undefined);
    if (kernelVersion === '6.1.0-56-amd64') {
      // What the probing boot read from the guest's /proc/kallsyms for this kernel.
      assert.equal(found.get('entry_SYSCALL_64'), 0xffffffff81c00080n);
      assert.equal(found.get('__switch_to'), 0xffffffff81031080n);
      assert.equal(found.get('init_task'), 0xffffffff82a1aa40n);
    }
  });
});
