import { createHash } from 'node:crypto';
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { VmsightError, isVmsightError, type Logger } from '../core/index.js';
import { readElfSummary } from '../layers/index.js';
import { renderInitScript } from './guest-init-script.js';
import { installHostTools, requireHostTools } from './host-tools.js';
import { buildInitramfs } from './initramfs-builder.js';
import {
  downloadKernelPackage,
  extractKernelPackage,
  resolveKernelPackageCached,
  type KernelPackage,
} from './kernel-package.js';
import { LAB_GUEST_DRIVERS, stageGuestModules } from './kernel-modules.js';
import { labPaths } from './lab-paths.js';
import { extractVmlinux } from './vmlinux-extractor.js';

/** The built lab guest: everything `startLabVm` boots. */
export interface LabArtifacts {
  readonly dir: string;
  /** `uname -r` of the guest, e.g. "6.1.0-56-amd64". */
  readonly kernelVersion: string;
  /** Uncompressed kernel ELF with `.BTF` (PVH-bootable). */
  readonly vmlinux: string;
  readonly bzImage: string;
  /** gzip-compressed newc cpio. */
  readonly initramfs: string;
  /** The kernel's build configuration. */
  readonly config: string;
}

export interface EnsureLabBuiltOptions {
  /** As root, run apt-get to install the host packages first. */
  readonly install?: boolean;
  readonly log?: Logger;
}

/** Bump when the recipe changes in a way the inputs below do not capture. */
const RECIPE_VERSION = 1;
const MANIFEST = 'manifest.json';
const CURRENT = 'current.json';

interface Manifest {
  readonly recipeVersion: number;
  readonly key: string;
  readonly kernelPackage: KernelPackage;
  readonly kernelVersion: string;
  readonly modules: {
    readonly loadOrder: readonly string[];
    readonly builtIn: readonly string[];
    readonly absent: readonly string[];
  };
  readonly builtAt: string;
  readonly buildMs: number;
}

function artifactsOf(dir: string, kernelVersion: string): LabArtifacts {
  return {
    dir,
    kernelVersion,
    vmlinux: join(dir, 'vmlinux'),
    bzImage: join(dir, 'bzImage'),
    initramfs: join(dir, 'initramfs.cpio.gz'),
    config: join(dir, 'config'),
  };
}

