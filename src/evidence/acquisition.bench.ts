/**
 * Acquisition throughput on a 1 GiB lab guest (issue 6): vmsight's one-pass acquisition
 * (dump-guest-memory → FIFO → SHA-256 + zstd -1 + SHA-256 → blob store) against QEMU's plain
 * dump to a file followed by `zstd -1` and `sha256sum`. Prints figures; never asserts on time.
 *
 *   npm run bench -- evidence/acquisition
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { startLabVm } from '../lab/index.js';
import { KeyStore } from './key-store.js';
import { qmpMemoryCapture } from './qmp-memory-capture.js';
import { openBenchLocker, timeVmsight } from './_bench-support.js';

const REPS = Number(process.env['BENCH_REPS'] ?? 2);
const dir = mkdtempSync(join(tmpdir(), 'vmsight-acq-bench-'));
const home = join(dir, 'home');
const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;
const fmt = (value: number): string => value.toFixed(2);

const vm = await startLabVm({ memory: '1G' });
try {
  const keys = await KeyStore.init(join(home, 'keys'), { name: 'bench' });
  console.log(`1 GiB lab guest (TCG), load average at start ${loadavg().map(fmt).join(' ')}`);
  for (let rep = 1; rep <= REPS; rep++) {
    // vmsight, in process (no CLI start-up).
    const { store, locker } = openBenchLocker(dir, keys);
    let qmp = await vm.qmp();
    let start = process.hrtime.bigint();
    const item = await locker.acquire({
      subject: vm.name,
      capture: qmpMemoryCapture({ qmp, vmName: vm.name, fifoParent: join(dir, 'fifo') }),
    });
    const ours = seconds(start);
    const blob = (await store.getBlobs(item.id))[0];
    store.close();
    await qmp.close();

    // vmsight, the command as users run it, with its peak RSS (GNU time %M, KiB).
    const { seconds: cliSeconds, peakKib: cliKib } = timeVmsight([
      'evidence',
      'acquire',
      '--vm',
      vm.name,
      '--home',
      home,
    ]);

    // Baseline: plain dump to a file, then zstd -1, then sha256sum of the dump.
    qmp = await vm.qmp();
    const elf = join(dir, `plain-${rep}.elf`);
    start = process.hrtime.bigint();
    await qmp.execute(
      'dump-guest-memory',
      { paging: false, protocol: `file:${elf}` },
      { timeoutMs: 300_000 },
    );
    const dump = seconds(start);
    await qmp.close();
    start = process.hrtime.bigint();
    execFileSync('zstd', ['-1', '-q', '-f', elf, '-o', `${elf}.zst`]);
    const zstd = seconds(start);
    start = process.hrtime.bigint();
    execFileSync('sha256sum', [elf]);
    const sha = seconds(start);
    const baseline = dump + zstd + sha;
    const zstSize = statSync(`${elf}.zst`).size;
    rmSync(elf, { force: true });
    rmSync(`${elf}.zst`, { force: true });

    console.log(
      [
        `rep ${rep}: vmsight acquire ${fmt(ours)} s in process (${item.imageSize} B image → ${blob?.size} B zstd),`,
        `CLI ${fmt(cliSeconds ?? NaN)} s with peak RSS ${fmt((cliKib ?? NaN) / 1024)} MiB;`,
        `baseline ${fmt(baseline)} s (dump ${fmt(dump)} + zstd -1 ${fmt(zstd)} → ${zstSize} B + sha256sum ${fmt(sha)});`,
        `ratio vmsight/baseline ${fmt(ours / baseline)} (CLI ${fmt((cliSeconds ?? NaN) / baseline)})`,
      ].join(' '),
    );
  }
  console.log(
    `load average at end ${loadavg().map(fmt).join(' ')}; peak RSS of this process ${fmt(process.resourceUsage().maxRSS / 1024)} MiB`,
  );
} finally {
  await vm.stop();
  rmSync(dir, { recursive: true, force: true });
}
