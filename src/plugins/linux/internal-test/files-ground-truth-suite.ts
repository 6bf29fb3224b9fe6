/** Test support: the maps/lsof/sockstat ground-truth suite, run by one test file per guest setup. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openKernelProfile, type KernelProfile } from '../../../profiles/index.js';
import type { IntrospectionWarning } from '../../../symbols/index.js';
import type { LinuxPlugin } from '../../plugin.js';
import { FILES_WORKLOAD, parseGuestFiles, type GuestFiles } from '../_lab-files-support.js';
import { PatchedLayer, plain } from '../_lab-ps-support.js';
import {
  startPausedPsGuest,
  type PausedPsGuest,
  type PausedPsGuestOptions,
} from './paused-ps-guest.js';
import { lsofPlugin } from '../lsof.js';
import { mapsPlugin } from '../maps.js';
import { walkTasks } from '../pslist.js';
import { sockstatPlugin } from '../sockstat.js';

/** include/net/tcp_states.h, in the order /proc/net/tcp numbers them. */
const STATE_NAMES = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2'];
const stateName = (state: number): string =>
  state === 10 ? 'LISTEN' : state === 7 ? 'CLOSE' : (STATE_NAMES[state] ?? String(state));

function run<Row>(
  plugin: LinuxPlugin<Row, { pids?: readonly number[] }>,
  profile: KernelProfile,
  pids: readonly number[],
): { rows: Row[]; warnings: IntrospectionWarning[] } {
  const warnings: IntrospectionWarning[] = [];
  const rows = [...plugin.run({ profile, warn: (w) => warnings.push(w) }, { pids })];
  return { rows, warnings };
}

/**
 * One boot of the lab guest running FILES_WORKLOAD, paused: maps, lsof and sockstat, live and from
 * the dump of that moment, must equal the guest's own /proc listing; then a corrupted copy of the
 * dump must give partial rows and typed warnings.
 */
