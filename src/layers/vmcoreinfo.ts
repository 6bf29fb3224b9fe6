import { VmsightError, parseUnsigned } from '../core/index.js';

export interface VmcoreinfoLimits {
  /** Keys kept at most. Default 4,096 (a 6.1 kernel writes about 100). */
  readonly maxEntries?: number;
}

/**
 * The VMCOREINFO note (Linux kernel/vmcore_info.c): `KEY=VALUE` lines such as `OSRELEASE=6.1.0`,
 * `SYMBOL(init_top_pgt)=ffffffff82a10000`, `NUMBER(phys_base)=0`, `KERNELOFFSET=19600000`. Kept in a
 * `Map`, not an object, because keys come from guest memory (no prototype pollution).
 */
export class Vmcoreinfo {
  readonly entries: ReadonlyMap<string, string>;

  constructor(entries: ReadonlyMap<string, string>) {
    this.entries = entries;
  }

  /**
   * Parses the note text. Lines without `=` are skipped (the kernel never writes them; a guest
   * could), and so is anything past a NUL.
   *
   * @example
   * ```ts
   * import { Vmcoreinfo } from './vmcoreinfo.js';
   * const info = Vmcoreinfo.parse(new TextEncoder().encode('SYMBOL(init_top_pgt)=ffffffff82a10000\n'));
   * info.symbol('init_top_pgt'); // 0xffffffff82a10000n
   * ```
   */
  static parse(bytes: Uint8Array, limits: VmcoreinfoLimits = {}): Vmcoreinfo {
    const maxEntries = limits.maxEntries ?? 4096;
    const nul = bytes.indexOf(0);
    const text = Buffer.from(nul < 0 ? bytes : bytes.subarray(0, nul)).toString('latin1');
    const entries = new Map<string, string>();
    for (const line of text.split('\n')) {
      const equals = line.indexOf('=');
      if (equals <= 0) continue;
      if (entries.size >= maxEntries) {
        throw new VmsightError(
          'LIMIT_EXCEEDED',
          `VMCOREINFO holds more than ${maxEntries} entries`,
        );
      }
      entries.set(line.slice(0, equals), line.slice(equals + 1));
    }
    return new Vmcoreinfo(entries);
  }

  get(key: string): string | undefined {
    return this.entries.get(key);
  }

  /** `SYMBOL(name)`: a hex address without `0x`. */
  symbol(name: string): bigint | undefined {
    const value = this.entries.get(`SYMBOL(${name})`);
    return value === undefined ? undefined : parseUnsigned(`0x${value}`);
  }

  /** `NUMBER(name)`: signed decimal (phys_base is negative under KASLR). */
  number(name: string): bigint | undefined {
    const value = this.entries.get(`NUMBER(${name})`);
    return value !== undefined && /^-?[0-9]+$/.test(value) ? BigInt(value) : undefined;
  }

  /** `KERNELOFFSET`: the KASLR slide, hex without `0x`. */
  get kernelOffset(): bigint | undefined {
    const value = this.entries.get('KERNELOFFSET');
    return value === undefined ? undefined : parseUnsigned(`0x${value}`);
  }
}
