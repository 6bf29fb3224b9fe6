import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QmpClient } from '../connectors/index.js';
import { VmsightError } from '../core/index.js';
import { labPaths, vmsightHome } from '../lab/index.js';
import { openElfCore, type PhysicalLayer, type Vmcoreinfo } from '../layers/index.js';
import {
  checkRequirements,
  lsmodPlugin,
  lsofPlugin,
  mapsPlugin,
  sockstatPlugin,
  psauxPlugin,
  psxviewPlugin,
  pslistPlugin,
  pstreePlugin,
  type LinuxPlugin,
  type PluginColumn,
} from '../plugins/index.js';
import {
  openKernelProfile,
  openKernelProfileFromIdt,
  scanVmcoreinfo,
  type CpuControlState,
  type KernelProfile,
} from '../profiles/index.js';
import { writeIsfFile, type IntrospectionWarning } from '../symbols/index.js';
import { openVmMemory } from './vm-memory.js';
import { resolveVm } from './vm-registry.js';

export interface IntrospectionSource {
  /** A VM known to `--vm NAME`. */
  readonly vm?: string | undefined;
  /** An ELF core from `dump-guest-memory`. */
  readonly dump?: string | undefined;
  /** vmlinux with BTF (`--kernel`); default: the lab's vmlinux when its banner matches. */
  readonly kernel?: string | undefined;
  /** An existing ISF instead of BTF + kallsyms (`--isf`). */
  readonly isf?: string | undefined;
  /** Skip the profile cache under `.vmsight/profiles`. */
  readonly noCache?: boolean | undefined;
  /** Pause a live VM (QMP stop/cont) while reading, for a consistent view. */
  readonly pause?: boolean | undefined;
  /**
   * An open QMP connection to the VM, for the memory size of a VM registered by `--pid` (its
   * socket takes one client at a time; `watch` holds it while it opens the GDB sensor).
   */
  readonly qmp?: QmpClient | undefined;
}

export interface OpenedIntrospection {
  readonly profile: KernelProfile;
  readonly source: string;
  close(): Promise<void>;
}

/** The lab's current vmlinux, if the lab was built (never builds it). */
function labKernels(): string[] {
  try {
    const current = JSON.parse(readFileSync(join(labPaths().root, 'current.json'), 'utf8')) as {
      dir?: unknown;
    };
    if (typeof current.dir !== 'string') return [];
    const vmlinux = join(current.dir, 'vmlinux');
    return existsSync(vmlinux) ? [vmlinux] : [];
  } catch {
    return [];
  }
}

/**
 * Opens a VM or dump and builds (or loads from cache) its kernel profile.
 *
 * @example
 * ```ts
 * import { openIntrospection } from './introspection-service.js';
 * const opened = await openIntrospection({ dump: 'guest.elf' });
 * try { console.log(opened.profile.banner); } finally { await opened.close(); }
 * ```
 */
export async function openIntrospection(
  options: IntrospectionSource,
): Promise<OpenedIntrospection> {
  if ((options.vm === undefined) === (options.dump === undefined)) {
    throw new VmsightError('INVALID_ARGUMENT', 'Give exactly one of --vm and --dump');
  }
  let layer: PhysicalLayer;
  let vmcoreinfo: Vmcoreinfo | undefined;
  let source: string;
  let release: () => Promise<void> = () => Promise.resolve();
  let cpuState: () => Promise<CpuControlState | undefined> = () => Promise.resolve(undefined);
  if (options.dump !== undefined) {
    const core = openElfCore(options.dump);
    layer = core.layer;
    vmcoreinfo = core.vmcoreinfo;
    const cpu = core.cpus[0];
    cpuState = () =>
      Promise.resolve(
        cpu === undefined ? undefined : { cr3: cpu.cr3, cr4: cpu.cr4, idtBase: cpu.idt_base },
      );
    source = `dump "${options.dump}"`;
    release = () => {
      core.close();
      return Promise.resolve();
    };
  } else {
    const name = options.vm ?? '';
    const vm = await resolveVm(name);
    layer = await openVmMemory(vm, options.qmp);
    source = `VM "${name}"`;
    let qmp: QmpClient | undefined;
    if (options.pause === true) {
      qmp = await QmpClient.connect(vm.qmpSocket);
      await qmp.execute('stop');
    }
    cpuState = async () => {
      const client = qmp ?? (await QmpClient.connect(vm.qmpSocket));
      try {
        return parseInfoRegisters(await client.hmp('info registers'));
      } finally {
        if (client !== qmp) await client.close();
      }
    };
    release = async () => {
      layer.close();
      if (qmp !== undefined) {
        await qmp.execute('cont');
        await qmp.close();
      }
    };
  }
  try {
    vmcoreinfo ??= scanVmcoreinfo(layer)?.info;
    const cpu =
      vmcoreinfo === undefined && options.isf !== undefined ? await cpuState() : undefined;
    if (cpu !== undefined && options.isf !== undefined) {
      // No VMCOREINFO: the slide comes from the IDT against the ISF (lab-notes §6).
      const profile = await openKernelProfileFromIdt(layer, { isf: options.isf, cpu });
      return { profile, source, close: release };
    }
    const profile = await openKernelProfile(layer, {
      vmcoreinfo,
      kernel: options.kernel,
      isf: options.isf,
      candidateKernels: labKernels(),
      cacheDir: options.noCache === true ? undefined : join(vmsightHome(), 'profiles'),
    });
    return { profile, source, close: release };
  } catch (error) {
    await release();
    throw error;
  }
}

