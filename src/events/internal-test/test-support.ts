import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GuestEvent, GuestProcess } from '../guest-event.js';

/**
 * Splits input into one-byte chunks, the way a slow pipe could deliver it: a parser must give the
 * same result as with one chunk (nats.js `byByteTest`).
 */
export function* byByte(input: string | Uint8Array): Generator<Uint8Array> {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  for (let index = 0; index < bytes.length; index += 1) yield bytes.subarray(index, index + 1);
}

/** Collects an async iterable into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Path of a file in src/events/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/**
 * The real ADFA-LD dataset: `VMSIGHT_ADFA_LD`, else `../shared/datasets/adfa-ld` beside the repo.
 * `skip` is the reason to give node:test when it is absent.
 */
export function adfaLdDataset(): { root: string; skip: false | string } {
  const root =
    process.env['VMSIGHT_ADFA_LD'] ??
    fileURLToPath(new URL('../../../../shared/datasets/adfa-ld', import.meta.url));
  return {
    root,
    skip: existsSync(root) ? false : `ADFA-LD not found at ${root} (set VMSIGHT_ADFA_LD)`,
  };
}

/** The error a promise rejects with, for assertions on code and message. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected the promise to reject');
}

const shell: GuestProcess = { pid: 42, tgid: 42, comm: 'sh', programKey: '/bin/sh' };
const base = { vm: 'lab', vcpu: 0, time: 1_700_000_000_000_000_000n } as const;

/** One event of every type: the shared sample for this file and the vmtrace round trip. */
export const SAMPLE_EVENTS: readonly GuestEvent[] = [
  {
    ...base,
    type: 'syscall',
    process: shell,
    abi: 'x86-64',
    nr: 257,
    name: 'openat',
    args: [0xffff_ff9cn, 0x7ffd_0000_1000n, 0n, 0n],
    returnValue: -2n,
    errorName: 'ENOENT',
  },
  { ...base, vcpu: null, time: null, type: 'syscall', abi: 'i386', nr: 252 },
  { ...base, type: 'port-io', port: 0x3f8, direction: 'write', size: 1, value: 0x41 },
  {
    ...base,
    type: 'mmio',
    address: 0xfebf_1000n,
    direction: 'read',
    size: 8,
    value: 0xffff_ffff_ffff_ffffn,
    region: 'virtio-pci-common',
  },
  {
    ...base,
    type: 'virtio',
    device: 'virtio-blk-pci',
    queue: 0,
    operation: 'read',
    sector: 2048n,
    length: 4096,
  },
  { ...base, type: 'context-switch', from: shell, to: { ...shell, pid: 43, tgid: 43 } },
  { ...base, type: 'process-start', process: shell, parentPid: 1 },
  { ...base, type: 'process-exit', process: shell, exitCode: 0 },
  { ...base, type: 'process-exit', process: shell, signal: 'SIGKILL' },
];