export function filesGroundTruthSuite(title: string, options: PausedPsGuestOptions): void {
  void describe(title, { timeout: 600_000 }, () => {
    let fixture: PausedPsGuest | undefined;
    let files: GuestFiles;
    let pids: number[] = [];

    before(async () => {
      fixture = await startPausedPsGuest({ ...options, workload: FILES_WORKLOAD });
      const serial = readFileSync(fixture.vm.serialPath, 'utf8');
      files = parseGuestFiles(serial);
      pids = [...files.maps.keys()].sort((a, b) => a - b);
    });

    after(() => fixture?.close());

    void it('found the workload processes in the guest listing', () => {
      assert.ok(fixture !== undefined);
      assert.equal(fixture.live.slide !== 0n, options.kaslr === true);
      assert.equal(fixture.live.la57, options.la57 === true);
      // sleep ×5, nc ×2, httpd ×2, syslogd.
      assert.equal(pids.length, 10, `processes listed: ${pids.join(' ')}`);
      assert.equal(files.fds.size, pids.length);
    });

    void it('maps: every region of every workload process, live and from the dump', () => {
      assert.ok(fixture !== undefined);
      const live = run(mapsPlugin, fixture.live, pids);
      const dump = run(mapsPlugin, fixture.fromDump, pids);
      assert.deepEqual(live.warnings, []);
      assert.deepEqual(plain(live.rows), plain(dump.rows));
      for (const pid of pids) {
        const ours = live.rows
          .filter((r) => r.pid === pid)
          .map(({ start, end, flags, pgoff, major, minor, inode, path }) => ({
            start,
            end,
            flags,
            pgoff,
            major,
            minor,
            inode,
            path,
          }));
        assert.deepEqual(ours, files.maps.get(pid), `maps of ${pid}`);
      }
      assert.ok(
        live.rows.some((r) => r.path === '/bin/busybox' && r.flags === 'r-xp'),
        'busybox text',
      );
      for (const name of ['[heap]', '[stack]', '[vdso]', '[vvar]']) {
        assert.ok(
          live.rows.some((r) => r.path === name),
          name,
        );
      }
    });

    void it('lsof: every descriptor with its path, live and from the dump', () => {
      assert.ok(fixture !== undefined);
      const live = run(lsofPlugin, fixture.live, pids);
      const dump = run(lsofPlugin, fixture.fromDump, pids);
      assert.deepEqual(live.warnings, []);
      assert.deepEqual(plain(live.rows), plain(dump.rows));
      for (const pid of pids) {
        const ours = new Map(live.rows.filter((r) => r.pid === pid).map((r) => [r.fd, r.path]));
        assert.deepEqual(ours, files.fds.get(pid), `fds of ${pid}`);
      }
      const paths = live.rows.map((r) => r.path ?? '');
      for (const expected of [
        '/tmp/vmsight/data.txt',
        '/tmp/vmsight/log.txt',
        '/tmp/vmsight/gone.txt (deleted)',
        '/dev/console',
      ]) {
        assert.ok(paths.includes(expected), expected);
      }
      assert.ok(
        paths.some((p) => /^pipe:\[\d+\]$/.test(p)),
        'a pipe',
      );
      assert.ok(
        paths.some((p) => /^socket:\[\d+\]$/.test(p)),
        'a socket',
      );
    });

    void it('sockstat: every socket as /proc/net shows it, live and from the dump', () => {
      assert.ok(fixture !== undefined);
      const live = run(sockstatPlugin, fixture.live, pids);
      const dump = run(sockstatPlugin, fixture.fromDump, pids);
      assert.deepEqual(live.warnings, []);
      assert.deepEqual(plain(live.rows), plain(dump.rows));
      const inet = live.rows.filter((r) => r.protocol === 'TCP' || r.protocol === 'UDP');
      for (const row of inet) {
        const guest = files.sockets.get(row.inode);
        assert.ok(guest !== undefined, `socket ${row.inode} is not in /proc/net`);
        assert.deepEqual(
          {
            protocol: row.protocol,
            localAddress: row.localAddress,
            localPort: row.localPort,
            remoteAddress: row.remoteAddress,
            remotePort: row.remotePort,
            state: row.state,
          },
          { ...guest, state: stateName(guest.state) },
        );
      }
      // Every /proc/net socket a workload process holds is found.
      const held = new Set(
        [...files.fds.values()].flatMap((fds) =>
          [...fds.values()].flatMap((p) => /^socket:\[(\d+)\]$/.exec(p)?.[1] ?? []),
        ),
      );
      for (const inode of files.sockets.keys()) {
        if (held.has(String(inode)))
          assert.ok(
            inet.some((r) => r.inode === inode),
            `${inode}`,
          );
      }
      for (const row of live.rows.filter((r) => r.family === 'AF_UNIX')) {
        const guest = files.unix.get(row.inode);
        assert.ok(guest !== undefined, `unix socket ${row.inode}`);
        assert.equal(row.localAddress, guest.path);
        assert.equal(
          row.type,
          guest.type === 1 ? 'STREAM' : guest.type === 2 ? 'DGRAM' : 'SEQPACKET',
        );
      }
      // busybox nc -l listens on :: (dual stack) and closes its listener once it accepted.
      const expected: [string, (r: (typeof live.rows)[number]) => boolean][] = [
        [
          'the accepted nc connection (v4-mapped)',
          (r) =>
            r.family === 'AF_INET6' &&
            r.localAddress === '::ffff:127.0.0.1' &&
            r.localPort === 8080 &&
            r.remoteAddress === '::ffff:127.0.0.1' &&
            r.state === 'ESTABLISHED',
        ],
        [
          'the nc client',
          (r) =>
            r.family === 'AF_INET' &&
            r.remoteAddress === '127.0.0.1' &&
            r.remotePort === 8080 &&
            r.state === 'ESTABLISHED',
        ],
        [
          'httpd on 127.0.0.1:8081',
          (r) => r.localAddress === '127.0.0.1' && r.localPort === 8081 && r.state === 'LISTEN',
        ],
        [
          'httpd on [::1]:8082',
          (r) => r.family === 'AF_INET6' && r.localAddress === '::1' && r.localPort === 8082,
        ],
        ['syslogd on /dev/log', (r) => r.family === 'AF_UNIX' && r.localAddress === '/dev/log'],
      ];
      for (const [what, predicate] of expected) assert.ok(live.rows.some(predicate), what);
    });

    void it('survives a corrupted copy of the dump: maple loop, absurd max_fds, unmapped vm_file', async () => {
      assert.ok(fixture !== undefined);
      const { fromDump, core, vmlinux } = fixture;
      const symbols = fromDump.symbols;
      const holder = [...files.fds.entries()].find(([, fds]) => fds.has(5))?.[0];
      assert.ok(holder !== undefined, 'the sleep holding fds 3 to 5');
      const task = [...walkTasks(fromDump, () => undefined)].find(
        (t) => t.info.pid === holder,
      )?.info;
      assert.ok(task !== undefined);
      const regions = run(mapsPlugin, fromDump, [holder]).rows;
      const before = run(lsofPlugin, fromDump, [holder]).rows;
      const read64 = (va: bigint): bigint =>
        Buffer.from(fromDump.kernel.read(va, 8)).readBigUInt64LE();
      const physical = (va: bigint): bigint => {
        const hit = fromDump.kernel.translate(va);
        assert.ok(hit.ok, `translate ${va.toString(16)}`);
        return hit.physical;
      };
      const reopen = (layer: PatchedLayer): Promise<KernelProfile> =>
        openKernelProfile(layer, { vmcoreinfo: core.vmcoreinfo, kernel: vmlinux });

      // The VMA tree's root becomes an internal node (maple_range_64) whose first child is itself.
      const rootField = task.mm + BigInt(symbols.offsetOf('mm_struct', 'mm_mt') + 8);
      const node = read64(rootField) & ~0xffn;
      const looped = new PatchedLayer(core.layer)
        .patchU64(physical(rootField), node | (2n << 3n) | 4n | 2n)
        .patchU64(physical(node + 128n), node | (2n << 3n) | 4n);
      const a = run(mapsPlugin, await reopen(looped), [holder]);
      assert.ok(
        a.warnings.some((w) => w.code === 'list-loop'),
        'a maple loop warning',
      );

      // max_fds = 2^32 - 1: capped at maxFds with a warning, the real descriptors still listed.
      const filesStruct = read64(task.task + BigInt(symbols.offsetOf('task_struct', 'files')));
      const fdt = read64(filesStruct + BigInt(symbols.offsetOf('files_struct', 'fdt')));
      const absurd = new PatchedLayer(core.layer).patch(
        physical(fdt + BigInt(symbols.offsetOf('fdtable', 'max_fds'))),
        Uint8Array.of(0xff, 0xff, 0xff, 0xff),
      );
      const warnings: IntrospectionWarning[] = [];
      const b = [
        ...lsofPlugin.run(
          { profile: await reopen(absurd), warn: (w) => warnings.push(w) },
          { pids: [holder], maxFds: 4096 },
        ),
      ];
      assert.equal(warnings[0]?.code, 'bad-length');
      assert.deepEqual(plain(b.slice(0, before.length)), plain(before));

      // A file-backed region's vm_file points nowhere: the row stays, without a path.
      const backed = regions.find((r) => r.inode !== 0n);
      assert.ok(backed !== undefined);
      const vmFile = backed.vma + BigInt(symbols.offsetOf('vm_area_struct', 'vm_file'));
      const wild = new PatchedLayer(core.layer).patchU64(physical(vmFile), 0xffff_8880_7fff_0000n);
      const c = run(mapsPlugin, await reopen(wild), [holder]);
      assert.equal(c.rows.length, regions.length);
      assert.equal(c.rows.find((r) => r.vma === backed.vma)?.path, undefined);
      assert.deepEqual(
        c.warnings.map((w) => w.code),
        ['unreadable-memory'],
      );
    });
  });
}
