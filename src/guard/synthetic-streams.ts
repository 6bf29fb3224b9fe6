import { IoKind, IoWindowBuilder } from './io-window.js';
import type { WindowRef } from './protocol.js';

/**
 * Per-VM I/O windows shaped like the lab guest's (lab-notes.md §5: serial UART at 0x3f8, ACPI PM
 * timer reads, MSI writes to 0xfee00000, virtio-blk notify MMIO with ioeventfd=off, HPET), for
 * benchmarks at VM counts the lab cannot boot. A fraction of VMs run the VENOM write loop.
 */
export const StreamKind = { IDLE: 'idle', SERIAL: 'serial', DISK: 'disk', VENOM: 'venom' } as const;
export type StreamKind = (typeof StreamKind)[keyof typeof StreamKind];

const VIRTIO_NOTIFY = 0xfebff000;

/** Deterministic pseudo-random numbers (xorshift32), so runs are comparable. */
export function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

/** Appends one window of `size` accesses of the given kind to `builder`. */
export function appendWindow(
  builder: IoWindowBuilder,
  kind: StreamKind,
  size: number,
  random: () => number,
  time: bigint,
): void {
  for (let i = 0; i < size; i += 1) {
    const t = time + BigInt(i * 1000);
    switch (kind) {
      case StreamKind.IDLE:
        if (i % 8 === 7) builder.add(IoKind.MMIO_WRITE, 0xfee00380, 0x3a9d2, 4, t);
        else builder.add(IoKind.PORT_READ, 0x608, Math.floor(random() * 0xffffff), 4, t);
        break;
      case StreamKind.SERIAL:
        if (i % 2 === 0) builder.add(IoKind.PORT_READ, 0x3fd, 0x60, 1, t);
        else builder.add(IoKind.PORT_WRITE, 0x3f8, 0x20 + Math.floor(random() * 0x5f), 1, t);
        break;
      case StreamKind.DISK: {
        const phase = i % 4;
        if (phase === 0) builder.add(IoKind.MMIO_WRITE, VIRTIO_NOTIFY, 0, 2, t);
        else if (phase === 1) builder.add(IoKind.MMIO_WRITE, 0xfee00380, 0x3a9d2, 4, t);
        else builder.add(IoKind.PORT_READ, 0x608, Math.floor(random() * 0xffffff), 4, t);
        break;
      }
      case StreamKind.VENOM:
        builder.add(IoKind.PORT_WRITE, 0x3f5, i === 0 ? 0x8e : 0x42, 1, t);
        break;
    }
  }
}

/** The kind of VM `index` out of `count`: 1 in 200 runs VENOM, the rest a realistic mix. */
export function streamKindOf(index: number): StreamKind {
  if (index % 200 === 99) return StreamKind.VENOM;
  const r = index % 10;
  return r < 5 ? StreamKind.IDLE : r < 8 ? StreamKind.SERIAL : StreamKind.DISK;
}

/** Encodes a batch: windows of VMs `[first, first + count)`. */
export function syntheticBatch(
  first: number,
  count: number,
  windowSize: number,
  round: number,
  random: () => number,
): { refs: WindowRef[]; io: Float64Array; times: BigInt64Array; escapes: number } {
  const builder = new IoWindowBuilder(count * windowSize);
  const refs: WindowRef[] = [];
  let escapes = 0;
  const now = BigInt(Date.now()) * 1_000_000n;
  for (let i = 0; i < count; i += 1) {
    const vmIndex = first + i;
    // A VENOM VM only starts its attack in round 2, after looking benign.
    const kind =
      streamKindOf(vmIndex) === StreamKind.VENOM && round < 2
        ? StreamKind.SERIAL
        : streamKindOf(vmIndex);
    if (kind === StreamKind.VENOM) escapes += 1;
    const start = builder.count;
    appendWindow(builder, kind, windowSize, random, now);
    refs.push({ vm: `vm${vmIndex}`, id: i, start, count: windowSize });
  }
  const { io, times } = builder.finish();
  return { refs, io, times, escapes };
}
