// `vmsight ps --dump` on a 1 GiB dump of the lab guest: the cold run (kallsyms decoded from the
// dump, BTF parsed, profile written to a temporary cache) and warm runs (profile from the cache),
// with the memory held. Prints figures; never asserts on time. Run: npm run bench -- ps
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLabBuilt, startLabVm } from '../../lab/index.js';
import { openElfCore } from '../../layers/index.js';
import { openKernelProfile } from '../../profiles/index.js';
import type { IntrospectionWarning } from '../../symbols/index.js';
import { psauxPlugin } from './psaux.js';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'vmsight-bench-ps-'));
const vmlinux = (await ensureLabBuilt()).vmlinux;
const vm = await startLabVm({ memory: '1G' });
try {
  const qmp = await vm.qmp();
  const path = join(dir, 'guest.elf');
  await qmp.execute(
    'dump-guest-memory',
    { paging: false, protocol: `file:${path}` },
    { timeoutMs: 300_000 },
  );
  await vm.stop();
  const cacheDir = join(dir, 'profiles');
  for (const run of ['cold', 'warm', 'warm', 'warm']) {
    const started = process.hrtime.bigint();
    const core = openElfCore(path);
    const profile = await openKernelProfile(core.layer, {
      vmcoreinfo: core.vmcoreinfo,
      candidateKernels: [vmlinux],
      cacheDir,
    });
    const profiled = process.hrtime.bigint();
    const warnings: IntrospectionWarning[] = [];
    const rows = [...psauxPlugin.run({ profile, warn: (w) => warnings.push(w) }, {})];
    const done = process.hrtime.bigint();
    core.close();
    console.log(
      `${run}: profile (${profile.source}) ${Number(profiled - started) / 1e6} ms, psaux ${rows.length} rows ${Number(done - profiled) / 1e6} ms, rss ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB, warnings ${warnings.length}`,
    );
  }
} finally {
  await vm.stop();
  rmSync(dir, { recursive: true, force: true });
}
