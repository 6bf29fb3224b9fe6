import { copyFile, readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { VmsightError } from '../core/index.js';
import { readElfSection } from '../layers/index.js';
import { runHostCommand } from './host-command.js';

/**
 * The drivers the lab guest loads, with the Kconfig symbol that says whether each is built in
 * (`=y`), a module (`=m`) or absent. Order matters only for readability: dependencies are resolved
 * from each module's `.modinfo` `depends=` list.
 */
export const LAB_GUEST_DRIVERS = [
  { module: 'virtio_pci', config: 'CONFIG_VIRTIO_PCI' },
  { module: 'virtio_blk', config: 'CONFIG_VIRTIO_BLK' },
  { module: 'virtio_net', config: 'CONFIG_VIRTIO_NET' },
  { module: 'virtio_rng', config: 'CONFIG_HW_RANDOM_VIRTIO' },
  // Lets the guest read -fw_cfg files (the workload) and publish VMCOREINFO (lab-notes §3).
  { module: 'qemu_fw_cfg', config: 'CONFIG_FW_CFG_SYSFS' },
  // The ACPI power button as an input device, so `system_powerdown` reaches busybox acpid.
  { module: 'button', config: 'CONFIG_ACPI_BUTTON' },
  { module: 'evdev', config: 'CONFIG_INPUT_EVDEV' },
] as const;

const MODULE_SUFFIXES = ['.ko', '.ko.xz', '.ko.zst', '.ko.gz'] as const;
/** A module dependency chain deeper than this is a broken package, not a real kernel. */
const MAX_DEPTH = 32;

/** `CONFIG_X=y|m|"text"` lines of a kernel config, as a map. */
export function parseKernelConfig(text: string): ReadonlyMap<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) entries.set(match[1], match[2]);
  }
  return entries;
}

/** Module names use `_` and `-` interchangeably (kmod's underscores() rule). */
export function normalizeModuleName(name: string): string {
  return name.replaceAll('-', '_');
}

async function indexModules(
  dir: string,
  index = new Map<string, string>(),
): Promise<Map<string, string>> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await indexModules(path, index);
    else {
      const suffix = MODULE_SUFFIXES.find((s) => entry.name.endsWith(s));
      if (suffix !== undefined)
        index.set(normalizeModuleName(entry.name.slice(0, -suffix.length)), path);
    }
  }
  return index;
}

/** Copies (or decompresses) a module file to `dir/<name>.ko`, the form busybox insmod loads. */
async function stageModule(source: string, dir: string, name: string): Promise<string> {
  const target = join(dir, `${name}.ko`);
  if (source.endsWith('.ko')) await copyFile(source, target);
  else if (source.endsWith('.xz'))
    await runHostCommand('xz', ['-dc', source], { stdoutFile: target });
  else if (source.endsWith('.zst'))
    await runHostCommand('zstd', ['-dcq', source], { stdoutFile: target });
  else await runHostCommand('gzip', ['-dc', source], { stdoutFile: target });
  return target;
}

function modinfoDepends(modinfo: Uint8Array): string[] {
  for (const field of Buffer.from(modinfo).toString('latin1').split('\0')) {
    if (field.startsWith('depends=')) {
      return field
        .slice('depends='.length)
        .split(',')
        .filter((d) => d !== '')
        .map(normalizeModuleName);
    }
  }
  return [];
}

export interface StagedModules {
  /** Module names in load order (dependencies first). */
  readonly loadOrder: readonly string[];
  /** Drivers the config builds into the kernel, so nothing is loaded for them. */
  readonly builtIn: readonly string[];
  /** Drivers the config does not enable at all. */
  readonly absent: readonly string[];
}

/**
 * Stages the lab drivers the config builds as modules, with their dependencies, into `stageDir` as
 * plain `.ko` files, and returns the load order. Replaces `depmod`: Debian's .deb carries no
 * modules.dep (postinst makes it), so dependencies come from each module's `.modinfo`.
 */
export async function stageGuestModules(
  modulesDir: string,
  configPath: string,
  stageDir: string,
): Promise<StagedModules> {
  const config = parseKernelConfig(await readFile(configPath, 'utf8'));
  const builtinList = await readFile(join(modulesDir, 'modules.builtin'), 'utf8').catch(() => '');
  const builtinModules = new Set(
    builtinList
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => normalizeModuleName(basename(l).replace(/\.ko$/, ''))),
  );
  const index = await indexModules(join(modulesDir, 'kernel'));
  const loadOrder: string[] = [];
  const visiting = new Set<string>();

  const visit = async (name: string, depth: number): Promise<void> => {
    if (loadOrder.includes(name) || builtinModules.has(name)) return;
    if (depth > MAX_DEPTH || visiting.has(name)) {
      throw new VmsightError(
        'INVALID_INPUT',
        `Cannot order kernel modules: "${name}" has cyclic or too deep dependencies`,
      );
    }
    const source = index.get(name);
    if (source === undefined) {
      throw new VmsightError(
        'NOT_FOUND',
        `Cannot find kernel module "${name}" in "${modulesDir}"`,
        { details: { module: name } },
      );
    }
    visiting.add(name);
    const staged = await stageModule(source, stageDir, name);
    const modinfo = await readElfSection(staged, '.modinfo');
    for (const dependency of modinfo === undefined ? [] : modinfoDepends(modinfo))
      await visit(dependency, depth + 1);
    visiting.delete(name);
    loadOrder.push(name);
  };

  const builtIn: string[] = [];
  const absent: string[] = [];
  for (const driver of LAB_GUEST_DRIVERS) {
    const setting = config.get(driver.config);
    if (setting === 'y') builtIn.push(driver.module);
    else if (setting === 'm') await visit(driver.module, 0);
    else absent.push(driver.module);
  }
  return { loadOrder, builtIn, absent };
}
