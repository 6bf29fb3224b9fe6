/**
 * Acquisition from the shared memory backend against QMP dump-guest-memory on a 1 GiB lab guest:
 * both stream into SHA-256 + zstd -1 + SHA-256 → blob store; the shm path reads /dev/shm behind an
 * ELF header with the guest paused. Prints figures (and the command's peak RSS); never asserts.
 *
 *   npm run bench -- evidence/shm-acquisition
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLabVm } from '../lab/index.js';
import type { CaptureRecord, ImageSink } from './evidence-locker.js';
import { KeyStore } from './key-store.js';
import { qmpMemoryCapture } from './qmp-memory-capture.js';
import { shmMemoryCapture } from './shm-memory-capture.js';
import { openBenchLocker, timeVmsight } from './_bench-support.js';

const REPS = Number(process.env['BENCH_REPS'] ?? 2);
const dir = mkdtempSync(join(tmpdir(), 'vmsight-shm-bench-'));
const home = join(dir, 'home');

const vm = await startLabVm({ memory: '1G' });
try {
  const keys = await KeyStore.init(join(home, 'keys'), { name: 'bench' });
  const { store, locker } = openBenchLocker(dir, keys);
  const time = async (
    capture: (sink: ImageSink) => Promise<CaptureRecord>,
  ): Promise<{ s: number; bytes: number }> => {
    const start = process.hrtime.bigint();
    const item = await locker.acquire({ subject: vm.name, capture });
    return { s: Number(process.hrtime.bigint() - start) / 1e9, bytes: item.imageSize ?? 0 };
  };
  for (let rep = 1; rep <= REPS; rep++) {
    const qmp = await vm.qmp();
    try {
      const viaQmp = await time(
        qmpMemoryCapture({ qmp, vmName: vm.name, fifoParent: join(dir, 'fifo') }),
      );
      const viaShm = await time(shmMemoryCapture({ qmp, vmName: vm.name, ramPath: vm.ramPath }));
      console.log(
        `rep ${rep}: dump-guest-memory ${viaQmp.s.toFixed(2)} s (${viaQmp.bytes} B), shared memory ${viaShm.s.toFixed(2)} s (${viaShm.bytes} B), ratio shm/qmp ${(viaShm.s / viaQmp.s).toFixed(2)}`,
      );
    } finally {
      await qmp.close();
    }
  }
  store.close();
  const cli = timeVmsight([
    'evidence',
    'acquire',
    '--vm',
    vm.name,
    '--from',
    'shm',
    '--home',
    home,
  ]);
  console.log(
    `vmsight evidence acquire --from shm: ${cli.seconds} s, peak RSS ${(cli.peakKib / 1024).toFixed(0)} MiB (exit ${cli.status ?? 'signal'})`,
  );
} finally {
  await vm.stop();
  rmSync(dir, { recursive: true, force: true });
}
