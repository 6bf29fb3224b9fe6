import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmsightError, hex, type Logger } from '../core/index.js';
import { ensureLabBuilt, labPaths, startLabVm } from '../lab/index.js';
import { parseKallsymsText, tcgSensorQemuArgs, type TcgProbeAddresses } from '../sensors/index.js';

const PREFIX = 'KALLSYMS ';
const SYMBOLS = ['entry_SYSCALL_64', '__switch_to'] as const;
const WORKLOAD = `grep -E ' (${SYMBOLS.join('|')})$' /proc/kallsyms | sed 's/^/${PREFIX}/'`;

/**
 * The TCG sensor's probe addresses for the lab kernel. `-dfilter` is fixed when QEMU starts, so
 * they must be known before the monitored boot (lab-notes §4b, §9): a short probing boot prints
 * them from the guest's own `/proc/kallsyms` (the lab boots PVH without KASLR, so they repeat on
 * every boot), and they are cached per kernel version under the lab directory.
 */
export async function labSensorAddresses(log?: Logger): Promise<TcgProbeAddresses> {
  const artifacts = await ensureLabBuilt(log === undefined ? {} : { log });
  const cache = join(labPaths().root, `sensor-addresses-${artifacts.kernelVersion}.json`);
  try {
    const cached = JSON.parse(await readFile(cache, 'utf8')) as Record<string, unknown>;
    const entry = cached['syscallEntry'];
    const switchTo = cached['contextSwitch'];
    if (typeof entry === 'string' && typeof switchTo === 'string') {
      return { syscallEntry: BigInt(entry), contextSwitch: BigInt(switchTo) };
    }
  } catch {
    // No cache yet, or an unreadable one: probe again.
  }
  const vm = await startLabVm({ workload: WORKLOAD, ...(log === undefined ? {} : { log }) });
  let text: string;
  try {
    await vm.waitForSerial(/^GUEST-DONE/, 60_000);
    text = await readFile(vm.serialPath, 'utf8');
  } finally {
    await vm.stop();
  }
  const found = parseKallsymsText(text, SYMBOLS, PREFIX);
  const syscallEntry = found.get('entry_SYSCALL_64');
  const contextSwitch = found.get('__switch_to');
  if (syscallEntry === undefined || contextSwitch === undefined) {
    throw new VmsightError(
      'NOT_FOUND',
      `Cannot find ${SYMBOLS.join(' and ')} in the lab guest's /proc/kallsyms`,
    );
  }
  await mkdir(labPaths().root, { recursive: true });
  await writeFile(
    cache,
    `${JSON.stringify({ syscallEntry: hex(syscallEntry), contextSwitch: hex(contextSwitch) })}\n`,
  );
  return { syscallEntry, contextSwitch };
}

/** QEMU options that boot a lab VM with the TCG sensor's probes (what `lab up --tcg-sensor` adds). */
export async function labSensorQemuArgs(log?: Logger): Promise<string[]> {
  return tcgSensorQemuArgs(await labSensorAddresses(log));
}
