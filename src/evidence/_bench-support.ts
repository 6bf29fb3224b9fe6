/**
 * Benchmark support: the acquisition benches' locker, and the `vmsight` command run under GNU time
 * for its wall time and peak RSS.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobStore } from './blob-store.js';
import { EvidenceLocker } from './evidence-locker.js';
import type { KeyStore } from './key-store.js';
import { SqliteEvidenceStore } from './sqlite-evidence-store.js';

const VMSIGHT = fileURLToPath(new URL('../../bin/vmsight.js', import.meta.url));

/** `vmsight ARGS…` as users run it: seconds, peak RSS in KiB (GNU time %e %M), exit status. */
export function timeVmsight(args: readonly string[]): {
  seconds: number;
  peakKib: number;
  status: number | null;
} {
  const run = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, VMSIGHT, ...args], {
    encoding: 'utf8',
  });
  const [seconds, peakKib] = (run.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  return { seconds: seconds ?? NaN, peakKib: peakKib ?? NaN, status: run.status };
}

/** A locker as `vmsight` builds one, on `dir`/bench.db and `dir`/blobs; close `store` after. */
export function openBenchLocker(
  dir: string,
  keys: KeyStore,
): { store: SqliteEvidenceStore; locker: EvidenceLocker } {
  const store = SqliteEvidenceStore.open(join(dir, 'bench.db'));
  const locker = new EvidenceLocker({
    store,
    blobs: new BlobStore(join(dir, 'blobs')),
    keys,
    tool: { name: 'vmsight', version: 'bench' },
  });
  return { store, locker };
}
