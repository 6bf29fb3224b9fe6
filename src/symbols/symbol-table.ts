import { VmsightError } from '../core/index.js';
import type { IsfDocument, IsfField, IsfTypeDescriptor } from './isf-types.js';

/** Anonymous members nest rarely more than 3 deep in Linux structs. */
const MAX_ANONYMOUS_DEPTH = 8;
/** Kernel-image addresses (__START_KERNEL_map and up, arch/x86/include/asm/page_64_types.h) slide with KASLR. */
const START_KERNEL_MAP = 0xffff_ffff_8000_0000n;

export interface ResolvedMember {
  readonly offset: number;
  readonly type: IsfTypeDescriptor;
}

const hasOwn = (record: object, key: string): boolean => Object.hasOwn(record, key);

/**
 * Struct layouts and symbol addresses for one kernel, over an ISF document, with the KASLR slide
 * applied to kernel-image symbols. Member lookups go through anonymous sub-structs and unions, as C
 * does. Names come from files and guest memory, so lookups use own properties only.
 *
 * @example
 * ```ts
 * import { SymbolTable } from './symbol-table.js';
 * declare const isf: import('./isf-types.js').IsfDocument;
 * const table = new SymbolTable(isf, { slide: 0n });
 * table.offsetOf('task_struct', 'comm'); // 2976 on Debian 6.1.0-56
 * table.address('init_task');
 * ```
 */
export class SymbolTable {
  readonly isf: IsfDocument;
  readonly slide: bigint;
  readonly #members = new Map<string, ResolvedMember | null>();

  constructor(isf: IsfDocument, options: { readonly slide?: bigint } = {}) {
    this.isf = isf;
    this.slide = options.slide ?? 0n;
  }

  /** The runtime address of a symbol (slid when it is in the kernel image), or undefined. */
  address(name: string): bigint | undefined {
    if (!hasOwn(this.isf.symbols, name)) return undefined;
    const symbol = this.isf.symbols[name];
    if (symbol === undefined) return undefined;
    return symbol.address >= START_KERNEL_MAP
      ? (symbol.address + this.slide) & 0xffff_ffff_ffff_ffffn
      : symbol.address;
  }

  requireAddress(name: string): bigint {
    const address = this.address(name);
    if (address === undefined) {
      throw new VmsightError('NOT_FOUND', `Symbol "${name}" is not in the symbol table`);
    }
    return address;
  }

  hasType(name: string): boolean {
    return hasOwn(this.isf.user_types, name);
  }

  sizeOf(typeName: string): number {
    if (!hasOwn(this.isf.user_types, typeName)) {
      throw new VmsightError('NOT_FOUND', `Type "${typeName}" is not in the symbol table`);
    }
    return this.isf.user_types[typeName]?.size ?? 0;
  }

  /** The member's offset and type, searching anonymous members; undefined when absent. */
  member(typeName: string, memberName: string): ResolvedMember | undefined {
    const key = `${typeName}\u0000${memberName}`;
    let found = this.#members.get(key);
    if (found === undefined) {
      found = this.#find(typeName, memberName, 0) ?? null;
      this.#members.set(key, found);
    }
    return found ?? undefined;
  }

  /** The byte offset of `memberName` in `typeName`; throws `NOT_FOUND` when absent. */
  offsetOf(typeName: string, memberName: string): number {
    const found = this.member(typeName, memberName);
    if (found === undefined) {
      throw new VmsightError(
        'NOT_FOUND',
        `Type "${typeName}" has no member "${memberName}" in the symbol table`,
      );
    }
    return found.offset;
  }

  #find(typeName: string, memberName: string, depth: number): ResolvedMember | undefined {
    if (depth > MAX_ANONYMOUS_DEPTH || !hasOwn(this.isf.user_types, typeName)) return undefined;
    const fields = this.isf.user_types[typeName]?.fields;
    if (fields === undefined) return undefined;
    if (hasOwn(fields, memberName)) {
      const field = fields[memberName] as IsfField;
      return { offset: field.offset, type: field.type };
    }
    for (const name of Object.keys(fields)) {
      const field = fields[name];
      if (field?.anonymous !== true) continue;
      const inner = field.type;
      if (inner.kind !== 'struct' && inner.kind !== 'union') continue;
      const found = this.#find(inner.name, memberName, depth + 1);
      if (found !== undefined) return { offset: field.offset + found.offset, type: found.type };
    }
    return undefined;
  }
}
