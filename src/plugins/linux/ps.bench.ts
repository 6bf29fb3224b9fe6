// `vmsight ps --dump` on a 1 GiB dump of the lab guest, cold (kallsyms decoded from the dump, BTF
// parsed, profile written to an empty cache) and warm (profile from the cache): first in-process
// (profile + psaux, with the memory held), then as the CLI users run, a separate process each time
// (Node and tsx start-up included). Prints figures; never asserts on time. Run: npm run bench -- ps
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureLabBuilt, labPaths, startLabVm } from '../../lab/index.js';
import { openElfCore } from '../../layers/index.js';
import { openKernelProfile } from '../../profiles/index.js';
import type { IntrospectionWarning } from '../../symbols/index.js';
import { psauxPlugin } from './psaux.js';

const MiB = 1024 * 1024;
const BIN = fileURLToPath(new URL('../../../bin/vmsight.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vmsight-bench-ps-'));
const vmlinux = (await ensureLabBuilt()).vmlinux;
const vm = await startLabVm({ memory: '1G' });
const ms = (from: bigint): string => (Number(process.hrtime.bigint() - from) / 1e6).toFixed(0);
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
    core.close();
    console.log(
      `in-process ${run}: ${ms(started)} ms (profile from ${profile.source} ${Number(profiled - started) / 1e6} ms, psaux ${rows.length} rows ${ms(profiled)} ms), rss ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB, warnings ${warnings.length}`,
    );
  }
  // The CLI with its own empty profile cache (VMSIGHT_HOME), finding the lab kernel as usual.
  const home = join(dir, 'home');
  mkdirSync(home);
  symlinkSync(labPaths().root, join(home, 'lab'));
  for (const run of ['cold', 'warm', 'warm', 'warm']) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [BIN, 'ps', '--dump', path, '--json'], {
      encoding: 'utf8',
      env: { ...process.env, VMSIGHT_HOME: home },
      maxBuffer: 64 * MiB,
    });
    const took = ms(started);
    if (result.status !== 0) throw new Error(`vmsight ps failed: ${result.stderr}`);
    console.log(`vmsight ps --dump ${run}: ${took} ms wall (a new process)`);
  }
} finally {
  await vm.stop();
  rmSync(dir, { recursive: true, force: true });
}
