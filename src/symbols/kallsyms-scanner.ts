import type { PhysicalLayer } from '../layers/index.js';
import type { KallsymsTableAddresses } from './kallsyms-decoder.js';

export interface KallsymsScanOptions {
  /** Physical bytes scanned at most. Default 64 GiB. */
  readonly maxScanBytes?: bigint;
  /** Bytes read per step. Default 16 MiB. */
  readonly chunkBytes?: number;
  /** Symbols accepted at most (bounds the markers and names walked). Default 2,000,000. */
  readonly maxSymbols?: number;
  /**
   * Token tables examined further at most: each costs a read of up to 6 MB behind it, so a guest
   * that fakes many is cut off. Default 64 (a kernel has one; stale copies in free memory, a few).
   */
  readonly maxCandidates?: number;
  /** Longest encoded symbol in `kallsyms_names` (length bytes + tokens). Default 514 (KSYM_NAME_LEN + 2). */
  readonly maxEncodedLength?: number;
}

/** The tables found, as physical addresses, and where the scan stopped. */
export interface KallsymsScanResult {
  /** Physical addresses of the tables (feed them to decodeKallsyms with a physical reader). */
  readonly tables: KallsymsTableAddresses;
  readonly numSyms: number;
}

const TOKENS = 256;
/** A token is at least one character plus its NUL; the longest in practice are about 15 bytes. */
const MAX_TOKEN_BYTES = 128;
/** kallsyms_names read at most: the Debian 6.1 table is about 1.5 MB. */
const MAX_NAMES_BYTES = 64 * 1024 * 1024;
const KERNEL_SPACE = 0xffff_8000_0000_0000n;

/**
 * Finds the kernel's compressed symbol tables in guest physical memory without VMCOREINFO, from
 * their structure and their order in `.rodata`. scripts/kallsyms.c of Linux 6.1 emits, each label
 * aligned to 8 bytes: `kallsyms_offsets` (s32 × n), `kallsyms_relative_base` (u64),
 * `kallsyms_num_syms` (u32), `kallsyms_names`, `kallsyms_markers` (one entry per 256 symbols),
 * `kallsyms_token_table` (256 NUL-terminated strings), `kallsyms_token_index` (256 × u16 offsets
 * into the token table). The kernel image is physically contiguous, so the tables are found by:
 *
 * 1. a token index: 256 strictly increasing u16 starting at 0, whose token table (just before it)
 *    has a NUL exactly before each next offset;
 * 2. the markers, just before the token table: increasing offsets into `kallsyms_names` from 0;
 * 3. the names: a start whose preceding `num_syms` fits the marker count and from which the
 *    encoded lengths land on every marker and end at the markers.
 *
 * Every count and length read from memory is bounded. Returns undefined when nothing matches.
 *
 * @example
 * ```ts
 * import { scanKallsymsTables } from './kallsyms-scanner.js';
 * import { decodeKallsyms } from './kallsyms-decoder.js';
 * declare const layer: import('../layers/index.js').PhysicalLayer;
 * const found = scanKallsymsTables(layer);
 * if (found) decodeKallsyms((pa, n) => layer.read(pa, n), found.tables);
 * ```
 */
export function scanKallsymsTables(
  layer: PhysicalLayer,
  options: KallsymsScanOptions = {},
): KallsymsScanResult | undefined {
  const maxScan = options.maxScanBytes ?? 64n << 30n;
  const chunk = options.chunkBytes ?? 16 * 1024 * 1024;
  const budget = { candidates: options.maxCandidates ?? 64 };
  let scanned = 0n;
  for (const range of layer.ranges) {
    const first = (range.start + 7n) & ~7n;
    for (let start = first; start < range.start + range.length; start += BigInt(chunk)) {
      if (scanned >= maxScan) return undefined;
      const left = range.start + range.length - start;
      const length = Number(left < BigInt(chunk) ? left : BigInt(chunk));
      scanned += BigInt(length);
      const bytes = Uint8Array.from(layer.read(start, length)); // a copy: aligned for the views
      const halves = new Uint16Array(bytes.buffer, 0, Math.floor(length / 8) * 4);
      for (let h = 0; h < halves.length; h += 4) {
        if (halves[h] !== 0 || !increasingInChunk(halves, h)) continue;
        const found = checkCandidate(layer, start + BigInt(h * 2), options, budget);
        if (found !== undefined || budget.candidates <= 0) return found;
      }
    }
  }
  return undefined;
}