async function readManifest(dir: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

const inFlight = new Map<string, Promise<LabArtifacts>>();

/**
 * Builds the lab guest once and returns its files; later calls (in any process) reuse the cache
 * under `<vmsight home>/lab/` until an input changes: the kernel package version apt resolves, the
 * host's busybox, or the recipe. Parallel builders are safe: each builds in a private directory and
 * the first rename wins.
 *
 * @example
 * ```ts
 * import { ensureLabBuilt } from './lab-builder.js';
 * const lab = await ensureLabBuilt();
 * console.log(lab.kernelVersion, lab.vmlinux);
 * ```
 */
export function ensureLabBuilt(options: EnsureLabBuiltOptions = {}): Promise<LabArtifacts> {
  const { root } = labPaths();
  const running = inFlight.get(root);
  if (running !== undefined && options.install !== true) return running;
  const build = buildLab(options).finally(() => inFlight.delete(root));
  inFlight.set(root, build);
  return build;
}

/**
 * Removes guests and packages of earlier inputs once a new build is in place. Running VMs are not
 * affected: QEMU reads -kernel and -initrd only at start-up.
 */
async function pruneOldBuilds(
  paths: ReturnType<typeof labPaths>,
  keepDir: string,
  keepDeb: string,
): Promise<void> {
  for (const entry of await readdir(paths.root)) {
    const path = join(paths.root, entry);
    if (entry.startsWith('guest-') && path !== keepDir)
      await rm(path, { recursive: true, force: true });
  }
  for (const entry of await readdir(paths.debs)) {
    const path = join(paths.debs, entry);
    if (entry.endsWith('.deb') && path !== keepDeb) await rm(path, { force: true });
  }
}

async function buildLab(options: EnsureLabBuiltOptions): Promise<LabArtifacts> {
  const log = options.log;
  if (options.install === true) await installHostTools(log);
  const tools = requireHostTools();
  if ((await readElfSummary(tools.busybox)).hasInterpreter) {
    throw new VmsightError(
      'DEPENDENCY_MISSING',
      `Cannot use "${tools.busybox}" in the guest: it is dynamically linked: install "busybox-static"`,
    );
  }
  const paths = labPaths();
  await mkdir(paths.root, { recursive: true });

  let kernelPackage: KernelPackage;
  try {
    kernelPackage = await resolveKernelPackageCached(join(paths.root, 'resolved-kernel.json'));
  } catch (error) {
    // Offline, or apt lists gone: the last good build is still a valid lab.
    const current = await readFile(join(paths.root, CURRENT), 'utf8').catch(() => undefined);
    const dir = current === undefined ? undefined : (JSON.parse(current) as { dir: string }).dir;
    const manifest = dir === undefined ? undefined : await readManifest(dir);
    if (!isVmsightError(error) || dir === undefined || manifest === undefined) throw error;
    log?.warn({ dir }, 'cannot resolve the kernel package: reusing the last lab build');
    return artifactsOf(dir, manifest.kernelVersion);
  }

  const busybox = await stat(tools.busybox);
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        RECIPE_VERSION,
        kernelPackage,
        busybox: { size: busybox.size, mtimeMs: busybox.mtimeMs },
        init: renderInitScript(['MODULES']),
        drivers: LAB_GUEST_DRIVERS,
      }),
    )
    .digest('hex')
    .slice(0, 12);
  const versionTag = kernelPackage.name.replace(/^linux-image-/, '');
  const dir = join(paths.root, `guest-${versionTag}-${key}`);
  const cached = await readManifest(dir);
  if (cached?.key === key) {
    return artifactsOf(dir, cached.kernelVersion);
  }

  const started = Date.now();
  const deb = await downloadKernelPackage(kernelPackage, paths.debs, log);
  const scratch = await mkdtemp(join(paths.root, '.build-'));
  await chmod(scratch, 0o755);
  try {
    log?.info({ deb }, 'extracting the kernel package');
    const kernel = await extractKernelPackage(deb, join(scratch, 'package'));
    const out = artifactsOf(scratch, kernel.kernelVersion);
    await copyFile(kernel.bzImage, out.bzImage);
    await copyFile(kernel.config, out.config);
    const sections = await extractVmlinux(out.bzImage, out.vmlinux);
    if (!sections.includes('.BTF')) {
      throw new VmsightError(
        'INVALID_INPUT',
        `Cannot use kernel "${kernel.kernelVersion}": its vmlinux has no ".BTF" section`,
      );
    }
    const moduleDir = join(scratch, 'modules');
    await mkdir(moduleDir);
    const modules = await stageGuestModules(kernel.modulesDir, kernel.config, moduleDir);
    await buildInitramfs(
      { busybox: tools.busybox, moduleDir, loadOrder: modules.loadOrder },
      out.initramfs,
    );
    await rm(join(scratch, 'package'), { recursive: true, force: true });
    await rm(moduleDir, { recursive: true, force: true });
    const manifest: Manifest = {
      recipeVersion: RECIPE_VERSION,
      key,
      kernelPackage,
      kernelVersion: kernel.kernelVersion,
      modules,
      builtAt: new Date().toISOString(),
      buildMs: Date.now() - started,
    };
    await writeFile(join(scratch, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    try {
      await rename(scratch, dir);
    } catch (error) {
      // Another builder finished first with the same key: use its result.
      if ((await readManifest(dir))?.key !== key) throw error;
    }
    await writeFile(join(paths.root, CURRENT), `${JSON.stringify({ dir }, null, 2)}\n`);
    await pruneOldBuilds(paths, dir, deb);
    log?.info({ dir, buildMs: manifest.buildMs }, 'lab guest built');
    return artifactsOf(dir, kernel.kernelVersion);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
