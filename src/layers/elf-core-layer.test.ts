import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { VmsightError, isVmsightError } from '../core/index.js';
import { buildElfCore, qemuCpuStateDesc } from './_elf-core-builder.js';
import { openElfCore } from './elf-core-layer.js';
import { InvalidAddressError } from './invalid-address-error.js';

const pattern = (length: number, seed: number): Uint8Array =>
  Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);

void describe('openElfCore', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmsight-elf-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, bytes: Uint8Array): string => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };

  const prstatus = Buffer.alloc(336);
  prstatus.writeUInt32LE(1, 32); // pr_pid
  prstatus.writeBigUInt64LE(0xffffffff81c00080n, 112 + 16 * 8); // rip
  const low = pattern(0x3000, 1);
  const high = pattern(0x2000, 2);
  const core = buildElfCore({
    notes: [
      { name: 'CORE', type: 1, desc: prstatus },
      {
        name: 'QEMU',
        type: 0,
        desc: qemuCpuStateDesc({
          rip: 0xffffffff81a48ea6n,
          cr3: 0x2a10000n,
          cr4: 0x751ef0n,
          kgs: 0xffff88800f800000n,
        }),
      },
      {
        name: 'VMCOREINFO',
        type: 0,
        desc: Buffer.from(
          'OSRELEASE=6.1.0-56-amd64\nSYMBOL(init_top_pgt)=ffffffff82a10000\nNUMBER(phys_base)=-356515840\nKERNELOFFSET=19600000\n__proto__=x\n',
        ),
      },
    ],
    loads: [
      { paddr: 0n, bytes: low },
      { paddr: 0x100000n, bytes: high, memsz: 0x3000n },
    ],
  });

  void it('maps PT_LOAD segments by physical address and reads across them', () => {
    const dump = openElfCore(write('core.elf', core));
    try {
      assert.deepEqual(
        dump.layer.ranges.map((r) => [r.start, r.length]),
        [
          [0n, 0x3000n],
          [0x100000n, 0x2000n],
        ],
      );
      assert.deepEqual(dump.layer.read(0x2ff0n, 16), low.slice(0x2ff0));
      assert.deepEqual(dump.layer.read(0x101000n, 0x1000), high.slice(0x1000));
      assert.equal(dump.layer.isValid(0x101fffn), true);
      assert.equal(dump.layer.isValid(0x102000n), false); // past p_filesz: not in the file
    } finally {
      dump.close();
    }
  });

  void it('reads holes as INVALID_ADDRESS naming the address, or zeros when asked', () => {
    const dump = openElfCore(write('holes.elf', core));
    try {
      assert.throws(
        () => dump.layer.read(0x2ff0n, 0x20),
        (error: unknown) =>
          error instanceof InvalidAddressError &&
          error.address === 0x3000n &&
          /Cannot read physical address 0x3000/.test(error.message),
      );
      const filled = dump.layer.read(0x2ff0n, 0x20, { fillHoles: true });
      assert.deepEqual(filled.slice(0, 16), low.slice(0x2ff0));
      assert.deepEqual(filled.slice(16), new Uint8Array(16));
      const tail = dump.layer.read(0xfffffn, 2, { fillHoles: true });
      assert.deepEqual([...tail], [0, high[0]]);
    } finally {
      dump.close();
    }
  });

  void it('parses the QEMU CPU state, NT_PRSTATUS and VMCOREINFO notes', () => {
    const dump = openElfCore(write('notes.elf', core));
    try {
      assert.equal(dump.cpus.length, 1);
      assert.equal(dump.cpus[0]?.cr3, 0x2a10000n);
      assert.equal(dump.cpus[0]?.cr4, 0x751ef0n);
      assert.equal(dump.cpus[0]?.rip, 0xffffffff81a48ea6n);
      assert.equal(dump.cpus[0]?.kernel_gs_base, 0xffff88800f800000n);
      assert.equal(dump.prstatus[0]?.pr_pid, 1);
      assert.equal(dump.prstatus[0]?.rip, 0xffffffff81c00080n);
      assert.equal(dump.vmcoreinfo?.get('OSRELEASE'), '6.1.0-56-amd64');
      assert.equal(dump.vmcoreinfo?.symbol('init_top_pgt'), 0xffffffff82a10000n);
      assert.equal(dump.vmcoreinfo?.number('phys_base'), -356515840n);
      assert.equal(dump.vmcoreinfo?.kernelOffset, 0x19600000n);
      assert.equal(dump.vmcoreinfo?.get('__proto__'), 'x'); // a key, not a prototype
      assert.equal(({} as Record<string, unknown>)['x'], undefined);
    } finally {
      dump.close();
    }
  });

  void it('reads 70,000 program headers through PN_XNUM', () => {
    const loads = Array.from({ length: 70_000 }, (_, i) => ({
      paddr: BigInt(i) * 0x2000n,
      bytes: Uint8Array.of(i & 0xff, (i >> 8) & 0xff, 0, 0),
    }));
    const dump = openElfCore(write('xnum.elf', buildElfCore({ loads })));
    try {
      assert.equal(dump.programHeaders.length, 70_001);
      assert.equal(dump.layer.ranges.length, 70_000);
      assert.deepEqual(
        [...dump.layer.read(69_999n * 0x2000n, 2)],
        [69_999 & 0xff, (69_999 >> 8) & 0xff],
      );
      assert.equal(dump.layer.isValid(0x2004n), false);
    } finally {
      dump.close();
    }
  });

  void it('accepts PN_XNUM with a small count too', () => {
    const dump = openElfCore(
      write(
        'xnum-small.elf',
        buildElfCore({ loads: [{ paddr: 0x1000n, bytes: low }], forceXnum: true }),
      ),
    );
    assert.deepEqual(dump.layer.read(0x1000n, 4), low.slice(0, 4));
    dump.close();
  });

  void it('turns every truncation into TRUNCATED_INPUT or INVALID_INPUT, never a crash', () => {
    const cuts = [0, 3, 16, 63, 64, 64 + 56, 64 + 56 * 3 - 1, 64 + 56 * 3 + 20, core.length - 1];
    for (const cut of cuts) {
      const path = write(`cut-${cut}.elf`, core.subarray(0, cut));
      assert.throws(
        () => openElfCore(path).close(),
        (error: unknown) =>
          isVmsightError(error, 'TRUNCATED_INPUT') || isVmsightError(error, 'INVALID_INPUT'),
        `cut at ${cut}`,
      );
    }
  });

  void it('rejects hostile headers: huge counts, overlapping segments, huge notes', () => {
    const hugeCount = Buffer.from(core);
    hugeCount.writeUInt16LE(0xfffe, 56);
    assert.throws(
      () => openElfCore(write('huge.elf', hugeCount)),
      (e: unknown) => isVmsightError(e, 'TRUNCATED_INPUT'),
    );

    const bigNote = Buffer.from(core);
    bigNote.writeUInt32LE(0x7fffffff, 64 + 56 + 4 + 0); // p_flags: harmless
    const noteStart = Number(bigNote.readBigUInt64LE(64 + 8));
    bigNote.writeUInt32LE(0xfffffff0, noteStart + 4); // descsz of the first note
    assert.throws(
      () => openElfCore(write('bignote.elf', bigNote)),
      (e: unknown) => isVmsightError(e, 'TRUNCATED_INPUT'),
    );

    const notElf = Buffer.from(core);
    notElf[0] = 0;
    assert.throws(
      () => openElfCore(write('notelf.elf', notElf)),
      (e: unknown) => isVmsightError(e, 'INVALID_INPUT'),
    );
    assert.throws(
      () => openElfCore(join(dir, 'missing.elf')),
      (e: unknown) => isVmsightError(e, 'NOT_FOUND'),
    );
  });

  void it('throws only VmsightError for any corruption of the headers and notes', () => {
    const path = join(dir, 'fuzz.elf');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (edits) => {
          const bytes = Buffer.from(core);
          for (const [at, value] of edits) bytes[at] = value;
          writeFileSync(path, bytes);
          try {
            const dump = openElfCore(path);
            try {
              for (const range of dump.layer.ranges) dump.layer.read(range.start, 1);
            } finally {
              dump.close();
            }
          } catch (error) {
            assert.ok(error instanceof VmsightError, String(error));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  void it('serves overlapping PT_LOADs (paging dumps repeat physical pages) once, lowest start first', () => {
    const a = pattern(0x3000, 3);
    const b = pattern(0x3000, 4);
    const c = pattern(0x1000, 5);
    const path = write(
      'overlap.elf',
      buildElfCore({
        loads: [
          { paddr: 0x1000n, bytes: b }, // 0x1000-0x4000, partly under a
          { paddr: 0n, bytes: a }, // 0x0000-0x3000
          { paddr: 0x1000n, bytes: c }, // fully covered
        ],
      }),
    );
    const dump = openElfCore(path);
    try {
      assert.equal(dump.overlappingSegments, 2);
      assert.deepEqual(
        dump.layer.ranges.map((r) => [r.start, r.length]),
        [
          [0n, 0x3000n],
          [0x3000n, 0x1000n],
        ],
      );
      assert.deepEqual(
        dump.layer.read(0x2ff8n, 16),
        Uint8Array.from([...a.slice(0x2ff8), ...b.slice(0x2000, 0x2008)]),
      );
    } finally {
      dump.close();
    }
  });
});