/** A cheap first test in the chunk: kallsyms_token_index steps by a token's length + 1. */
function increasingInChunk(halves: Uint16Array, h: number): boolean {
  const end = Math.min(h + TOKENS, halves.length);
  for (let k = h + 1; k < end; k += 1) {
    const step = (halves[k] as number) - (halves[k - 1] as number);
    if (step < 2 || step > MAX_TOKEN_BYTES) return false;
  }
  return true;
}

function readOrUndefined(
  layer: PhysicalLayer,
  address: bigint,
  length: number,
): Buffer | undefined {
  if (address < 0n || !layer.isValid(address, length)) return undefined;
  try {
    const bytes = layer.read(address, length);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch {
    return undefined;
  }
}

function checkCandidate(
  layer: PhysicalLayer,
  tokenIndex: bigint,
  options: KallsymsScanOptions,
  budget: { candidates: number },
): KallsymsScanResult | undefined {
  const indexBytes = readOrUndefined(layer, tokenIndex, TOKENS * 2);
  if (indexBytes === undefined) return undefined;
  const index: number[] = [];
  for (let i = 0; i < TOKENS; i += 1) {
    const value = indexBytes.readUInt16LE(i * 2);
    const step = value - (index[i - 1] ?? -2);
    if (i > 0 && (step < 2 || step > MAX_TOKEN_BYTES)) return undefined;
    index.push(value);
  }
  const tokenTable = findTokenTable(layer, tokenIndex, index);
  if (tokenTable === undefined) return undefined;
  budget.candidates -= 1;
  for (const markers of markerCandidates(layer, tokenTable, options)) {
    const found = findNames(layer, tokenTable, tokenIndex, markers, options);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The token table ends, NUL-padded to 8 bytes, where the index begins: tries each 8-aligned start
 * that leaves room for the last token and checks a NUL before every next offset and none inside.
 */
function findTokenTable(
  layer: PhysicalLayer,
  tokenIndex: bigint,
  index: readonly number[],
): bigint | undefined {
  const last = index[TOKENS - 1] as number;
  const span = last + MAX_TOKEN_BYTES + 8;
  const base = tokenIndex - BigInt(span);
  const bytes = readOrUndefined(layer, base, span);
  if (bytes === undefined) return undefined;
  // Table start t (relative to base): t + last + 2 <= span, t ≡ base (mod 8) aligned to 8.
  const alignment = Number(base & 7n);
  for (let t = span - last - 2; t >= 0; t -= 1) {
    if ((t + alignment) % 8 !== 0) continue;
    if (!tokensFit(bytes, t, index)) continue;
    return base + BigInt(t);
  }
  return undefined;
}

function tokensFit(bytes: Buffer, t: number, index: readonly number[]): boolean {
  for (let i = 0; i < TOKENS; i += 1) {
    const from = t + (index[i] as number);
    const to = i + 1 < TOKENS ? t + (index[i + 1] as number) - 1 : bytes.indexOf(0, from);
    if (to < 0 || to - from < 1 || bytes[to] !== 0) return false;
    for (let at = from; at < to; at += 1) {
      const c = bytes[at] as number;
      if (c < 0x20 || c > 0x7e) return false;
    }
    // After the last token only padding NULs, fewer than 8, reach the index.
    if (i === TOKENS - 1) {
      const rest = bytes.subarray(to, bytes.length);
      if (rest.length > 8 || rest.some((b) => b !== 0)) return false;
    }
  }
  return true;
}

interface Markers {
  readonly start: bigint;
  readonly values: readonly number[];
}

/**
 * `kallsyms_markers` (u32 entries in 6.1, pointer-sized before 4.20) ends, padded to 8, either
 * right before the token table or before `kallsyms_seqs_of_names` (3 bytes per symbol, added in
 * 6.2 and backported to Debian's 6.1). It starts at 0 and grows by one block of 256 encoded names
 * per entry (at least 2 bytes each, at most `maxEncodedLength`). Walking back from the token
 * table, the first 8-aligned run that fits, with the gap left being nothing or the seqs table of a
 * symbol count the markers allow, is taken; findNames() then checks it against the names.
 */
function* markerCandidates(
  layer: PhysicalLayer,
  tokenTable: bigint,
  options: KallsymsScanOptions,
): Generator<Markers> {
  const maxSymbols = options.maxSymbols ?? 2_000_000;
  const maxEncoded = options.maxEncodedLength ?? 514;
  const maxMarkers = Math.ceil(maxSymbols / 256) + 1;
  // Back from the token table, no further than its memory range's 8-aligned start.
  const range = layer.ranges.find((r) => r.start <= tokenTable && tokenTable < r.start + r.length);
  const floor = range === undefined ? tokenTable : (range.start + 7n) & ~7n;
  const room = Number(tokenTable - floor);
  const span = Math.min(3 * maxSymbols + 8 * maxMarkers + 16, room - (room % 8));
  const base = tokenTable - BigInt(span);
  const bytes = readOrUndefined(layer, base, span);
  if (bytes === undefined) return;
  for (const width of [4, 8] as const) {
    const word = (at: number): number =>
      width === 4 ? bytes.readUInt32LE(at) : Number(bytes.readBigUInt64LE(at));
    for (let m = span - 8; m >= 0; m -= 8) {
      if (word(m) !== 0 || m + 2 * width > span) continue;
      const values = [0];
      for (let at = m + width; at + width <= span && values.length < maxMarkers; at += width) {
        const step = word(at) - (values[values.length - 1] as number);
        if (step < 512 || step > 256 * maxEncoded) break;
        values.push(word(at));
      }
      for (let count = values.length; count >= 2; count -= 1) {
        const end = m + count * width;
        const gap = span - (end + ((8 - (end % 8)) % 8));
        const seqs = (n: number): number => (3 * n + 7) & ~7;
        const fits = gap === 0 || (gap >= seqs((count - 1) * 256 + 1) && gap <= seqs(count * 256));
        if (fits) yield { start: base + BigInt(m), values: values.slice(0, count) };
      }
    }
  }
}

/**
 * `kallsyms_names` ends (padded to 8) where the markers start, and `kallsyms_num_syms` sits 8
 * bytes before it, after `kallsyms_relative_base`. Each 8-aligned start that could hold the last
 * marker's block is tried; the one whose encoded lengths land on every marker wins.
 */
function findNames(
  layer: PhysicalLayer,
  tokenTable: bigint,
  tokenIndex: bigint,
  markers: Markers,
  options: KallsymsScanOptions,
): KallsymsScanResult | undefined {
  const maxEncoded = options.maxEncodedLength ?? 514;
  const count = markers.values.length;
  const lastMarker = markers.values[count - 1] as number;
  if (lastMarker > Math.min(count * 256 * maxEncoded, MAX_NAMES_BYTES)) return undefined;
  const latest = markers.start - BigInt(lastMarker) - 1n;
  const earliest = latest - BigInt(256 * maxEncoded);
  for (let names = latest & ~7n; names >= earliest && names >= 16n; names -= 8n) {
    const head = readOrUndefined(layer, names - 16n, 16);
    if (head === undefined) continue;
    const relativeBase = head.readBigUInt64LE(0);
    const numSyms = head.readUInt32LE(8);
    if (relativeBase < KERNEL_SPACE || head.readUInt32LE(12) !== 0) continue;
    if (numSyms <= (count - 1) * 256 || numSyms > count * 256) continue;
    if (!namesLandOnMarkers(layer, names, markers, numSyms)) continue;
    const offsets = (names - 16n - BigInt(numSyms * 4)) & ~7n;
    return {
      tables: {
        names,
        numSyms: names - 8n,
        tokenTable,
        tokenIndex,
        offsets,
        relativeBase: names - 16n,
      },
      numSyms,
    };
  }
  return undefined;
}

function namesLandOnMarkers(
  layer: PhysicalLayer,
  names: bigint,
  markers: Markers,
  numSyms: number,
): boolean {
  const size = Number(markers.start - names);
  const bytes = readOrUndefined(layer, names, size);
  if (bytes === undefined) return false;
  let position = 0;
  for (let symbol = 0; symbol < numSyms; symbol += 1) {
    if (symbol % 256 === 0 && markers.values[symbol / 256] !== position) return false;
    if (position >= size) return false;
    let length = bytes[position] as number;
    position += 1;
    if ((length & 0x80) !== 0) {
      length = (length & 0x7f) | ((bytes[position] ?? 0) << 7);
      position += 1;
    }
    if (length === 0) return false;
    position += length;
  }
  return position <= size && size - position < 8;
}
