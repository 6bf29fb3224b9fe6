import { readFile } from 'node:fs/promises';
import { VmsightError } from '../core/index.js';
import type { TcgProbeAddresses } from './tcg-event-decoder.js';

// `-dfilter 0xADDR+0xLEN[,…]` as tcgSensorQemuArgs writes it (QEMU also accepts `ADDR-ADDR` and
// `ADDR..ADDR`; only the start matters here).
const RANGE_START = /^(0x[0-9a-fA-F]{1,16})(?:[+\-.]|$)/;
/** /proc/PID/cmdline of QEMU is a few KB; refuse anything absurd. */
const MAX_CMDLINE_BYTES = 1024 * 1024;

/**
 * The probe addresses a QEMU command line was started with: the first `-dfilter` range is the
 * syscall entry, the second (when present) the context-switch function, the order
 * {@link tcgSensorQemuArgs} writes them in. Undefined when there is no `-dfilter`.
 *
 * @example
 * ```ts
 * import { probeAddressesFromArgs } from './qemu-probe-args.js';
 * probeAddressesFromArgs(['-dfilter', '0xffffffff81c00080+0x1,0xffffffff81031080+0x1']);
 * // { syscallEntry: 0xffffffff81c00080n, contextSwitch: 0xffffffff81031080n }
 * ```
 */
export function probeAddressesFromArgs(args: readonly string[]): TcgProbeAddresses | undefined {
  const at = args.lastIndexOf('-dfilter');
  const value = at < 0 ? undefined : args[at + 1];
  if (value === undefined) return undefined;
  const starts = value.split(',').map((range) => {
    const match = RANGE_START.exec(range.trim());
    if (match === null) {
      throw new VmsightError(
        'INVALID_INPUT',
        `Cannot read the QEMU option -dfilter "${value}": range "${range}" does not start with a 0x address`,
      );
    }
    return BigInt(match[1] as string);
  });
  const [syscallEntry, contextSwitch] = starts;
  if (syscallEntry === undefined) return undefined;
  return contextSwitch === undefined ? { syscallEntry } : { syscallEntry, contextSwitch };
}

/** {@link probeAddressesFromArgs} for a running QEMU, from `/proc/PID/cmdline`. */
export async function probeAddressesOfProcess(pid: number): Promise<TcgProbeAddresses | undefined> {
  let raw: Buffer;
  try {
    raw = await readFile(`/proc/${pid}/cmdline`);
  } catch (error) {
    throw new VmsightError('IO_ERROR', `Cannot read the command line of QEMU process ${pid}`, {
      cause: error,
    });
  }
  if (raw.length > MAX_CMDLINE_BYTES) {
    throw new VmsightError(
      'LIMIT_EXCEEDED',
      `Cannot read the command line of QEMU process ${pid}: it is longer than ${MAX_CMDLINE_BYTES} bytes`,
    );
  }
  return probeAddressesFromArgs(raw.toString('utf8').split('\0'));
}

const KALLSYMS_LINE = /^([0-9a-f]{8,16}) [A-Za-z] (\S{1,256})(?:\s+\[\S+\])?$/;

/**
 * Addresses of `names` in `/proc/kallsyms` text (as a guest prints it, possibly with a prefix per
 * line, which is stripped). The text comes from the guest: lines that do not parse are skipped.
 *
 * @example
 * ```ts
 * import { parseKallsymsText } from './qemu-probe-args.js';
 * parseKallsymsText('ffffffff81c00080 T entry_SYSCALL_64\n', ['entry_SYSCALL_64']);
 * // Map { 'entry_SYSCALL_64' => 0xffffffff81c00080n }
 * ```
 */
export function parseKallsymsText(
  text: string,
  names: readonly string[],
  prefix = '',
): Map<string, bigint> {
  const wanted = new Set(names);
  const found = new Map<string, bigint>();
  for (const raw of text.split('\n')) {
    if (!raw.startsWith(prefix)) continue;
    const match = KALLSYMS_LINE.exec(raw.slice(prefix.length).trim());
    if (match === null) continue;
    const name = match[2] as string;
    if (wanted.has(name) && !found.has(name)) found.set(name, BigInt(`0x${match[1] as string}`));
  }
  return found;
}
