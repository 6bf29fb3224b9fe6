/**
 * Test support for the guard's real-guest tests: libc-free trigger programs built with gcc on the
 * host and handed to the lab guest with fw_cfg, and the QEMU trace log (lab-notes.md §5) read as
 * the guard's I/O sensor.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { QmpClient } from '../../connectors/index.js';
import type { GuestEvent } from '../../events/index.js';
import {
  EscapeGuard,
  loadRules,
  queryPciGuardLayout,
  type GuardAlert,
  type GuardVerdict,
  type PciGuardLayout,
} from '../../guard/index.js';
import { startLabVm, type LabVm } from '../../lab/index.js';
import { IoTraceDecoder, TcgLogParser } from '../../sensors/index.js';

export const CAN_BUILD_GUEST_PROGRAMS =
  existsSync('/usr/bin/qemu-system-x86_64') && existsSync('/usr/bin/gcc');

/**
 * What every trigger program starts with. No libc: a glibc -static binary is 800 KB, and the
 * guest's qemu_fw_cfg driver reads it byte by byte through port 0x511 many times over (74 M trace
 * lines); these are a few KB. Syscall numbers are x86-64's (arch/x86/entry/syscalls/syscall_64.tbl).
 * A program defines `static int run(int argc, char **argv)`.
 */
const PRELUDE = String.raw`
typedef unsigned long u64; typedef unsigned int u32; typedef unsigned short u16; typedef unsigned char u8;
#define UNUSED __attribute__((unused))
static long sys6(long n, long a, long b, long c, long d, long e, long f) {
  long r;
  register long r10 __asm__("r10") = d; register long r8 __asm__("r8") = e; register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
  return r;
}
#define sys3(n, a, b, c) sys6(n, a, b, c, 0, 0, 0)
UNUSED static void outb(u8 v, u16 p) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(p)); }
UNUSED static void outw(u16 v, u16 p) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(p)); }
UNUSED static void outl(u32 v, u16 p) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(p)); }
UNUSED static u8 inb(u16 p) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
UNUSED static u16 inw(u16 p) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static long len(const char *s) { long n = 0; while (s[n]) n++; return n; }
static void say(const char *s) { sys3(1, 1, (long)s, len(s)); }
static void die(const char *s) { say(s); sys3(60, 1, 0, 0); }
UNUSED static u64 hex(const char *s) {
  u64 v = 0;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2;
  for (; *s; s++) {
    int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : -1;
    if (d < 0) break;
    v = v * 16 + (u64)d;
  }
  return v;
}
UNUSED static void ports(u64 base, u64 count) { if (sys3(173, (long)base, (long)count, 1) != 0) die("ioperm failed\n"); }
UNUSED static void pause_ms(long ms) { long ts[2] = { ms / 1000, (ms % 1000) * 1000000 }; sys3(35, (long)ts, 0, 0); }
/* PCI command register (config offset 4) through sysfs: I/O + memory decoding and bus mastering. */
UNUSED static void enable_device(const char *dir) {
  char path[256]; long n = len(dir); u16 cmd = 0;
  if (n > 200) die("path too long\n");
  for (long i = 0; i < n; i++) path[i] = dir[i];
  const char *tail = "/config"; for (long i = 0; i <= 7; i++) path[n + i] = tail[i];
  long fd = sys3(2, (long)path, 2, 0);
  if (fd < 0) die("cannot open config\n");
  sys6(17, fd, (long)&cmd, 2, 4, 0, 0);
  cmd |= 7;
  sys6(18, fd, (long)&cmd, 2, 4, 0, 0);
  sys3(3, fd, 0, 0);
}
/* A PCI BAR mapped through its sysfs resourceN file (Documentation/PCI/sysfs-pci.rst). */
UNUSED static volatile u8 *map_bar(const char *resource, u64 size) {
  long fd = sys3(2, (long)resource, 02 | 04010000, 0); /* O_RDWR | O_SYNC */
  if (fd < 0) die("cannot open resource\n");
  long p = sys6(9, 0, (long)size, 3, 1, fd, 0); /* PROT_READ|PROT_WRITE, MAP_SHARED */
  if (p < 0 && p > -4096) die("cannot mmap resource\n");
  return (volatile u8 *)p;
}
/* One locked page of RAM and its guest-physical address (/proc/self/pagemap, root sees PFNs). */
UNUSED static u8 *dma_page(u64 *phys) {
  long p = sys6(9, 0, 4096, 3, 0x22 | 0x2000 | 0x8000, -1, 0); /* PRIVATE|ANON|LOCKED|POPULATE */
  if (p < 0 && p > -4096) die("cannot mmap a page\n");
  u8 *page = (u8 *)p;
  for (int i = 0; i < 4096; i++) page[i] = 0;
  long fd = sys3(2, (long)"/proc/self/pagemap", 0, 0);
  u64 entry = 0;
  if (fd < 0 || sys6(17, fd, (long)&entry, 8, (long)(p / 4096 * 8), 0, 0) != 8) die("cannot read pagemap\n");
  sys3(3, fd, 0, 0);
  if (!(entry >> 63) || (entry & ((1UL << 55) - 1)) == 0) die("page not present\n");
  *phys = (entry & ((1UL << 55) - 1)) * 4096;
  return page;
}
UNUSED static void w32(volatile u8 *b, u32 off, u32 v) { *(volatile u32 *)(b + off) = v; }
UNUSED static u32 r32(volatile u8 *b, u32 off) { return *(volatile u32 *)(b + off); }
static int run(int argc, char **argv);
__asm__(".globl _start\n_start:\n xor %rbp, %rbp\n mov (%rsp), %rdi\n lea 8(%rsp), %rsi\n and $-16, %rsp\n call cstart\n hlt\n");
void cstart(long argc, char **argv) { sys3(60, run((int)argc, argv), 0, 0); }
`;

