/**
 * Test and benchmark fixtures for sensors on the lab guest. The lab itself is passed in by the
 * caller (tests may import `lab`, this helper may not).
 *
 * Kernel addresses come from the guest's own `/proc/kallsyms`, printed to the serial console by a
 * probing boot: `-dfilter` is fixed at QEMU start, so they must be known before the monitored
 * boot, and the lab boots without KASLR (PVH), so they repeat (lab-notes §4b, §9). This stands in
 * for the symbols engineer's offline kallsyms decoder until it can run before boot.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { taskLayoutFromVmlinux, type TaskLayout } from './guest-task-reader.js';
import { parseKallsymsText } from './qemu-probe-args.js';
import type { TcgProbeAddresses } from './tcg-event-decoder.js';

const run = promisify(execFile);

/** The slice of `startLabVm`/`LabVm` the fixtures use. */
export interface FixtureVm {
  readonly serialPath: string;
  waitForSerial(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}
export type StartFixtureVm = (options: { workload: string }) => Promise<FixtureVm>;

const PROBE_SYMBOLS = ['entry_SYSCALL_64', '__switch_to', 'init_task'];
const KALLSYMS_PREFIX = 'KALLSYMS ';
const KALLSYMS_PROBE_WORKLOAD =
  "grep -E ' (entry_SYSCALL_64|__switch_to|init_task)$' /proc/kallsyms | sed 's/^/KALLSYMS /'";

/** The lab kernel's probe addresses and `init_task`. */
export interface LabAddresses {
  readonly probes: TcgProbeAddresses;
  readonly initTask: bigint;
}

/** Boots the guest once and reads the sensor's addresses from its `/proc/kallsyms`. */
export async function probeLabAddresses(start: StartFixtureVm): Promise<LabAddresses> {
  const vm = await start({ workload: KALLSYMS_PROBE_WORKLOAD });
  try {
    await vm.waitForSerial(/^GUEST-DONE/, 60_000);
    const text = await readFile(vm.serialPath, 'utf8');
    const found = parseKallsymsText(text, PROBE_SYMBOLS, KALLSYMS_PREFIX);
    const syscallEntry = found.get('entry_SYSCALL_64');
    const contextSwitch = found.get('__switch_to');
    const initTask = found.get('init_task');
    if (syscallEntry === undefined || contextSwitch === undefined || initTask === undefined) {
      throw new Error(`The probing boot printed no kallsyms lines:\n${text}`);
    }
    return { probes: { syscallEntry, contextSwitch }, initTask };
  } finally {
    await vm.stop();
  }
}

/** `task_struct` offsets of the lab kernel from its BTF (through the symbols folder's ISF). */
export function labTaskLayout(vmlinuxPath: string): Promise<TaskLayout> {
  return taskLayoutFromVmlinux(vmlinuxPath);
}

/** A program built on the host with `gcc -static`, in a temporary directory. */
export interface StaticProgram {
  readonly path: string;
  remove(): Promise<void>;
}

export async function compileStatic(name: string, source: string): Promise<StaticProgram> {
  const dir = await mkdtemp(join(tmpdir(), 'vmsight-prog-'));
  const sourcePath = join(dir, `${name}.c`);
  const path = join(dir, name);
  await writeFile(sourcePath, source);
  try {
    await run('gcc', ['-static', '-O1', '-o', path, sourcePath]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Guest shell lines that copy a `-fw_cfg name=opt/NAME` file to /tmp/NAME and make it executable. */
export function fwCfgInstall(name: string): string {
  return [
    `cat /sys/firmware/qemu_fw_cfg/by_name/opt/${name}/raw > /tmp/${name}`,
    `chmod +x /tmp/${name}`,
  ].join('\n');
}

/** QEMU options that hand a host file to the guest as `opt/NAME` (read by the qemu_fw_cfg module). */
export function fwCfgArgs(name: string, path: string): string[] {
  return ['-fw_cfg', `name=opt/${name},file=${path}`];
}
