import { VmsightError, hex } from '../core/index.js';
import {
  PAGING_4_LEVEL,
  PAGING_5_LEVEL,
  PageTableWalker,
  VirtualLayer,
  type PhysicalLayer,
  type Vmcoreinfo,
} from '../layers/index.js';
import {
  SymbolTable,
  buildIsf,
  decodeKallsyms,
  readIsfFile,
  loadVmlinuxBanners,
  loadVmlinuxBtf,
  type IsfDocument,
  type KallsymsOptions,
  type KallsymsTableAddresses,
  type KernelSymbol,
} from '../symbols/index.js';
import { kernelImagePhysical } from './kaslr.js';
import { profileCacheKey, readCachedProfile, writeCachedProfile } from './profile-cache.js';
import { locateKernelByKallsyms, type ScannedKernel } from './kallsyms-scan-profile.js';
import { scanVmcoreinfo, type VmcoreinfoScanOptions } from './vmcoreinfo-scanner.js';

export interface KernelProfileOptions {
  /** From the dump's note; found by scanning guest memory when absent. */
  readonly vmcoreinfo?: Vmcoreinfo | undefined;
  /** The vmlinux whose BTF gives struct layouts (`--kernel`); must match the guest's banner. */
  readonly kernel?: string | undefined;
  /** vmlinux files tried when `kernel` is absent, used only when their banner matches. */
  readonly candidateKernels?: readonly string[];
  /** An existing ISF (e.g. from dwarf2json) instead of BTF + kallsyms. */
  readonly isf?: string | undefined;
  /** Directory of cached profiles (`.vmsight/profiles`); no caching when absent. */
  readonly cacheDir?: string | undefined;
  readonly kallsyms?: KallsymsOptions;
  /**
   * Ignore VMCOREINFO and find the kernel by scanning memory for the kallsyms tables, as is done
   * automatically when guest memory holds no VMCOREINFO.
   */
  readonly scanKallsyms?: boolean;
  readonly vmcoreinfoScan?: VmcoreinfoScanOptions | undefined;
}

/** Everything a plugin needs to read one guest kernel's objects. */
export interface KernelProfile {
  readonly layer: PhysicalLayer;
  readonly walker: PageTableWalker;
  /** The kernel's address space (init_top_pgt). */
  readonly kernel: VirtualLayer;
  readonly symbols: SymbolTable;
  /** Absent when the profile was found without it (the IDT route, the kallsyms scan). */
  readonly vmcoreinfo: Vmcoreinfo | undefined;
  readonly banner: string;
  readonly buildId: string | undefined;
  /** KASLR slide (KERNELOFFSET) and phys_base. */
  readonly slide: bigint;
  readonly physBase: bigint;
  readonly la57: boolean;
  readonly kernelCr3: bigint;
  /** Where the symbol table came from. */
  readonly source: 'cache' | 'btf+kallsyms' | 'isf' | 'isf+idt';
  /** A process's address space, from its page-table root (physical). */
  addressSpace(cr3: bigint): VirtualLayer;
}

const KALLSYMS_TABLES = {
  names: 'kallsyms_names',
  numSyms: 'kallsyms_num_syms',
  tokenTable: 'kallsyms_token_table',
  tokenIndex: 'kallsyms_token_index',
  offsets: 'kallsyms_offsets',
  relativeBase: 'kallsyms_relative_base',
} as const;
const MAX_BANNER = 1024;

/**
 * Identifies the kernel in guest memory and assembles its profile: VMCOREINFO (note or scan) gives
 * the KASLR slide, phys_base, the kernel page tables (`SYMBOL(init_top_pgt)`), 5-level paging
 * (`NUMBER(pgtable_l5_enabled)`) and the kallsyms tables; kallsyms decoded from memory give symbol
 * addresses (and `linux_banner`); the vmlinux BTF gives struct layouts. The resulting ISF is cached
 * by OSRELEASE + BUILD-ID, and a cached one is used only when its banner equals the one in memory.
 *
 * @example
 * ```ts
 * import { openKernelProfile } from './kernel-profile.js';
 * declare const layer: import('../layers/index.js').PhysicalLayer;
 * const profile = await openKernelProfile(layer, { kernel: 'vmlinux', cacheDir: '.vmsight/profiles' });
 * profile.symbols.address('init_task');
 * ```
 */