/** A trigger program: its name (fw_cfg `opt/<name>`, `/tmp/<name>` in the guest) and its body. */
export interface GuestProgram {
  readonly name: string;
  /** C text after the prelude: defines `static int run(int argc, char **argv)`. */
  readonly body: string;
}

/** VENOM-shaped writes: FD_CMD_DRIVE_SPECIFICATION_COMMAND (0x8e), then 1,000 bytes to 0x3f5. */
export const VENOM_PROGRAM: GuestProgram = {
  name: 'venom',
  body: String.raw`
static int run(int argc, char **argv) {
  (void)argc; (void)argv;
  ports(0x3f0, 8);
  outb(0x8e, 0x3f5);
  for (int i = 0; i < 1000; i++) outb(0x42, 0x3f5);
  say("VENOM-WRITES-DONE\n");
  return 0;
}
`,
};

/**
 * Compiles each program to a static, libc-free binary in `dir` and returns the QEMU arguments that
 * hand them to the guest, and the shell lines that install them as `/tmp/<name>`.
 */
export function buildGuestPrograms(
  dir: string,
  programs: readonly GuestProgram[],
): { qemuArgs: string[]; install: string[] } {
  const qemuArgs: string[] = [];
  const install: string[] = [];
  for (const program of programs) {
    if (!/^[a-z0-9-]{1,32}$/.test(program.name))
      throw new Error(`bad program name ${program.name}`);
    const source = join(dir, `${program.name}.c`);
    const binary = join(dir, program.name);
    writeFileSync(source, PRELUDE + program.body);
    execFileSync('gcc', [
      '-static',
      '-nostdlib',
      '-fno-stack-protector',
      '-O1',
      '-o',
      binary,
      source,
    ]);
    qemuArgs.push('-fw_cfg', `name=opt/${program.name},file=${binary}`);
    install.push(
      `cat /sys/firmware/qemu_fw_cfg/by_name/opt/${program.name}/raw > /tmp/${program.name} && chmod +x /tmp/${program.name}`,
    );
  }
  return { qemuArgs, install };
}

/** Guest shell: `pcidev VENDOR DEVICE` prints the sysfs directory of the first such PCI function. */
export const PCIDEV_SHELL = `pcidev() { for d in /sys/bus/pci/devices/*; do [ "$(cat $d/vendor):$(cat $d/device)" = "$1:$2" ] && { echo $d; return 0; }; done; return 1; }`;

/** QEMU arguments that make every port and MMIO access a timestamped line of `log`. */
export function ioTraceArgs(log: string): string[] {
  return [
    '-trace',
    'enable=memory_region_ops_read',
    '-trace',
    'enable=memory_region_ops_write',
    '-D',
    log,
    '-msg',
    'timestamp=on',
  ];
}

/** The QEMU trace log read incrementally as port-io/mmio events (QEMU keeps its own offset). */
export class TraceIoFeed {
  readonly byAddress = new Map<string, number>();
  events = 0;
  readonly #log: string;
  readonly #parser = new TcgLogParser();
  readonly #decoder: IoTraceDecoder;
  #offset = 0;
  #rest = '';

  constructor(log: string, vm: string) {
    this.#log = log;
    this.#decoder = new IoTraceDecoder({ vm });
  }

