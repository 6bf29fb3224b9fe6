import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { VmsightError, type Logger } from '../core/index.js';
import { runHostCommand } from './host-command.js';

/**
 * The Debian packages the lab needs on the host, and the tool each one provides. This is the ONE
 * list: the `DEPENDENCY_MISSING` message, `vmsight lab build --install` and scripts/setup-host.sh
 * (through `--install`) all come from it. gzip, dpkg-deb and apt-get are Essential in Debian.
 * The initramfs is written by vmsight itself (newc), so cpio is not needed. Keep each entry on one
 * line: scripts/setup-host.sh reads them with sed (it runs before `npm ci`).
 */
export const LAB_HOST_PACKAGES = [
  { package: 'qemu-system-x86', tool: 'qemu-system-x86_64' },
  { package: 'busybox-static', tool: 'busybox' },
  { package: 'xz-utils', tool: 'xz' },
  { package: 'zstd', tool: 'zstd' },
  // `vmsight report --format pdf` prints HTML with headless Chromium; tests read it with pdftotext.
  { package: 'chromium', tool: 'chromium' },
  { package: 'poppler-utils', tool: 'pdftotext' },
] as const;

/** The command that installs every lab package, as printed in error messages. */
export function labInstallCommand(
  packages: readonly string[] = LAB_HOST_PACKAGES.map((p) => p.package),
): string {
  return `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

// PATH as a login shell has it, plus the sbin directories a non-root PATH lacks.
const EXTRA_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Absolute path of an executable on PATH, or undefined. */
export function findExecutable(tool: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), ...EXTRA_PATH];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/** Paths of the lab's host tools, by tool name. */
export type HostTools = Readonly<Record<(typeof LAB_HOST_PACKAGES)[number]['tool'], string>>;

/**
 * Finds every lab tool, or throws one `DEPENDENCY_MISSING` naming all missing packages and the exact
 * apt command that installs them.
 */
export function requireHostTools(
  find: (tool: string) => string | undefined = findExecutable,
): HostTools {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const { package: pkg, tool } of LAB_HOST_PACKAGES) {
    const path = find(tool);
    if (path === undefined) missing.push(pkg);
    else found[tool] = path;
  }
  if (missing.length > 0) {
    throw new VmsightError(
      'DEPENDENCY_MISSING',
      `Cannot build or run the lab guest: missing host packages ${missing.map((m) => `"${m}"`).join(', ')}: install them with "${labInstallCommand(missing)}" (or run "vmsight lab build --install" as root)`,
      { details: { missing, command: labInstallCommand(missing) } },
    );
  }
  return found as HostTools;
}

/** Runs `apt-get update` and installs every lab package (root only, non-interactive). */
export async function installHostTools(log?: Logger): Promise<void> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new VmsightError(
      'DEPENDENCY_MISSING',
      `Cannot install the lab packages: "--install" needs root: run "${labInstallCommand()}" as root`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another apt (a parallel setup) may hold the lock: wait for it instead of failing.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  log?.info('apt-get update');
  await runHostCommand('apt-get', [...lock, 'update', '-q'], { env });
  const packages = LAB_HOST_PACKAGES.map((p) => p.package);
  log?.info({ packages }, 'apt-get install');
  await runHostCommand(
    'apt-get',
    [...lock, 'install', '-y', '-q', '--no-install-recommends', ...packages],
    {
      env,
    },
  );
}
