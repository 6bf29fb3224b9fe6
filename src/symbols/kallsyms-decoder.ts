import { ByteReader, VmsightError, hex } from '../core/index.js';

/** Reads `length` bytes of kernel virtual memory at `address`; throws when unmapped. */
export type KernelMemoryReader = (address: bigint, length: number) => Uint8Array;

/** Where the kallsyms tables are: VMCOREINFO `SYMBOL(kallsyms_*)` entries (runtime addresses). */
export interface KallsymsTableAddresses {
  readonly names: bigint;
  readonly numSyms: bigint;
  readonly tokenTable: bigint;
  readonly tokenIndex: bigint;
  readonly offsets: bigint;
  readonly relativeBase: bigint;
}

export interface KallsymsOptions {
  /** Symbols decoded at most. Default 2,000,000 (the Debian 6.1 kernel has 94,266). */
  readonly maxSymbols?: number;
  /** Longest expanded name. Default 1,024 (KSYM_NAME_LEN is 512 in 6.1). */
  readonly maxNameLength?: number;
  /** Bytes of the token table read at most. Default 64 KiB (about 1 KiB in practice). */
  readonly maxTokenTableBytes?: number;
  /**
   * CONFIG_KALLSYMS_ABSOLUTE_PERCPU (x86-64 SMP kernels): non-negative offsets are absolute values
   * (per-cpu symbols), negative ones are relative to `kallsyms_relative_base - 1`. Default true.
   */
  readonly absolutePercpu?: boolean;
}

export interface KernelSymbol {
  readonly name: string;
  /** The type letter `nm` gives (T, t, D, …). */
  readonly type: string;
  readonly address: bigint;
}

const CHUNK = 64 * 1024;
const U64 = (1n << 64n) - 1n;

/** Sequential reads of a table whose end is unknown until it is decoded. */
class ChunkedReader {
  #read: KernelMemoryReader;
  #base: bigint;
  #chunkStart = -1;
  #chunk: Uint8Array = new Uint8Array(0);

  constructor(read: KernelMemoryReader, base: bigint) {
    this.#read = read;
    this.#base = base;
  }

  byte(offset: number): number {
    if (offset < this.#chunkStart || offset >= this.#chunkStart + this.#chunk.length) {
      this.#chunkStart = offset - (offset % CHUNK);
      const address = this.#base + BigInt(this.#chunkStart);
      try {
        this.#chunk = this.#read(address, CHUNK);
      } catch {
        // The table may end just before unmapped memory: read only up to the page's end.
        this.#chunkStart = offset;
        const at = this.#base + BigInt(offset);
        this.#chunk = this.#read(at, 4096 - Number(at & 0xfffn));
      }
    }
    const value = this.#chunk[offset - this.#chunkStart];
    if (value === undefined) throw new RangeError(`Cannot read byte ${offset} of the table`);
    return value;
  }
}

/**
 * Decodes the kernel's compressed symbol table (kernel/kallsyms.c, scripts/kallsyms.c of Linux 6.1)
 * from guest memory: `kallsyms_names` holds, per symbol, a length byte (6.1: when bit 7 is set, the
 * length is `(b0 & 0x7f) | (b1 << 7)`, the "big symbol" form) and that many token indexes; each
 * index expands through `kallsyms_token_index` (256 × u16) into `kallsyms_token_table`
 * (NUL-terminated strings). The first expanded character is the `nm` type letter. Addresses come
 * from `kallsyms_offsets` (s32 each) and `kallsyms_relative_base` (kallsyms_sym_address()).
 *
 * All counts and lengths are read from guest memory and bounded by `options`.
 *
 * @example
 * ```ts
 * import { decodeKallsyms } from './kallsyms-decoder.js';
 * declare const read: (va: bigint, n: number) => Uint8Array;
 * declare const tables: import('./kallsyms-decoder.js').KallsymsTableAddresses;
 * const symbols = decodeKallsyms(read, tables);
 * symbols.find((s) => s.name === 'init_task')?.address;
 * ```
 */
export function decodeKallsyms(
  read: KernelMemoryReader,
  tables: KallsymsTableAddresses,
  options: KallsymsOptions = {},
): KernelSymbol[] {
  try {
    return decode(read, tables, options);
  } catch (error) {
    if (error instanceof VmsightError && error.code !== 'INVALID_ADDRESS') throw error;
    throw new VmsightError('INVALID_INPUT', `Cannot decode kallsyms: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function decode(
  read: KernelMemoryReader,
  tables: KallsymsTableAddresses,
  options: KallsymsOptions,
): KernelSymbol[] {
  const maxSymbols = options.maxSymbols ?? 2_000_000;
  const maxNameLength = options.maxNameLength ?? 1024;
  const maxTokenTableBytes = options.maxTokenTableBytes ?? 64 * 1024;
  const absolutePercpu = options.absolutePercpu ?? true;

  // kallsyms_num_syms is attacker-controlled: bound it before sizing any read by it.
  const count = new ByteReader(read(tables.numSyms, 4)).u32le();
  if (count > maxSymbols) {
    throw new VmsightError(
      'LIMIT_EXCEEDED',
      `Cannot decode kallsyms: kallsyms_num_syms at ${hex(tables.numSyms)} is ${count}, more than ${maxSymbols}`,
    );
  }
  const tokens = readTokens(read, tables, maxTokenTableBytes);
  const offsets = new ByteReader(read(tables.offsets, count * 4));
  const relativeBase = new ByteReader(read(tables.relativeBase, 8)).u64le();
  const names = new ChunkedReader(read, tables.names);

  const symbols: KernelSymbol[] = [];
  let position = 0;
  for (let index = 0; index < count; index += 1) {
    let length = names.byte(position);
    position += 1;
    if ((length & 0x80) !== 0) {
      length = (length & 0x7f) | (names.byte(position) << 7);
      position += 1;
    }
    let text = '';
    for (let i = 0; i < length; i += 1) {
      text += tokens[names.byte(position + i)] ?? '';
      if (text.length > maxNameLength + 1) {
        throw new VmsightError(
          'LIMIT_EXCEEDED',
          `Cannot decode kallsyms: symbol ${index} is longer than ${maxNameLength} characters`,
        );
      }
    }
    position += length;
    const offset = offsets.i32le();
    let address: bigint;
    if (!absolutePercpu) address = (relativeBase + BigInt(offset >>> 0)) & U64;
    else if (offset >= 0) address = BigInt(offset);
    else address = (relativeBase - 1n - BigInt(offset)) & U64;
    symbols.push({ name: text.slice(1), type: text.slice(0, 1), address });
  }
  return symbols;
}

function readTokens(
  read: KernelMemoryReader,
  tables: KallsymsTableAddresses,
  maxBytes: number,
): string[] {
  const index = new ByteReader(read(tables.tokenIndex, 512));
  const starts: number[] = [];
  for (let i = 0; i < 256; i += 1) starts.push(index.u16le());
  const span = Math.min(Math.max(...starts) + 256, maxBytes);
  const table = read(tables.tokenTable, span);
  return starts.map((start, token) => {
    if (start >= table.length) {
      throw new VmsightError(
        'INVALID_INPUT',
        `Cannot decode kallsyms: token ${token} starts at ${start}, past the token table`,
      );
    }
    const end = table.indexOf(0, start);
    if (end < 0) {
      throw new VmsightError(
        'INVALID_INPUT',
        `Cannot decode kallsyms: token ${token} has no NUL terminator`,
      );
    }
    return Buffer.from(table.subarray(start, end)).toString('latin1');
  });
}
