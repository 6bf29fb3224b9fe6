import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmsightError, type Logger } from '../core/index.js';
import { runHostCommand } from './host-command.js';

/** The meta-package whose dependency names the current Debian kernel image. */
export const KERNEL_META_PACKAGE = 'linux-image-amd64';
const KERNEL_PACKAGE_PATTERN = /^linux-image-[0-9][\w.+~-]*-amd64(?:-unsigned)?$/;

export interface KernelPackage {
  readonly name: string;
  readonly version: string;
}

/**
 * Resolves the kernel package `linux-image-amd64` depends on (e.g. "linux-image-6.1.0-56-amd64")
 * and its candidate version, from apt's local package lists.
 */
export async function resolveKernelPackage(): Promise<KernelPackage> {
  const noLists = (cause?: unknown): VmsightError =>
    new VmsightError(
      'DEPENDENCY_MISSING',
      `Cannot resolve the Debian kernel package "${KERNEL_META_PACKAGE}": apt knows no candidate: run "apt-get update" first`,
      { cause },
    );
  let depends: string;
  try {
    depends = await runHostCommand('apt-cache', ['depends', KERNEL_META_PACKAGE]);
  } catch (error) {
    throw noLists(error);
  }
  const name = depends
    .split('\n')
    .map((line) => /^\s*Depends:\s*(\S+)/.exec(line)?.[1])
    .find((dep): dep is string => dep !== undefined && KERNEL_PACKAGE_PATTERN.test(dep));
  if (name === undefined) throw noLists();
  const policy = await runHostCommand('apt-cache', ['policy', name]);
  const version = /^\s*Candidate:\s*(\S+)/m.exec(policy)?.[1];
  if (version === undefined || version === '(none)') throw noLists();
  return { name, version };
}

/** apt-get update renames fresh lists into this directory, which changes its mtime. */
const APT_LISTS_DIR = '/var/lib/apt/lists';

/**
 * `resolveKernelPackage`, memoised in `cacheFile` until apt's package lists change: apt-cache
 * takes ~1.5 s here, which every test file's first `startLabVm` would otherwise pay.
 */
export async function resolveKernelPackageCached(cacheFile: string): Promise<KernelPackage> {
  const listsMtimeMs = await stat(APT_LISTS_DIR).then(
    (s) => s.mtimeMs,
    () => -1,
  );
  try {
    const cached = JSON.parse(await readFile(cacheFile, 'utf8')) as {
      listsMtimeMs: number;
      kernelPackage: KernelPackage;
    };
    if (cached.listsMtimeMs === listsMtimeMs && listsMtimeMs !== -1) return cached.kernelPackage;
  } catch {
    // No usable cache: resolve below.
  }
  const kernelPackage = await resolveKernelPackage();
  await writeFile(`${cacheFile}.${process.pid}`, JSON.stringify({ listsMtimeMs, kernelPackage }));
  await rename(`${cacheFile}.${process.pid}`, cacheFile);
  return kernelPackage;
}

/**
 * Downloads the package's .deb into `debDir` once (`apt-get download`, no install: the host kernel
 * is untouched) and returns its path. Downloads go to a private temporary directory first, so a
 * parallel build never sees half a file.
 */
export async function downloadKernelPackage(
  pkg: KernelPackage,
  debDir: string,
  log?: Logger,
): Promise<string> {
  await mkdir(debDir, { recursive: true });
  const fileName = `${pkg.name}_${pkg.version.replaceAll(':', '%3a')}_amd64.deb`;
  const target = join(debDir, fileName);
  try {
    if ((await stat(target)).size > 0) return target;
  } catch {
    // Not downloaded yet.
  }
  const scratch = await mkdtemp(join(debDir, '.download-'));
  try {
    log?.info({ package: pkg.name, version: pkg.version }, 'apt-get download');
    await runHostCommand('apt-get', ['download', '-q', `${pkg.name}=${pkg.version}`], {
      cwd: scratch,
    });
    const files = (await readdir(scratch)).filter((f) => f.endsWith('.deb'));
    const downloaded = files[0];
    if (files.length !== 1 || downloaded === undefined) {
      throw new VmsightError(
        'IO_ERROR',
        `Cannot find the downloaded package "${pkg.name}": "apt-get download" wrote ${files.length} .deb files`,
      );
    }
    await rename(join(scratch, downloaded), target);
    return target;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export interface ExtractedKernel {
  readonly root: string;
  readonly kernelVersion: string;
  readonly bzImage: string;
  readonly config: string;
  /** lib/modules/<version> (Debian 12) or usr/lib/modules/<version> (merged /usr, Debian 13). */
  readonly modulesDir: string;
}

/** Unpacks the .deb with `dpkg-deb -x` into `root` and locates the image, config and modules. */
export async function extractKernelPackage(deb: string, root: string): Promise<ExtractedKernel> {
  await runHostCommand('dpkg-deb', ['-x', deb, root]);
  const boot = await readdir(join(root, 'boot'));
  const image = boot.find((f) => f.startsWith('vmlinuz-'));
  if (image === undefined) {
    throw new VmsightError(
      'INVALID_INPUT',
      `Cannot find a kernel image in "${deb}": no boot/vmlinuz-*`,
    );
  }
  const kernelVersion = image.slice('vmlinuz-'.length);
  for (const base of ['lib/modules', 'usr/lib/modules']) {
    const modulesDir = join(root, base, kernelVersion);
    try {
      await stat(modulesDir);
      return {
        root,
        kernelVersion,
        bzImage: join(root, 'boot', image),
        config: join(root, 'boot', `config-${kernelVersion}`),
        modulesDir,
      };
    } catch {
      // Try the next layout.
    }
  }
  throw new VmsightError(
    'INVALID_INPUT',
    `Cannot find the modules of kernel "${kernelVersion}" in "${deb}"`,
  );
}
