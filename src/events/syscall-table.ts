import { I386_SYSCALLS } from './_syscalls-i386.js';
import { X86_64_SYSCALLS } from './_syscalls-x86-64.js';

/**
 * System-call ABIs vmsight names. The same number means different calls in each: ADFA-LD's 252 is
 * i386 `exit_group`, x86-64 252 is `ioprio_get`.
 *
 * @example
 * ```ts
 * const abi: SyscallAbi = SyscallAbi.I386; // 'i386', the ABI of ADFA-LD
 * ```
 */
export const SyscallAbi = { X86_64: 'x86-64', I386: 'i386' } as const;
export type SyscallAbi = (typeof SyscallAbi)[keyof typeof SyscallAbi];

/**
 * Every ABI, for validation and iteration.
 *
 * @example
 * ```ts
 * SYSCALL_ABIS.includes('x86-64'); // true
 * ```
 */
export const SYSCALL_ABIS: readonly SyscallAbi[] = Object.values(SyscallAbi);

/**
 * Name <-> number mapping for one ABI, built from the kernel's UAPI headers by
 * `scripts/generate-syscall-tables.mjs`.
 *
 * @example
 * ```ts
 * import { SyscallTable } from './syscall-table.js';
 * const i386 = SyscallTable.for('i386');
 * i386.name(252); // 'exit_group'
 * i386.number('stat64'); // 195
 * ```
 */
export class SyscallTable {
  readonly abi: SyscallAbi;
  readonly #names: readonly (string | undefined)[];
  readonly #numbers: ReadonlyMap<string, number>;

  private constructor(abi: SyscallAbi, entries: readonly (readonly [number, string])[]) {
    this.abi = abi;
    const names: (string | undefined)[] = [];
    const numbers = new Map<string, number>();
    for (const [nr, name] of entries) {
      names[nr] = name;
      numbers.set(name, nr);
    }
    this.#names = names;
    this.#numbers = numbers;
  }

  static #cache = new Map<SyscallAbi, SyscallTable>();

  /** The (cached) table of an ABI. */
  static for(abi: SyscallAbi): SyscallTable {
    let table = SyscallTable.#cache.get(abi);
    if (table === undefined) {
      table = new SyscallTable(abi, abi === 'x86-64' ? X86_64_SYSCALLS : I386_SYSCALLS);
      SyscallTable.#cache.set(abi, table);
    }
    return table;
  }

  /** The call's name, or `undefined` when the number is not a system call of this ABI. */
  name(nr: number): string | undefined {
    // Number.isInteger guards against `names[-1]` and fractional indexes from untrusted input.
    return Number.isInteger(nr) && nr >= 0 ? this.#names[nr] : undefined;
  }

  /** The call's number, or `undefined` when the name is not a system call of this ABI. */
  number(name: string): number | undefined {
    return this.#numbers.get(name);
  }

  /** How many calls the table names. */
  get size(): number {
    return this.#numbers.size;
  }
}

/**
 * Parses an ABI name as users and file headers write it (`x86-64`, `x86_64`, `amd64`, `i386`,
 * `i686`, `x86`); `undefined` for anything else.
 *
 * @example
 * ```ts
 * import { parseSyscallAbi } from './syscall-table.js';
 * parseSyscallAbi('x86_64'); // 'x86-64'
 * ```
 */
export function parseSyscallAbi(text: string): SyscallAbi | undefined {
  switch (text.toLowerCase()) {
    case 'x86-64':
    case 'x86_64':
    case 'amd64':
      return 'x86-64';
    case 'i386':
    case 'i686':
    case 'x86':
      return 'i386';
    default:
      return undefined;
  }
}
