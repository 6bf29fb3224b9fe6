import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { runHostCommand } from './host-command.js';
import { writeCpioNewc, type CpioEntry } from './cpio-newc-writer.js';
import { ACPI_POWER_SCRIPT, ACPID_CONF, renderInitScript } from './guest-init-script.js';

export interface InitramfsInputs {
  /** A statically linked busybox (Debian busybox-static's /bin/busybox). */
  readonly busybox: string;
  /** Staged plain `.ko` files, by module name, in load order. */
  readonly moduleDir: string;
  readonly loadOrder: readonly string[];
}

const DIRECTORIES = [
  'bin',
  'sbin',
  'usr',
  'usr/bin',
  'usr/sbin',
  'dev',
  'proc',
  'sys',
  'tmp',
  'run',
  'root',
  'etc',
  'etc/acpi',
  'lib',
  'lib/modules',
  'mnt',
  'var',
  'var/run',
];

/**
 * Builds the gzip-compressed newc initramfs: busybox with one symlink per applet (from
 * `busybox --list-full`), /dev/console for the kernel to open before /init runs, the staged
 * modules, the acpid configuration and /init.
 */
export async function buildInitramfs(inputs: InitramfsInputs, outPath: string): Promise<void> {
  const applets = (await runHostCommand(inputs.busybox, ['--list-full']))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^[a-z/]+\/[\w.[\]-]+$/.test(line) && line !== 'bin/busybox');
  const entries: CpioEntry[] = [
    ...DIRECTORIES.map((path): CpioEntry => ({ type: 'dir', path })),
    { type: 'char', path: 'dev/console', major: 5, minor: 1 },
    { type: 'char', path: 'dev/null', major: 1, minor: 3, mode: 0o666 },
    { type: 'file', path: 'bin/busybox', data: await readFile(inputs.busybox), mode: 0o755 },
    ...applets.map((path): CpioEntry => ({ type: 'symlink', path, target: '/bin/busybox' })),
    { type: 'file', path: 'etc/acpid.conf', data: Buffer.from(ACPID_CONF) },
    { type: 'file', path: 'etc/acpi/power.sh', data: Buffer.from(ACPI_POWER_SCRIPT), mode: 0o755 },
    {
      type: 'file',
      path: 'init',
      data: Buffer.from(renderInitScript(inputs.loadOrder)),
      mode: 0o755,
    },
  ];
  for (const name of inputs.loadOrder) {
    entries.push({
      type: 'file',
      path: `lib/modules/${name}.ko`,
      data: await readFile(join(inputs.moduleDir, `${name}.ko`)),
    });
  }
  await writeFile(outPath, await promisify(gzip)(writeCpioNewc(entries), { level: 9 }));
}
