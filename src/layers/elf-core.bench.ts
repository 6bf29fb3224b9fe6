// Reads every byte of a 1 GiB `dump-guest-memory` ELF of the lab guest through the ELF core layer
// and prints the time and the memory held (issue 3: never more than a few MiB of the dump). Prints
// figures; never asserts on time. Run: npm run bench -- elf-core
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLabVm } from '../lab/index.js';
import { openElfCore } from './elf-core-layer.js';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'vmsight-bench-dump-'));
const vm = await startLabVm({ memory: '1G' });
try {
  const qmp = await vm.qmp();
  const path = join(dir, 'guest.elf');
  const dumpStarted = Date.now();
  await qmp.execute(
    'dump-guest-memory',
    { paging: false, protocol: `file:${path}` },
    { timeoutMs: 300_000 },
  );
  console.log(
    `dump-guest-memory: ${(statSync(path).size / MiB).toFixed(0)} MiB in ${Date.now() - dumpStarted} ms`,
  );
  await vm.stop();

  global.gc?.();
  const before = process.memoryUsage();
  const core = openElfCore(path);
  let peakRss = before.rss;
  let peakArrayBuffers = before.arrayBuffers;
  let peakCache = 0;
  let checksum = 0;
  let bytes = 0;
  const started = process.hrtime.bigint();
  for (const range of core.layer.ranges) {
    for (let offset = 0n; offset < range.length; offset += 4096n) {
      const length = Number(range.length - offset < 4096n ? range.length - offset : 4096n);
      const page = core.layer.read(range.start + offset, length);
      checksum = (checksum + (page[0] ?? 0) + (page[length - 1] ?? 0)) & 0xffff;
      bytes += length;
      if ((offset & 0xffffffn) === 0n) {
        const usage = process.memoryUsage();
        peakRss = Math.max(peakRss, usage.rss);
        peakArrayBuffers = Math.max(peakArrayBuffers, usage.arrayBuffers);
        peakCache = Math.max(peakCache, core.layer.source.cachedBytes);
      }
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(
    `read ${(bytes / MiB).toFixed(0)} MiB in 4 KiB reads: ${seconds.toFixed(2)} s (${(bytes / MiB / seconds).toFixed(0)} MiB/s, checksum ${checksum})`,
  );
  console.log(
    `block cache held at most ${(peakCache / MiB).toFixed(2)} MiB; process RSS grew by at most ${((peakRss - before.rss) / MiB).toFixed(1)} MiB, ArrayBuffers by ${((peakArrayBuffers - before.arrayBuffers) / MiB).toFixed(1)} MiB`,
  );
  core.close();
} finally {
  await vm.stop();
  rmSync(dir, { recursive: true, force: true });
}