  /** The port and MMIO events appended since the last call (at most 8 MiB of log per call). */
  poll(): GuestEvent[] {
    const size = existsSync(this.#log) ? statSync(this.#log).size : 0;
    if (size <= this.#offset) return [];
    const fd = openSync(this.#log, 'r');
    const buffer = Buffer.alloc(Math.min(size - this.#offset, 8 * 1024 * 1024));
    const read = readSync(fd, buffer, 0, buffer.length, this.#offset);
    closeSync(fd);
    this.#offset += read;
    const lines = (this.#rest + buffer.subarray(0, read).toString('latin1')).split('\n');
    this.#rest = lines.pop() ?? '';
    const events: GuestEvent[] = [];
    for (const line of lines) {
      for (const record of this.#parser.push(line)) {
        if (record.kind !== 'trace') continue;
        const event = this.#decoder.decode(record);
        if (event === undefined || (event.type !== 'port-io' && event.type !== 'mmio')) continue;
        events.push(event);
        const key =
          event.type === 'port-io'
            ? `port 0x${event.port.toString(16)}`
            : `mmio 0x${event.address.toString(16)}`;
        this.byAddress.set(key, (this.byAddress.get(key) ?? 0) + 1);
      }
    }
    this.events += events.length;
    return events;
  }

  busiest(n = 8): [string, number][] {
    return [...this.byAddress].sort((a, b) => b[1] - a[1]).slice(0, n);
  }
}

/**
 * Feeds the log to the guard in windows of 256 until `done()` says so or the deadline passes;
 * `onVerdicts` sees every batch's verdicts (the test plays operator there, e.g. `cont`).
 */
export async function pumpGuard(options: {
  readonly feed: TraceIoFeed;
  readonly guard: EscapeGuard;
  readonly vm: string;
  readonly timeoutMs: number;
  readonly done: () => boolean | Promise<boolean>;
  /** The verdicts of one window (one per call), with that window's events. */
  readonly onVerdicts?: (
    verdicts: readonly GuardVerdict[],
    events: readonly GuestEvent[],
  ) => void | Promise<void>;
}): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    const events = options.feed.poll();
    for (let i = 0; i < events.length; i += 256) {
      const window = events.slice(i, i + 256);
      const verdicts = await options.guard.scan([{ vm: options.vm, events: window }]);
      await options.onVerdicts?.(verdicts, window);
    }
    if (events.length === 0) {
      if (await options.done()) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A booted lab guest whose every port and MMIO access goes through an escape guard. */
export interface GuardedLabGuest {
  readonly vm: LabVm;
  readonly qmp: QmpClient;
  /** Where the firmware put the PCI devices (QMP query-pci), as the guard was given it. */
  readonly layout: PciGuardLayout;
  readonly guard: EscapeGuard;
  readonly alerts: GuardAlert[];
  readonly feed: TraceIoFeed;
  /** Closes the guard and stops the VM (idempotent). */
  close(): Promise<void>;
}

/**
 * Boots the lab guest under TCG with the trace-event sensor, resolves the device BARs over QMP,
 * and starts a guard that pauses the VM with QMP `stop` on `block` and reads memory predicates
 * from the live RAM file. The analysis engine is a stub that calls everything normal: these tests
 * are about the rules.
 */
export async function startGuardedLabGuest(options: {
  /** The VM's name in verdicts and alerts. */
  readonly name: string;
  /** Scratch directory (the trace log goes there). */
  readonly dir: string;
  readonly workload: string;
  readonly extraArgs: readonly string[];
}): Promise<GuardedLabGuest> {
  const log = join(options.dir, 'qemu-trace.log');
  const vm = await startLabVm({
    workload: options.workload,
    bootTimeoutMs: 180_000,
    extraArgs: [...options.extraArgs, ...ioTraceArgs(log)],
  });
  try {
    const qmp = await vm.qmp();
    const layout = await queryPciGuardLayout(qmp);
    const alerts: GuardAlert[] = [];
    const guard = EscapeGuard.start({
      rules: await loadRules(),
      engine: { analyse: () => Promise.resolve({ anomalous: false, score: 0 }) },
      bindings: layout.bindings,
      mmioWindows: layout.mmioWindows,
      memoryFiles: { [options.name]: vm.ramPath },
      controller: { pause: async () => void (await qmp.execute('stop')) },
      onAlert: (alert) => alerts.push(alert),
    });
    let closed = false;
    return {
      vm,
      qmp,
      layout,
      guard,
      alerts,
      feed: new TraceIoFeed(log, options.name),
      close: async () => {
        if (closed) return;
        closed = true;
        await guard.close().finally(() => vm.stop());
      },
    };
  } catch (error) {
    await vm.stop();
    throw error;
  }
}

/** One line per alert: rule and the accesses that made it (for assertion messages). */
export function describeAlerts(alerts: readonly GuardAlert[]): string[] {
  return alerts.map(
    (alert) =>
      `${alert.ruleId} ${alert.events.map((e) => `${e.direction} 0x${e.address.toString(16)}=0x${e.value.toString(16)}`).join(' ')}`,
  );
}

/**
 * A test file's scratch directory and its one guarded guest: `after()` closes the guest and removes
 * the directory, pass or fail (the guest is never left running).
 */
export function guardedGuestScope(prefix: string): {
  readonly dir: string;
  start(options: Omit<Parameters<typeof startGuardedLabGuest>[0], 'dir'>): Promise<GuardedLabGuest>;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let guest: GuardedLabGuest | undefined;
  after(async () => {
    await guest?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    start: async (options) => (guest = await startGuardedLabGuest({ ...options, dir })),
  };
}

/** A zeroed raw disk image of `mib` MiB in `dir`, as a virtio-blk device (ioeventfd off, so its
 * doorbell writes reach the trace log, lab-notes.md §5). */
export function virtioDiskArgs(dir: string, mib: number): string[] {
  const disk = join(dir, 'disk.raw');
  writeFileSync(disk, Buffer.alloc(mib * 1024 * 1024));
  return [
    '-drive',
    `file=${disk},if=none,id=d0,format=raw`,
    '-device',
    'virtio-blk-pci,drive=d0,ioeventfd=off',
  ];
}