/** CR3, CR4 and the IDT base from HMP `info registers` (lab-notes §3). */
function parseInfoRegisters(text: string): CpuControlState | undefined {
  const cr3 = /CR3=([0-9a-f]+)/i.exec(text)?.[1];
  const cr4 = /CR4=([0-9a-f]+)/i.exec(text)?.[1];
  const idt = /IDT= +([0-9a-f]+)/i.exec(text)?.[1];
  if (cr3 === undefined || cr4 === undefined || idt === undefined) return undefined;
  return { cr3: BigInt(`0x${cr3}`), cr4: BigInt(`0x${cr4}`), idtBase: BigInt(`0x${idt}`) };
}

export type PsPluginName =
  'pslist' | 'psaux' | 'pstree' | 'lsmod' | 'psxview' | 'maps' | 'lsof' | 'sockstat';

export interface PsOptions extends IntrospectionSource {
  readonly plugin?: PsPluginName;
  readonly threads?: boolean;
  /** Only this process's rows (maps, lsof and sockstat read no other process). */
  readonly pid?: number | undefined;
}

export interface PsResult {
  readonly source: string;
  readonly kernel: string;
  readonly plugin: string;
  readonly columns: readonly PluginColumn<Record<string, unknown>>[];
  readonly rows: readonly Record<string, unknown>[];
  readonly warnings: readonly IntrospectionWarning[];
}

/** What runPs hands every plugin; each reads the options it knows. */
interface PsPluginOptions {
  readonly threads?: boolean;
  readonly pids?: readonly number[];
}
type PsPlugin = LinuxPlugin<object, PsPluginOptions>;

const PS_PLUGINS: Readonly<Record<PsPluginName, PsPlugin>> = {
  pslist: pslistPlugin as PsPlugin,
  psaux: psauxPlugin as PsPlugin,
  pstree: pstreePlugin as PsPlugin,
  lsmod: lsmodPlugin as PsPlugin,
  psxview: psxviewPlugin as PsPlugin,
  maps: mapsPlugin as PsPlugin,
  lsof: lsofPlugin as PsPlugin,
  sockstat: sockstatPlugin as PsPlugin,
};

/** `vmsight ps`: runs pslist, psaux, pstree, lsmod, psxview, maps, lsof or sockstat. */
export async function runPs(options: PsOptions): Promise<PsResult> {
  const plugin = PS_PLUGINS[options.plugin ?? 'pslist'];
  const opened = await openIntrospection(options);
  try {
    const missing = checkRequirements(plugin, opened.profile);
    if (missing.length > 0) {
      throw new VmsightError(
        'NOT_FOUND',
        `Plugin ${plugin.id} cannot run: the symbol table lacks ${missing.join(', ')}`,
      );
    }
    const warnings: IntrospectionWarning[] = [];
    const pid = options.pid;
    const rows = [
      ...plugin.run(
        { profile: opened.profile, warn: (w) => warnings.push(w) },
        {
          threads: options.threads === true,
          ...(pid === undefined ? {} : { pids: [pid] }),
        },
      ),
    ].filter((row) => pid === undefined || !('pid' in row) || row.pid === pid) as Record<
      string,
      unknown
    >[];
    return {
      source: opened.source,
      kernel: opened.profile.banner.trim(),
      plugin: plugin.id,
      columns: plugin.columns,
      rows,
      warnings,
    };
  } finally {
    await opened.close();
  }
}

export interface SymbolsBuildOptions extends IntrospectionSource {
  readonly output: string;
}

/** `vmsight symbols build`: an ISF from BTF + kallsyms recovered from guest memory. */
export async function buildSymbols(
  options: SymbolsBuildOptions,
): Promise<{ output: string; banner: string; symbols: number; userTypes: number }> {
  if (options.kernel === undefined) {
    throw new VmsightError('INVALID_ARGUMENT', 'Give the guest kernel with --kernel VMLINUX');
  }
  const opened = await openIntrospection({ ...options, noCache: true });
  try {
    const isf = opened.profile.symbols.isf;
    await writeIsfFile(options.output, isf);
    return {
      output: options.output,
      banner: opened.profile.banner.trim(),
      symbols: Object.keys(isf.symbols).length,
      userTypes: Object.keys(isf.user_types).length,
    };
  } finally {
    await opened.close();
  }
}
