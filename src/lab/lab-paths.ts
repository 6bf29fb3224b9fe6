import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is src/lab/lab-paths.ts). */
const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** vmsight's state directory: `$VMSIGHT_HOME`, or `<repo>/.vmsight` (git-ignored). */
export function vmsightHome(): string {
  const override = process.env['VMSIGHT_HOME'];
  return override !== undefined && override !== ''
    ? resolve(override)
    : join(REPO_ROOT, '.vmsight');
}

/** Where the lab keeps downloaded packages, built guests and running VMs' state. */
export function labPaths(): { readonly root: string; readonly debs: string; readonly vms: string } {
  const root = join(vmsightHome(), 'lab');
  return { root, debs: join(root, 'debs'), vms: join(root, 'vms') };
}
