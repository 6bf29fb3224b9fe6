import { fileURLToPath } from 'node:url';
import { VmsightError } from '../core/index.js';
import { readGuestEvents } from '../events/index.js';
import { IO_STRIDE, IoWindowBuilder } from './io-window.js';
import type { WindowRef } from './protocol.js';

/**
 * The lab guest under TCG booting and running serial, virtio-blk, virtio-net and PCI-config
 * workloads, as the guard saw it (recorded by guard-tcg-benign.qemu.test.ts with
 * VMSIGHT_RECORD_GUARD_FIXTURE=1).
 */
export const RECORDED_BENIGN_STREAM = fileURLToPath(
  new URL('./fixtures/lab-tcg-workload.vmtrace.jsonl.zst', import.meta.url),
);
/** A real VENOM write loop from the lab's boot-sector guest under KVM, captured with kvm_pio. */
export const RECORDED_ESCAPE_STREAM = fileURLToPath(
  new URL('./fixtures/kvm-venom-bootsector.vmtrace.jsonl.zst', import.meta.url),
);

/** Enough for the fixtures; a bigger recording is cut, not loaded whole. */
const MAX_EVENTS = 200_000;

/** Recorded port/MMIO streams cut into windows, to replay as many VMs. */
export interface RecordedStreams {
  readonly windowSize: number;
  /** `IO_STRIDE` float64 per access (io-window.ts), `windowSize` accesses per window. */
  readonly benign: readonly Float64Array[];
  /** The escape recording from its first write to the floppy data FIFO on. */
  readonly escape: readonly Float64Array[];
}

async function windowsOf(
  path: string,
  windowSize: number,
  startAt?: (event: { port: number; direction: string }) => boolean,
): Promise<Float64Array[]> {
  const windows: Float64Array[] = [];
  let builder = new IoWindowBuilder(windowSize);
  let started = startAt === undefined;
  let seen = 0;
  for await (const event of readGuestEvents('vmtrace', path)) {
    if (event.type !== 'port-io' && event.type !== 'mmio') continue;
    if (!started && event.type === 'port-io' && startAt?.(event) === true) started = true;
    if (!started) continue;
    if (++seen > MAX_EVENTS) break;
    builder.addEvent(event);
    if (builder.count === windowSize) {
      windows.push(builder.finish().io);
      builder = new IoWindowBuilder(windowSize);
    }
  }
  if (windows.length === 0)
    throw new VmsightError('INVALID_INPUT', `Recorded stream "${path}" has no full window`);
  return windows;
}

/**
 * Loads the recorded benign stream and the recorded escape (from its first write to the floppy
 * data FIFO on, where the attack starts) as windows of `windowSize` accesses.
 */
export async function loadRecordedStreams(
  windowSize: number,
  paths: { benign: string; escape: string } = {
    benign: RECORDED_BENIGN_STREAM,
    escape: RECORDED_ESCAPE_STREAM,
  },
): Promise<RecordedStreams> {
  return {
    windowSize,
    benign: await windowsOf(paths.benign, windowSize),
    // The attack begins with the first write to the floppy controller's data FIFO (0x3f5).
    escape: await windowsOf(
      paths.escape,
      windowSize,
      (event) => event.port === 0x3f5 && event.direction === 'write',
    ),
  };
}

/**
 * A batch of windows of VMs `[first, first + count)` for `round`: every VM replays the benign
 * recording from its own offset (so VMs are at different points of the same guest's life), and 1 in
 * 200 VMs replays the escape recording from round 2 on, after looking benign.
 */
export function recordedBatch(
  streams: RecordedStreams,
  first: number,
  count: number,
  round: number,
): { refs: WindowRef[]; io: Float64Array; times: BigInt64Array; escapes: number } {
  const size = streams.windowSize;
  const io = new Float64Array(count * size * IO_STRIDE);
  const times = new BigInt64Array(count * size).fill(BigInt(Date.now()) * 1_000_000n);
  const refs: WindowRef[] = [];
  let escapes = 0;
  for (let i = 0; i < count; i += 1) {
    const vm = first + i;
    const attacking = vm % 200 === 99 && round >= 2;
    const source = attacking ? streams.escape : streams.benign;
    const index = attacking ? (round - 2) % source.length : (vm * 7919 + round) % source.length;
    if (attacking) escapes += 1;
    io.set(source[index] as Float64Array, i * size * IO_STRIDE);
    refs.push({ vm: `vm${vm}`, id: i, start: i * size, count: size });
  }
  return { refs, io, times, escapes };
}
