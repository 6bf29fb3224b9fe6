import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isVmsightError } from '../core/index.js';
import { PageTableBuilder } from './_page-table-builder.js';
import { InvalidAddressError } from './invalid-address-error.js';
import { PageTableWalker, faultError } from './page-table-walker.js';
import { PAGING_4_LEVEL, PAGING_5_LEVEL, pagingModeForCr4 } from './paging-modes.js';

const MiB = 1024 * 1024;

void describe('PageTableWalker, 4-level', () => {
  const builder = new PageTableBuilder(PAGING_4_LEVEL, 4 * MiB);
  builder.map(0xffff888000001000n, 0x00300000n); // direct map, 4 KiB
  builder.map(0xffffffff81000000n, 0x01000000n, 2 * MiB); // kernel text, 2 MiB page
  builder.map(0xffff888040000000n, 0x40000000n, 1024 * MiB); // 1 GiB page
  builder.map(0x00007ffff7ff0000n, 0x00301000n); // user page
  const walker = new PageTableWalker(builder.layer, PAGING_4_LEVEL);
  const cr3 = builder.root | 0x5n; // PCID bits must be ignored

  void it('translates 4 KiB, 2 MiB and 1 GiB pages with the page offset kept', () => {
    assert.deepEqual(walker.translate(cr3, 0xffff888000001abcn), {
      ok: true,
      physical: 0x300abcn,
      pageSize: 4096,
      level: 'PT',
    });
    assert.deepEqual(walker.translate(cr3, 0xffffffff811234f0n), {
      ok: true,
      physical: 0x11234f0n,
      pageSize: 2 * MiB,
      level: 'PD',
    });
    assert.deepEqual(walker.translate(cr3, 0xffff88807ffffff8n), {
      ok: true,
      physical: 0x7ffffff8n,
      pageSize: 1024 * MiB,
      level: 'PDPT',
    });
    assert.equal(walker.translateOrThrow(cr3, 0x7ffff7ff0008n), 0x301008n);
  });

  void it('reports the level and entry where an unmapped address stopped', () => {
    const result = walker.translate(cr3, 0xffff888000002000n);
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.equal(result.reason, 'not-present');
    assert.equal(result.level, 'PT');
    assert.equal(result.entryIndex, 2);
    const top = walker.translate(cr3, 0x0000100000000000n);
    assert.ok(!top.ok);
    assert.equal(top.level, 'PML4');
    assert.equal(top.entryIndex, 0x20);
    assert.equal(
      faultError(top, 0x0000100000000000n, '4-level').message,
      'Cannot translate address 0x100000000000: PML4 entry 0x20 is not present',
    );
    assert.throws(
      () => walker.translateOrThrow(cr3, 0xffff888000002000n),
      (error: unknown) =>
        error instanceof InvalidAddressError &&
        isVmsightError(error, 'INVALID_ADDRESS') &&
        error.level === 'PT' &&
        error.entryIndex === 2,
    );
  });

  void it('rejects non-canonical addresses without walking', () => {
    const result = walker.translate(cr3, 0x0000800000000000n);
    assert.deepEqual(result, { ok: false, reason: 'non-canonical' });
    assert.equal(walker.translate(cr3, 0xffff7fffffffffffn).ok, false);
    assert.throws(() => walker.translate(cr3, -1n), RangeError);
  });

  void it('treats PS in a PML4 entry as a reserved-bit fault (SDM Table 4-15)', () => {
    const hostile = new PageTableBuilder(PAGING_4_LEVEL, 64 * 1024);
    hostile.writeEntry(hostile.root, 1, 0x2000n | 0x83n);
    const result = new PageTableWalker(hostile.layer, PAGING_4_LEVEL).translate(
      hostile.root,
      1n << 39n,
    );
    assert.ok(!result.ok);
    assert.equal(result.reason, 'reserved-bit');
  });

  void it('reports a table outside physical memory as unreadable', () => {
    const hostile = new PageTableBuilder(PAGING_4_LEVEL, 64 * 1024);
    hostile.writeEntry(hostile.root, 0, 0xfff000000n | 0x3n);
    const result = new PageTableWalker(hostile.layer, PAGING_4_LEVEL).translate(hostile.root, 0n);
    assert.ok(!result.ok);
    assert.equal(result.reason, 'table-unreadable');
    assert.equal(result.level, 'PDPT');
    assert.equal(result.tableAddress, 0xfff000000n);
  });

  void it('enumerates exactly the mapped pages, in address order', () => {
    const mappings = [...walker.mappings(cr3)];
    assert.deepEqual(
      mappings.map((m) => [m.virtual, m.physical, m.size]),
      [
        [0x7ffff7ff0000n, 0x301000n, 4096],
        [0xffff888000001000n, 0x300000n, 4096],
        [0xffff888040000000n, 0x40000000n, 1024 * MiB],
        [0xffffffff81000000n, 0x1000000n, 2 * MiB],
      ],
    );
    const kernelOnly = [...walker.mappings(cr3, { start: 0xffff800000000000n })];
    assert.equal(kernelOnly.length, 3);
  });
});

