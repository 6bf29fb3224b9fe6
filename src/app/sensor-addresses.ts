import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmsightError, hex, type Logger } from '../core/index.js';
import { ensureLabBuilt, labPaths, startLabVm } from '../lab/index.js';
import { parseKallsymsText, tcgSensorQemuArgs, type TcgProbeAddresses } from '../sensors/index.js';
import { symbolsFromKernelImage } from './kernel-image-symbols.js';

const PREFIX = 'KALLSYMS ';
const SYMBOLS = ['entry_SYSCALL_64', '__switch_to', 'init_task'] as const;
const WORKLOAD = `grep -E ' (${SYMBOLS.join('|')})$' /proc/kallsyms | sed 's/^/${PREFIX}/'`;

/** The lab kernel's addresses the TCG sensor needs: its probes, and the head of the task list. */
export interface LabKernelAddresses extends TcgProbeAddresses {
  readonly contextSwitch: bigint;
  readonly initTask: bigint;
}

/**
 * The TCG sensor's probe addresses for the lab kernel (and `init_task`, for finding a process by
 * its CR3). `-dfilter` is fixed when QEMU starts, so they must be known before the monitored boot
 * (lab-notes §4b, §9). The lab boots PVH without KASLR, so the link-time addresses hold: they are
 * recovered from the kallsyms tables of the lab's `vmlinux` (`symbolsFromKernelImage`). Only when
 * that fails does a short probing boot print them from the guest's own `/proc/kallsyms`. Either
 * way they are cached per kernel version under the lab directory.
 */
export async function labSensorAddresses(log?: Logger): Promise<LabKernelAddresses> {
  const artifacts = await ensureLabBuilt(log === undefined ? {} : { log });
  const cache = join(labPaths().root, `sensor-addresses-${artifacts.kernelVersion}.json`);
  try {
    const cached = JSON.parse(await readFile(cache, 'utf8')) as Record<string, unknown>;
    const entry = cached['syscallEntry'];
    const switchTo = cached['contextSwitch'];
    const initTask = cached['initTask'];
    if (typeof entry === 'string' && typeof switchTo === 'string' && typeof initTask === 'string') {
      return {
        syscallEntry: BigInt(entry),
        contextSwitch: BigInt(switchTo),
        initTask: BigInt(initTask),
      };
    }
  } catch {
    // No cache yet, or an unreadable one: probe again.
  }
  let found: Map<string, bigint>;
  try {
    found = symbolsFromKernelImage(artifacts.vmlinux, SYMBOLS);
  } catch (error) {
    log?.warn(
      { error: String(error) },
      `kallsyms of ${artifacts.vmlinux} not usable, probing a boot instead`,
    );
    found = new Map();
  }
  if (SYMBOLS.some((name) => !found.has(name))) found = await probeBoot(log);
  const syscallEntry = found.get('entry_SYSCALL_64');
  const contextSwitch = found.get('__switch_to');
  const initTask = found.get('init_task');
  if (syscallEntry === undefined || contextSwitch === undefined || initTask === undefined) {
    throw new VmsightError(
      'NOT_FOUND',
      `Cannot find ${SYMBOLS.join(' and ')} in the lab guest's /proc/kallsyms`,
    );
  }
  await mkdir(labPaths().root, { recursive: true });
  await writeFile(
    cache,
    `${JSON.stringify({
      syscallEntry: hex(syscallEntry),
      contextSwitch: hex(contextSwitch),
      initTask: hex(initTask),
    })}\n`,
  );
  return { syscallEntry, contextSwitch, initTask };
}

/** Boots the lab guest once to print the addresses from its `/proc/kallsyms`. */
async function probeBoot(log: Logger | undefined): Promise<Map<string, bigint>> {
  const vm = await startLabVm({ workload: WORKLOAD, ...(log === undefined ? {} : { log }) });
  let text: string;
  try {
    await vm.waitForSerial(/^GUEST-DONE/, 60_000);
    text = await readFile(vm.serialPath, 'utf8');
  } finally {
    await vm.stop();
  }
  return parseKallsymsText(text, SYMBOLS, PREFIX);
}

/** QEMU options that boot a lab VM with the TCG sensor's probes (what `lab up --tcg-sensor` adds). */
export async function labSensorQemuArgs(log?: Logger): Promise<string[]> {
  const { syscallEntry, contextSwitch } = await labSensorAddresses(log);
  return tcgSensorQemuArgs({ syscallEntry, contextSwitch });
}