export async function openKernelProfile(
  layer: PhysicalLayer,
  options: KernelProfileOptions = {},
): Promise<KernelProfile> {
  const vmcoreinfo =
    options.scanKallsyms === true
      ? undefined
      : (options.vmcoreinfo ?? scanVmcoreinfo(layer, options.vmcoreinfoScan)?.info);
  // Without VMCOREINFO (no CONFIG_CRASH_CORE, or wiped), the kallsyms tables are found by scanning.
  const scanned =
    vmcoreinfo === undefined
      ? locateKernelByKallsyms(layer, { kallsyms: options.kallsyms })
      : undefined;
  const facts = scanned ?? kernelFacts(vmcoreinfo as Vmcoreinfo);
  const { slide, physBase, la57, kernelCr3 } = facts;
  const walker = new PageTableWalker(layer, la57 ? PAGING_5_LEVEL : PAGING_4_LEVEL);
  const kernel = new VirtualLayer(walker, kernelCr3);
  const read = (va: bigint, length: number): Uint8Array => kernel.read(va, length);
  const buildId = vmcoreinfo?.get('BUILD-ID');
  const decodeSymbols = (): KernelSymbol[] =>
    scanned?.symbols ??
    decodeKallsyms(read, kallsymsTables(vmcoreinfo as Vmcoreinfo), options.kallsyms);

  let isf: IsfDocument;
  let source: KernelProfile['source'];
  let banner: string;
  const cacheKey =
    scanned === undefined
      ? profileCacheKey(vmcoreinfo?.get('OSRELEASE') ?? '', buildId ?? '')
      : profileCacheKey('kallsyms-scan', bannerOf(read, scanned.symbols));
  const cached =
    options.isf === undefined && options.kernel === undefined && options.cacheDir !== undefined
      ? await readCachedProfile(options.cacheDir, cacheKey)
      : undefined;
  const cachedBanner = cached === undefined ? undefined : readBanner(read, cached, slide);
  if (cached !== undefined && cachedBanner !== undefined && cachedBanner === isfBanner(cached)) {
    isf = cached;
    source = 'cache';
    banner = cachedBanner;
  } else if (options.isf !== undefined) {
    isf = await readIsfFile(options.isf);
    source = 'isf';
    banner = readBanner(read, isf, slide) ?? '';
  } else {
    const symbols = decodeSymbols();
    banner = bannerOf(read, symbols);
    const vmlinux = await pickKernel(banner, options);
    isf = buildIsf({
      btf: await loadVmlinuxBtf(vmlinux),
      symbols,
      slide,
      banner,
      // No `sources`: Volatility 3 allows only dwarf, symtab and system-map files hashed with
      // sha256 there (isf-validator.ts), and these types come from BTF, these symbols from memory.
    });
    source = 'btf+kallsyms';
    if (options.cacheDir !== undefined) await writeCachedProfile(options.cacheDir, cacheKey, isf);
  }
  return {
    layer,
    walker,
    kernel,
    symbols: new SymbolTable(isf, { slide }),
    vmcoreinfo,
    banner,
    buildId,
    slide,
    physBase,
    la57,
    kernelCr3,
    source,
    addressSpace: (cr3) => new VirtualLayer(walker, cr3),
  };
}

