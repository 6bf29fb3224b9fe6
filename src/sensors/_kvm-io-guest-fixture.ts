/**
 * A guest of the tests' own making that KVM can run on these hosts (lab-notes.md §8: kvm_pvm runs
 * SeaBIOS and a hand-made boot sector, not a stock kernel): a boot sector that switches to 32-bit
 * protected mode (flat segments, so MMIO above 1 MiB is reachable), performs a known list of port
 * and MMIO accesses `repeat` times, writes 'K' to COM1 and halts. Assembled on the host with GNU as
 * and ld (binutils, present wherever gcc is). Shared by the KVM sensor's test and bench.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { QmpClient } from '../connectors/index.js';

const run = promisify(execFile);

export interface IoOp {
  readonly kind: 'pio' | 'mmio';
  readonly direction: 'read' | 'write';
  readonly size: 1 | 2 | 4;
  /** Port number or guest-physical address. */
  readonly at: number;
  /** Written value, or the value the device answers for a read. */
  readonly value: number;
}

/** Port 0x3f8 (COM1) write of 'K': the guest's last access, after every repeat. */
export const END_PORT = 0x3f8;
export const END_VALUE = 0x4b;

/**
 * Distinct values, every width, reads with known answers: an unassigned port (QEMU answers all
 * ones), CMOS RAM byte 0x48 (written, then read back), an unassigned MMIO page (writes ignored,
 * reads 0), the HPET's capabilities (vendor 8086, rev 1, 3 timers; period 10 ns = 0x989680 fs;
 * QEMU hw/timer/hpet.c) and the in-kernel IOAPIC's version register (0x11, 24 pins).
 */
export const IO_SEQUENCE: readonly IoOp[] = [
  { kind: 'pio', direction: 'write', size: 1, at: 0x250, value: 0x11 },
  { kind: 'pio', direction: 'write', size: 2, at: 0x250, value: 0x2233 },
  { kind: 'pio', direction: 'write', size: 4, at: 0x250, value: 0x44556677 },
  { kind: 'pio', direction: 'read', size: 1, at: 0x250, value: 0xff },
  { kind: 'pio', direction: 'read', size: 2, at: 0x250, value: 0xffff },
  { kind: 'pio', direction: 'read', size: 4, at: 0x250, value: 0xffffffff },
  { kind: 'pio', direction: 'write', size: 1, at: 0x70, value: 0x48 },
  { kind: 'pio', direction: 'write', size: 1, at: 0x71, value: 0x5c },
  { kind: 'pio', direction: 'write', size: 1, at: 0x70, value: 0x48 },
  { kind: 'pio', direction: 'read', size: 1, at: 0x71, value: 0x5c },
  { kind: 'mmio', direction: 'write', size: 4, at: 0xfe800000, value: 0x12345678 },
  { kind: 'mmio', direction: 'write', size: 2, at: 0xfe800010, value: 0xbeef },
  { kind: 'mmio', direction: 'write', size: 1, at: 0xfe800020, value: 0xa5 },
  { kind: 'mmio', direction: 'read', size: 4, at: 0xfed00000, value: 0x8086a201 },
  { kind: 'mmio', direction: 'read', size: 4, at: 0xfed00004, value: 0x00989680 },
  { kind: 'mmio', direction: 'read', size: 1, at: 0xfe800030, value: 0 },
  { kind: 'mmio', direction: 'write', size: 4, at: 0xfec00000, value: 0x01 },
  { kind: 'mmio', direction: 'read', size: 4, at: 0xfec00010, value: 0x00170011 },
];

const REGISTER = { 1: '%al', 2: '%ax', 4: '%eax' } as const;
const SUFFIX = { 1: 'b', 2: 'w', 4: 'l' } as const;

function opAssembly(op: IoOp): string[] {
  const reg = REGISTER[op.size];
  const at = `0x${op.at.toString(16)}`;
  const value = `0x${op.value.toString(16)}`;
  if (op.kind === 'pio') {
    return op.direction === 'write'
      ? [`mov $${at},%dx`, `mov $${value},${reg}`, `out ${reg},%dx`]
      : [`mov $${at},%dx`, `in %dx,${reg}`];
  }
  return op.direction === 'write'
    ? [`mov${SUFFIX[op.size]} $${value},${at}`]
    : [`mov ${at},${reg}`];
}

