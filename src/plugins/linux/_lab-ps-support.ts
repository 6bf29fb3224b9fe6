/**
 * Test support: the lab workload that starts known processes and prints the guest's own process
 * listing, its parser, and a physical layer that overlays patches on a real dump (to corrupt it at
 * chosen addresses without copying it).
 */
import assert from 'node:assert/strict';
import type { PhysicalLayer, PhysicalReadOptions } from '../../layers/index.js';
import type { KernelProfile } from '../../profiles/index.js';
import type { IntrospectionWarning } from '../../symbols/index.js';
import { psauxPlugin, type PsauxOptions, type PsauxRow } from './psaux.js';
import type { PslistRow } from './pslist.js';

/**
 * Busybox sh: known processes, then the boot time (`BTIME|<seconds>`, /proc/stat's btime) and one
 * line per /proc/PID: `PS|<stat>|<cmdline, NUL→space>`.
 */
export const PS_WORKLOAD = `sleep 1000 &
sh -c 'sleep 3000; echo never' vmsight-arg0 alpha beta &
nc -l -p 8080 &
sleep 1
echo PS-BEGIN
while read -r key value rest; do [ "$key" = btime ] && echo "BTIME|$value"; done < /proc/stat
for d in /proc/[0-9]*; do
  read -r stat < $d/stat || continue
  args=$(tr '\\0' ' ' < $d/cmdline)
  echo "PS|$stat|$args"
done
while read -r line; do echo "MOD|$line"; done < /proc/modules
echo PS-END
wait
`;

export interface GuestModule {
  readonly name: string;
  readonly size: number;
  readonly base: bigint;
}

/** Parses the `MOD|…` lines (/proc/modules: name size refcount deps state address). */
export function parseGuestModules(serial: string): GuestModule[] {
  const found: GuestModule[] = [];
  for (const line of serial.split(/\r?\n/)) {
    const match = /^MOD\|(\S+) (\d+) \S+ \S+ \S+ 0x([0-9a-f]+)/.exec(line);
    if (match === null) continue;
    found.push({
      name: match[1] ?? '',
      size: Number(match[2]),
      base: BigInt(`0x${match[3] ?? '0'}`),
    });
  }
  return found;
}

export interface GuestProcess {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  readonly args: string;
  /** /proc/PID/stat field 22: clock ticks (USER_HZ) after boot, from start_boottime. */
  readonly startTicks: number;
}

/** USER_HZ of x86 Linux (include/asm-generic/param.h): the unit of /proc/PID/stat's times. */
export const USER_HZ = 100;

/** The guest's `BTIME|…` line: /proc/stat's btime, whole seconds since the epoch (undefined if absent). */
export function parseGuestBootTime(serial: string): number | undefined {
  const match = /^BTIME\|(\d+)\s*$/m.exec(serial);
  return match === null ? undefined : Number(match[1]);
}

/** Parses the `PS|…` lines of a serial log (fs/proc/array.c: "pid (comm) state ppid …"). */
export function parseGuestListing(serial: string): Map<number, GuestProcess> {
  const found = new Map<number, GuestProcess>();
  for (const line of serial.split(/\r?\n/)) {
    const match = /^PS\|(\d+) \((.*)\) \S (\d+) ([^|]*)\|(.*)$/.exec(line);
    if (match === null) continue;
    const pid = Number(match[1]);
    // The fields after ppid start at field 5 (pgrp); starttime is field 22.
    const rest = (match[4] ?? '').split(' ');
    found.set(pid, {
      pid,
      comm: match[2] ?? '',
      ppid: Number(match[3]),
      args: (match[5] ?? '').trimEnd(),
      startTicks: Number(rest[22 - 5]),
    });
  }
  return found;
}

/** A physical layer with some bytes replaced. */
export class PatchedLayer implements PhysicalLayer {
  readonly name = 'patched';
  readonly #base: PhysicalLayer;
  readonly #patches: { address: bigint; bytes: Uint8Array }[] = [];

  constructor(base: PhysicalLayer) {
    this.#base = base;
  }

  get ranges(): PhysicalLayer['ranges'] {
    return this.#base.ranges;
  }

