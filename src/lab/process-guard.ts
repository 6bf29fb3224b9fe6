import { rmSync } from 'node:fs';

/**
 * The last line of defence against leaked QEMU processes: VMs started without `detach` are killed
 * (SIGKILL, by pid) and their shared-memory files removed when this Node process exits, normally or
 * on SIGINT/SIGTERM/SIGHUP, even if a test forgot its `after` hook. Only SIGKILL of Node itself
 * escapes it; `vmsight lab status` then shows the VM as running and `lab down` removes it.
 */
interface Guarded {
  readonly pid: number;
  readonly paths: readonly string[];
}

const guarded = new Map<number, Guarded>();
let installed = false;

function killAll(): void {
  for (const entry of guarded.values()) {
    try {
      process.kill(entry.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    for (const path of entry.paths) rmSync(path, { recursive: true, force: true });
  }
  guarded.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      // Re-raise with the default action, so the exit status still says which signal ended us.
      process.kill(process.pid, signal);
    });
  }
}

/** Kill `pid` and remove `paths` if this process exits before `release(pid)`. */
export function guardProcess(pid: number, paths: readonly string[]): void {
  install();
  guarded.set(pid, { pid, paths });
}

export function releaseProcess(pid: number): void {
  guarded.delete(pid);
}