/** GNU as source of the boot sector (Intel SDM vol. 3 §9.9.1: switching to protected mode). */
export function bootSectorSource(ops: readonly IoOp[], repeat: number): string {
  return [
    '.code16',
    '.globl _start',
    '_start:',
    'cli',
    'xor %ax,%ax',
    'mov %ax,%ds',
    'lgdtl gdtr',
    'mov %cr0,%eax',
    'or $1,%eax',
    'mov %eax,%cr0',
    'ljmpl $0x08,$pm',
    '.code32',
    'pm:',
    'mov $0x10,%ax',
    'mov %ax,%ds',
    'mov %ax,%es',
    'mov %ax,%ss',
    `mov $${repeat},%ecx`,
    'again:',
    ...ops.flatMap(opAssembly),
    'dec %ecx',
    'jnz again',
    `mov $0x${END_PORT.toString(16)},%dx`,
    `mov $0x${END_VALUE.toString(16)},%al`,
    'out %al,%dx',
    'halt: hlt',
    'jmp halt',
    '.p2align 3',
    'gdt: .quad 0',
    '.quad 0x00cf9a000000ffff', // 0x08: flat 32-bit code
    '.quad 0x00cf92000000ffff', // 0x10: flat 32-bit data
    'gdtr: .word gdtr-gdt-1',
    '.long gdt',
    '. = _start + 510',
    '.byte 0x55,0xaa',
    '',
  ].join('\n');
}

export interface KvmIoGuest {
  readonly pid: number;
  readonly qmp: QmpClient;
  readonly serialPath: string;
  /** Occurrences of the end marker on the serial port so far. */
  completions(): Promise<number>;
  stop(): Promise<void>;
}

/** Why the KVM tests cannot run here, or undefined when they can. */
export function kvmSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'KVM sensor needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (tracefs instances)';
  if (!existsSync('/dev/kvm')) return 'needs /dev/kvm';
  if (!existsSync('/usr/bin/qemu-system-x86_64')) return 'needs qemu-system-x86_64';
  if (!existsSync('/usr/bin/as') || !existsSync('/usr/bin/ld')) return 'needs binutils (as, ld)';
  return undefined;
}

/**
 * Assembles the guest and starts it under `-accel kvm`, paused (`-S`) so a sensor can attach
 * before the first instruction. It boots from an IDE disk: from a floppy SeaBIOS took anywhere
 * from 2 s to over 40 s under kvm_pvm on a loaded host (halted, waiting for the controller's
 * interrupt), from IDE 7-9 s every time (measured, load average 7-9). No `-no-reboot`: the
 * tests re-run the guest with QMP `system_reset`, which that option turns into an exit.
 * `extraArgs` are added to QEMU's command line (e.g. a second `-qmp` for a command under test).
 */
export async function startKvmIoGuest(
  ops: readonly IoOp[],
  repeat: number,
  options: {
    readonly extraArgs?: readonly string[];
    /** A boot sector of the test's own (GNU as source) instead of the I/O loop of `ops`. */
    readonly source?: string;
  } = {},
): Promise<KvmIoGuest> {
  const dir = await mkdtemp(join(tmpdir(), 'vmsight-kvm-guest-'));
  let qemu: ChildProcess | undefined;
  try {
    await writeFile(join(dir, 'guest.S'), options.source ?? bootSectorSource(ops, repeat));
    await run('as', ['--32', '-o', join(dir, 'guest.o'), join(dir, 'guest.S')]);
    const image = join(dir, 'guest.img');
    await run('ld', [
      '-m',
      'elf_i386',
      '-Ttext',
      '0x7c00',
      '--oformat',
      'binary',
      '-o',
      image,
      join(dir, 'guest.o'),
    ]);
    await truncate(image, 1_474_560);
    const socket = join(dir, 'qmp.sock');
    const serialPath = join(dir, 'serial.txt');
    // prettier-ignore
    qemu = spawn('qemu-system-x86_64', [
      '-accel', 'kvm', '-m', '16M', '-drive', `file=${image},format=raw,if=ide`, '-boot', 'c',
      '-display', 'none', '-nic', 'none', '-serial', `file:${serialPath}`, '-S',
      '-qmp', `unix:${socket},server=on,wait=off`, ...(options.extraArgs ?? []),
    ], { stdio: 'ignore' });
    const child = qemu;
    for (let i = 0; i < 200 && !existsSync(socket); i += 1) {
      if (child.exitCode !== null) throw new Error(`QEMU exited with ${child.exitCode}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const qmp = await QmpClient.connect(socket);
    return {
      pid: child.pid as number,
      qmp,
      serialPath,
      async completions() {
        const text = await readFile(serialPath, 'latin1').catch(() => '');
        return text.split(String.fromCharCode(END_VALUE)).length - 1;
      },
      async stop() {
        await qmp.close().catch(() => undefined);
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGKILL');
          await exited;
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (qemu?.exitCode === null) qemu.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