void describe('PageTableWalker, 5-level', () => {
  void it('walks PML5 first and accepts 57-bit canonical addresses', () => {
    const builder = new PageTableBuilder(PAGING_5_LEVEL, MiB);
    builder.map(0xff11000000001000n, 0x5000n);
    builder.map(0x00ff000000000000n, 0x6000n);
    const walker = new PageTableWalker(builder.layer, PAGING_5_LEVEL);
    assert.equal(walker.translateOrThrow(builder.root, 0xff11000000001234n), 0x5234n);
    assert.equal(walker.translateOrThrow(builder.root, 0x00ff000000000010n), 0x6010n);
    // Canonical under 5-level, not under 4-level.
    assert.equal(walker.translate(builder.root, 0xff00000000000000n).ok, false);
    const missing = walker.translate(builder.root, 0xff10000000000000n);
    assert.ok(!missing.ok);
    assert.equal(missing.level, 'PML5');
    assert.equal(walker.translate(builder.root, 0x0100000000000000n).ok, false);
    assert.equal(pagingModeForCr4(0x751ef0n), PAGING_5_LEVEL);
    assert.equal(pagingModeForCr4(0x750ef0n), PAGING_4_LEVEL);
    assert.equal([...walker.mappings(builder.root)].length, 2);
  });
});

void describe('PageTableWalker against hostile tables', () => {
  void it('stops a hierarchy that maps one page 262,144 times at maxMappings', () => {
    const builder = new PageTableBuilder(PAGING_4_LEVEL, 64 * 1024);
    const pdpt = builder.allocateTable();
    const pd = builder.allocateTable();
    const pt = builder.allocateTable();
    builder.writeEntry(builder.root, 0, pdpt | 3n);
    builder.writeEntry(pdpt, 0, pd | 3n);
    for (let i = 0; i < 512; i += 1) {
      builder.writeEntry(pd, i, pt | 3n);
      builder.writeEntry(pt, i, 0x9000n | 3n);
    }
    const walker = new PageTableWalker(builder.layer, PAGING_4_LEVEL);
    const started = Date.now();
    let count = 0;
    assert.throws(
      () => {
        for (const mapping of walker.mappings(builder.root, { maxMappings: 100_000 })) {
          assert.equal(mapping.physical, 0x9000n);
          count += 1;
        }
      },
      (error: unknown) => isVmsightError(error, 'LIMIT_EXCEEDED'),
    );
    assert.equal(count, 100_000);
    assert.ok(Date.now() - started < 5000);
  });

  void it('stops a hierarchy of 262,144 empty page tables at maxTables', () => {
    const builder = new PageTableBuilder(PAGING_4_LEVEL, 64 * 1024);
    const pdpt = builder.allocateTable();
    const pd = builder.allocateTable();
    const emptyPt = builder.allocateTable();
    for (let i = 0; i < 512; i += 1) {
      builder.writeEntry(builder.root, i, pdpt | 3n);
      builder.writeEntry(pdpt, i, pd | 3n);
      builder.writeEntry(pd, i, emptyPt | 3n);
    }
    const walker = new PageTableWalker(builder.layer, PAGING_4_LEVEL);
    const started = Date.now();
    assert.throws(
      () => [...walker.mappings(builder.root)],
      (error: unknown) => isVmsightError(error, 'LIMIT_EXCEEDED'),
    );
    assert.ok(Date.now() - started < 5000);
  });

  void it('stops a self-referencing hierarchy at maxMappings', () => {
    const builder = new PageTableBuilder(PAGING_4_LEVEL, 64 * 1024);
    // Every PML4 entry points at the PML4 itself (the Windows self-map trick, here at every index).
    for (let i = 0; i < 512; i += 1) builder.writeEntry(builder.root, i, builder.root | 3n);
    const walker = new PageTableWalker(builder.layer, PAGING_4_LEVEL);
    assert.throws(
      () => [...walker.mappings(builder.root, { maxMappings: 50_000 })],
      (error: unknown) => isVmsightError(error, 'LIMIT_EXCEEDED'),
    );
    assert.equal(walker.translateOrThrow(builder.root, 0x1234n), builder.root | 0x234n);
  });
});

void describe('PageTableWalker property', () => {
  void it('agrees with a map of random 4 KiB mappings', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.bigInt({ min: 0n, max: (1n << 36n) - 1n }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.bigInt({ min: 0n, max: 0xfffn }),
        (pageNumbers, offset) => {
          const builder = new PageTableBuilder(PAGING_4_LEVEL, 2 * MiB);
          const model = new Map<bigint, bigint>();
          pageNumbers.forEach((page, i) => {
            const va = page << 12n;
            const canonical = (va & (1n << 47n)) !== 0n ? va | 0xffff000000000000n : va;
            const pa = 0x100000n + BigInt(i) * 0x1000n;
            builder.map(canonical, pa);
            model.set(canonical, pa);
          });
          const walker = new PageTableWalker(builder.layer, PAGING_4_LEVEL, { maxPages: 3 });
          for (const [va, pa] of model) {
            assert.equal(walker.translateOrThrow(builder.root, va | offset), pa | offset);
          }
          assert.equal([...walker.mappings(builder.root)].length, model.size);
        },
      ),
      { numRuns: 60 },
    );
  });
});