  patch(address: bigint, bytes: Uint8Array): this {
    this.#patches.push({ address, bytes });
    return this;
  }

  patchU64(address: bigint, value: bigint): this {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64LE(BigInt.asUintN(64, value));
    return this.patch(address, bytes);
  }

  isValid(address: bigint, length?: number): boolean {
    return this.#base.isValid(address, length);
  }

  read(address: bigint, length: number, options?: PhysicalReadOptions): Uint8Array {
    const out = Uint8Array.from(this.#base.read(address, length, options));
    const end = address + BigInt(length);
    for (const { address: at, bytes } of this.#patches) {
      for (let i = 0; i < bytes.length; i += 1) {
        const target = at + BigInt(i);
        if (target >= address && target < end) out[Number(target - address)] = bytes[i] ?? 0;
      }
    }
    return out;
  }

  invalidate(): void {
    this.#base.invalidate();
  }

  close(): void {
    // The base layer belongs to the caller.
  }
}

export function psaux(profile: KernelProfile, options: PsauxOptions = {}) {
  const warnings: IntrospectionWarning[] = [];
  const rows = [...psauxPlugin.run({ profile, warn: (w) => warnings.push(w) }, options)];
  return { rows, warnings };
}

export const plain = (rows: readonly object[]): unknown =>
  JSON.parse(
    JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v)),
  );

/** Checks vmsight's rows against the guest's own listing, allowing kernel workers that came or went. */
export function assertMatchesGuest(
  rows: readonly PsauxRow[],
  guest: ReadonlyMap<number, GuestProcess>,
): void {
  const ours = new Map(rows.filter((r) => r.pid !== 0).map((r) => [r.pid, r]));
  const churn = (p: { pid: number; ppid: number }): boolean => p.ppid === 2;
  for (const [pid, process] of guest) {
    const row = ours.get(pid);
    if (row === undefined) {
      assert.ok(churn(process), `guest process ${pid} ${process.comm} is missing`);
      continue;
    }
    // Since Linux 5.17, /proc shows a kernel thread's full name (struct kthread.full_name); its
    // task_struct.comm holds the first TASK_COMM_LEN - 1 bytes.
    // Workqueue workers also show their current workqueue (wq_worker_comm(), "kworker/0:1-events").
    const comm = row.kernelThread && process.comm.startsWith(row.comm) ? row.comm : process.comm;
    assert.deepEqual(
      { pid: row.pid, ppid: row.ppid, comm: row.comm, args: row.args },
      { pid, ppid: process.ppid, comm, args: process.args },
    );
  }
  for (const row of ours.values()) {
    if (!guest.has(row.pid))
      assert.ok(churn(row), `process ${row.pid} ${row.comm} is not in the guest listing`);
  }
  assert.ok(rows.every((r) => r.uid === 0 && /^[RSDTtZXPI]$/.test(r.state)));
}

/**
 * Checks each row's creation time against the guest's own: /proc/stat's btime (whole seconds)
 * plus /proc/PID/stat's starttime (USER_HZ ticks, truncated), so within 1.5 s. Returns how many
 * processes were compared and the largest difference, in seconds.
 */
export function assertCreateTimesMatchGuest(
  rows: readonly PslistRow[],
  guest: ReadonlyMap<number, GuestProcess>,
  btime: number,
): { compared: number; maxDifference: number } {
  let compared = 0;
  let maxDifference = 0;
  for (const row of rows) {
    const process = guest.get(row.pid);
    if (process === undefined || row.pid === 0) continue;
    assert.ok(row.createTime !== undefined, `process ${row.pid} has no creation time`);
    assert.match(row.createTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const expected = btime + process.startTicks / USER_HZ;
    const got = Date.parse(row.createTime) / 1000;
    maxDifference = Math.max(maxDifference, Math.abs(got - expected));
    assert.ok(
      Math.abs(got - expected) <= 1.5,
      `process ${row.pid} ${row.comm}: created ${row.createTime}, the guest says ${new Date(expected * 1000).toISOString()}`,
    );
    compared += 1;
  }
  return { compared, maxDifference };
}
