import { VERSION_FOR_ISF } from './_producer.js';
import { btfToIsfTypes } from './btf-to-isf.js';
import type { BtfGraph } from './btf-types.js';
import {
  ISF_FORMAT_VERSION,
  type IsfDocument,
  type IsfSourceInfo,
  type IsfSymbol,
  type IsfTypeDescriptor,
} from './isf-types.js';
import type { KernelSymbol } from './kallsyms-decoder.js';

const START_KERNEL_MAP = 0xffff_ffff_8000_0000n;

/*
 * C types of kernel variables that plugins (vmsight's and Volatility's) read as objects. kallsyms
 * has addresses but no types, and vmlinux BTF describes only per-cpu variables; these declarations
 * are from the Linux sources (init/init_task.c, init/version.c, arch/x86/kernel/head_64.S).
 */
const KNOWN_VARIABLES: Readonly<Record<string, IsfTypeDescriptor>> = {
  init_task: { kind: 'struct', name: 'task_struct' },
  linux_banner: { kind: 'array', count: 0, subtype: { kind: 'base', name: 'char' } },
  init_top_pgt: { kind: 'array', count: 0, subtype: { kind: 'struct', name: 'pgd_t' } },
  modules: { kind: 'struct', name: 'list_head' },
  init_pid_ns: { kind: 'struct', name: 'pid_namespace' },
  init_mm: { kind: 'struct', name: 'mm_struct' },
};

export interface IsfBuildInput {
  readonly btf: BtfGraph;
  /** Decoded from guest memory: runtime (slid) addresses. */
  readonly symbols: readonly KernelSymbol[];
  /** KASLR slide, subtracted from kernel-image addresses so the ISF holds link-time ones. */
  readonly slide: bigint;
  /** `linux_banner` text, stored as its `constant_data` (Volatility matches kernels by it). */
  readonly banner?: string;
  readonly sources?: readonly IsfSourceInfo[];
}

/**
 * Builds a Volatility 3 ISF document from BTF types and kallsyms addresses.
 *
 * @example
 * ```ts
 * import { buildIsf } from './isf-builder.js';
 * declare const input: import('./isf-builder.js').IsfBuildInput;
 * const isf = buildIsf(input);
 * isf.symbols['init_task']?.address;
 * ```
 */
export function buildIsf(input: IsfBuildInput): IsfDocument {
  const types = btfToIsfTypes(input.btf);
  const symbols: Record<string, IsfSymbol> = Object.create(null) as Record<string, IsfSymbol>;
  const varTypes = new Map<string, number>();
  for (let id = 1; id < input.btf.types.length; id += 1) {
    const type = input.btf.types[id];
    if (type?.kind === 'var') varTypes.set(type.name, type.type);
    else if (type?.kind === 'func') varTypes.set(type.name, -1);
  }
  // Static symbols can share a name; like dwarf2json reading System.map, the last one wins.
  for (const symbol of input.symbols) {
    const address =
      symbol.address >= START_KERNEL_MAP ? symbol.address - input.slide : symbol.address;
    const known = Object.hasOwn(KNOWN_VARIABLES, symbol.name)
      ? KNOWN_VARIABLES[symbol.name]
      : undefined;
    const btfType = varTypes.get(symbol.name);
    const type: IsfTypeDescriptor | undefined =
      known ??
      (btfType === -1
        ? { kind: 'function' }
        : btfType === undefined
          ? undefined
          : describeVar(input.btf, btfType, types));
    symbols[symbol.name] = {
      address,
      ...(type === undefined ? {} : { type }),
      ...(symbol.name === 'linux_banner' && input.banner !== undefined
        ? { constant_data: Buffer.from(`${input.banner}\0`, 'latin1').toString('base64') }
        : {}),
    };
  }
  return {
    metadata: {
      format: ISF_FORMAT_VERSION,
      producer: { name: 'vmsight', version: VERSION_FOR_ISF, datetime: new Date().toISOString() },
      linux: { symbols: input.sources ?? [], types: input.sources ?? [] },
    },
    base_types: types.base_types,
    user_types: types.user_types,
    enums: types.enums,
    symbols,
  };
}

function describeVar(
  btf: BtfGraph,
  id: number,
  types: ReturnType<typeof btfToIsfTypes>,
): IsfTypeDescriptor {
  // Resolve through typedefs/qualifiers to a name the converter emitted.
  let current = id;
  for (let depth = 0; depth < 16; depth += 1) {
    const type = btf.types[current];
    if (type === undefined) break;
    if ((type.kind === 'struct' || type.kind === 'union') && type.name in types.user_types) {
      return { kind: type.kind, name: type.name };
    }
    if (type.kind === 'typedef' && type.name in types.user_types) {
      return { kind: 'struct', name: type.name };
    }
    if ((type.kind === 'int' || type.kind === 'float') && type.name in types.base_types) {
      return { kind: 'base', name: type.name };
    }
    if (type.kind === 'ptr') return { kind: 'pointer', subtype: { kind: 'base', name: 'void' } };
    if (
      type.kind === 'typedef' ||
      type.kind === 'const' ||
      type.kind === 'volatile' ||
      type.kind === 'restrict' ||
      type.kind === 'type_tag'
    ) {
      current = type.type;
      continue;
    }
    break;
  }
  return { kind: 'base', name: 'void' };
}
