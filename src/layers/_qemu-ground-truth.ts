/**
 * Helpers for the tests that check vmsight's memory view against QEMU's own (HMP `gva2gpa`, `xp`,
 * `info registers`) on a real lab guest. Test support only: not exported from the folder.
 */
import type { PageTableWalker } from './page-table-walker.js';

/** What these helpers need of a QMP client. */
export interface HmpChannel {
  hmp(commandLine: string): Promise<string>;
}

export interface CpuControl {
  readonly cr3: bigint;
  readonly cr4: bigint;
}

/** CR3 and CR4 from HMP `info registers` (`CR0=80050033 CR2=… CR3=0000000002a10000 CR4=00751ef0`). */
export function parseInfoRegisters(text: string): CpuControl {
  const cr3 = /CR3=([0-9a-f]+)/i.exec(text)?.[1];
  const cr4 = /CR4=([0-9a-f]+)/i.exec(text)?.[1];
  if (cr3 === undefined || cr4 === undefined)
    throw new Error(`No CR3/CR4 in: ${text.slice(0, 200)}`);
  return { cr3: BigInt(`0x${cr3}`), cr4: BigInt(`0x${cr4}`) };
}

/** HMP `gva2gpa`: the physical address, or `undefined` for "Unmapped". */
export async function gva2gpa(qmp: HmpChannel, va: bigint): Promise<bigint | undefined> {
  const out = await qmp.hmp(`gva2gpa 0x${va.toString(16)}`);
  // QEMU prints with "%#" PRIx64, which writes zero as "0", not "0x0".
  const gpa = /gpa: (0x[0-9a-f]+|0)\s/i.exec(out)?.[1];
  if (gpa !== undefined) return BigInt(gpa);
  if (/Unmapped/i.test(out)) return undefined;
  throw new Error(`Unexpected gva2gpa output for 0x${va.toString(16)}: ${out}`);
}

/** HMP `gva2gpa` for many addresses, `window` requests in flight at a time. */
export async function gva2gpaMany(
  qmp: HmpChannel,
  addresses: readonly bigint[],
  window = 64,
): Promise<(bigint | undefined)[]> {
  const results: (bigint | undefined)[] = [];
  for (let i = 0; i < addresses.length; i += window) {
    results.push(
      ...(await Promise.all(addresses.slice(i, i + window).map((va) => gva2gpa(qmp, va)))),
    );
  }
  return results;
}

/** HMP `xp /Ngx PA`: `N` little-endian quadwords of physical memory, as bytes. */
export async function xp(qmp: HmpChannel, pa: bigint, quadwords: number): Promise<Uint8Array> {
  const out = await qmp.hmp(`xp /${quadwords}gx 0x${pa.toString(16)}`);
  const bytes = Buffer.alloc(quadwords * 8);
  let index = 0;
  for (const line of out.split('\n')) {
    const values = line.split(':')[1]?.trim().split(/\s+/) ?? [];
    for (const value of values) {
      if (!/^0x[0-9a-f]+$/i.test(value)) continue;
      bytes.writeBigUInt64LE(BigInt(value), index * 8);
      index += 1;
    }
  }
  if (index !== quadwords) throw new Error(`xp gave ${index} of ${quadwords} values: ${out}`);
  return new Uint8Array(bytes);
}

export type AddressCategory =
  'kernel-text' | 'direct-map' | 'vmalloc-and-other-kernel' | 'user' | 'random' | 'near-mapping';

export interface SampledAddress {
  readonly va: bigint;
  readonly category: AddressCategory;
}

/** A small deterministic generator (xorshift64*), so a failing run can be repeated. */
export function randomBigints(seed: bigint): () => bigint {
  let state = seed || 1n;
  const mask = (1n << 64n) - 1n;
  return () => {
    state ^= state >> 12n;
    state ^= (state << 25n) & mask;
    state ^= state >> 27n;
    return (state * 0x2545f4914f6cdd1dn) & mask;
  };
}

export interface SampleLayout {
  readonly cr3: bigint;
  readonly ramBytes: bigint;
  /** Start of the kernel direct map: 0xffff888000000000 (4-level) or 0xff11000000000000 (5-level). */
  readonly directMap: bigint;
  /** Canonical split: 1 << 47 (4-level) or 1 << 56 (5-level). */
  readonly userEnd: bigint;
  readonly kernelText: bigint;
  readonly extra?: readonly bigint[];
}

/**
 * At least `total` addresses over kernel text, the direct map (part of it past the end of RAM, so
 * unmapped), other kernel mappings (vmalloc, vmemmap, fixmap, modules), user mappings of the
 * current process, pages next to mappings, and random 64-bit values (mostly unmapped or
 * non-canonical). Mappings are found with the walker under test, then every address is checked
 * against QEMU, mapped or not.
 */
export function sampleAddresses(
  walker: PageTableWalker,
  layout: SampleLayout,
  total = 10_500,
): SampledAddress[] {
  const next = randomBigints(0x5eed_cafe_f00dn);
  const out: SampledAddress[] = (layout.extra ?? []).map((va) => ({
    va,
    category: 'kernel-text' as const,
  }));
  const within = (start: bigint, span: bigint): bigint => start + (next() % span);
  for (let i = 0; i < 2000; i += 1)
    out.push({ va: within(layout.kernelText, 48n << 20n), category: 'kernel-text' });
  for (let i = 0; i < 2500; i += 1) {
    out.push({ va: within(layout.directMap, (layout.ramBytes * 5n) / 4n), category: 'direct-map' });
  }
  const kernelStart = (1n << 64n) - layout.userEnd;
  const isOther = (va: bigint): boolean =>
    va < layout.directMap ||
    (va >= layout.directMap + (1n << 40n) && va < layout.kernelText - (1n << 30n));
  const other = [...walker.mappings(layout.cr3, { start: kernelStart })].filter((m) =>
    isOther(m.virtual),
  );
  const user = [...walker.mappings(layout.cr3, { end: layout.userEnd })];
  const fromMappings = (mappings: typeof user, count: number, category: AddressCategory): void => {
    if (mappings.length === 0) return;
    for (let i = 0; i < count; i += 1) {
      const mapping = mappings[Number(next() % BigInt(mappings.length))];
      if (mapping === undefined) continue;
      out.push({ va: within(mapping.virtual, BigInt(mapping.size)), category });
    }
  };
  fromMappings(other, 2000, 'vmalloc-and-other-kernel');
  fromMappings(user, 2000, 'user');
  for (const mapping of [...other, ...user].slice(0, 400)) {
    out.push({
      va: mapping.virtual + BigInt(mapping.size) + (next() & 0xfffn),
      category: 'near-mapping',
    });
    if (mapping.virtual >= 0x1000n) {
      out.push({ va: mapping.virtual - 0x1000n + (next() & 0xfffn), category: 'near-mapping' });
    }
  }
  // Random canonical addresses (either half) walk deep before failing; raw 64-bit values are
  // mostly non-canonical.
  while (out.length < total) {
    const half = next() % layout.userEnd;
    const kind = out.length % 3;
    out.push({
      va: kind === 0 ? next() : kind === 1 ? half : (1n << 64n) - 1n - half,
      category: 'random',
    });
  }
  return out.map((a) => ({ ...a, va: a.va & ((1n << 64n) - 1n) }));
}