/** The kernel's position from VMCOREINFO (KERNELOFFSET, NUMBER(phys_base), SYMBOL(init_top_pgt)). */
function kernelFacts(
  info: Vmcoreinfo,
): Pick<ScannedKernel, 'slide' | 'physBase' | 'la57' | 'kernelCr3'> {
  const topPgt = info.symbol('init_top_pgt');
  if (topPgt === undefined) {
    throw new VmsightError('NOT_FOUND', 'VMCOREINFO has no SYMBOL(init_top_pgt)');
  }
  const physBase = info.number('phys_base') ?? 0n;
  return {
    slide: info.kernelOffset ?? 0n,
    physBase,
    la57: info.number('pgtable_l5_enabled') === 1n,
    kernelCr3: kernelImagePhysical(topPgt, physBase),
  };
}

function bannerOf(
  read: (va: bigint, n: number) => Uint8Array,
  symbols: readonly KernelSymbol[],
): string {
  const bannerSymbol = symbols.find((s) => s.name === 'linux_banner');
  if (bannerSymbol === undefined) {
    throw new VmsightError('NOT_FOUND', 'kallsyms has no linux_banner symbol');
  }
  return readCString(read, bannerSymbol.address);
}

function kallsymsTables(info: Vmcoreinfo): KallsymsTableAddresses {
  const get = (name: string): bigint => {
    const value = info.symbol(name);
    if (value === undefined) {
      throw new VmsightError(
        'NOT_FOUND',
        `VMCOREINFO has no SYMBOL(${name}): the kernel predates kallsyms in VMCOREINFO`,
      );
    }
    return value;
  };
  return {
    names: get(KALLSYMS_TABLES.names),
    numSyms: get(KALLSYMS_TABLES.numSyms),
    tokenTable: get(KALLSYMS_TABLES.tokenTable),
    tokenIndex: get(KALLSYMS_TABLES.tokenIndex),
    offsets: get(KALLSYMS_TABLES.offsets),
    relativeBase: get(KALLSYMS_TABLES.relativeBase),
  };
}

export function readCString(read: (va: bigint, n: number) => Uint8Array, address: bigint): string {
  const bytes = read(address, MAX_BANNER);
  const end = bytes.indexOf(0);
  return Buffer.from(bytes.subarray(0, end < 0 ? bytes.length : end)).toString('latin1');
}

function readBanner(
  read: (va: bigint, n: number) => Uint8Array,
  isf: IsfDocument,
  slide: bigint,
): string | undefined {
  const address = new SymbolTable(isf, { slide }).address('linux_banner');
  if (address === undefined) return undefined;
  try {
    return readCString(read, address);
  } catch {
    return undefined;
  }
}

function isfBanner(isf: IsfDocument): string | undefined {
  const data = Object.hasOwn(isf.symbols, 'linux_banner')
    ? isf.symbols['linux_banner']?.constant_data
    : undefined;
  if (data === undefined) return undefined;
  const text = Buffer.from(data, 'base64').toString('latin1');
  const end = text.indexOf('\0');
  return end < 0 ? text : text.slice(0, end);
}

async function pickKernel(banner: string, options: KernelProfileOptions): Promise<string> {
  const wanted = banner.trimEnd();
  if (options.kernel !== undefined) {
    if (!(await loadVmlinuxBanners(options.kernel)).some((b) => b.trimEnd() === wanted)) {
      throw new VmsightError(
        'INVALID_ARGUMENT',
        `Kernel "${options.kernel}" does not match the guest: its banner differs from "${wanted}"`,
      );
    }
    return options.kernel;
  }
  for (const candidate of options.candidateKernels ?? []) {
    if ((await loadVmlinuxBanners(candidate)).some((b) => b.trimEnd() === wanted)) return candidate;
  }
  throw new VmsightError(
    'NOT_FOUND',
    `No vmlinux matches the guest kernel "${wanted}": give its vmlinux with --kernel`,
  );
}

/** For messages: a short description of a profile. */
export function describeProfile(profile: KernelProfile): string {
  return `${profile.banner.trim()} (slide ${hex(profile.slide)}, ${profile.la57 ? '5' : '4'}-level paging, symbols from ${profile.source})`;
}

export type { KernelSymbol };
