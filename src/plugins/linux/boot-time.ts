import { hex } from '../../core/index.js';
import type { KernelProfile } from '../../profiles/index.js';
import type { IntrospectionWarning, SymbolTable } from '../../symbols/index.js';
import { readU32 } from './task-reader.js';

/**
 * struct timekeeper holds ktime_t and u64 members: its alignment on x86-64 is 8 (SysV ABI), so
 * inside tk_core it starts at sizeof(seqcount_raw_spinlock_t) rounded up to 8.
 */
const TIMEKEEPER_ALIGN = 8;
/** Reads retried while the guest's writer holds tk_core.seq (odd, or changed under the read). */
const MAX_SEQ_RETRIES = 4;
/** Plausible boot instants, ns since the Unix epoch: 2000-01-01 to 2200-01-01 UTC. */
const EARLIEST_NS = BigInt(Date.UTC(2000, 0, 1)) * 1_000_000n;
const LATEST_NS = BigInt(Date.UTC(2200, 0, 1)) * 1_000_000n;

/** Where the kernel keeps the offsets getboottime64() subtracts. */
interface TimekeeperLayout {
  readonly tkCore: bigint;
  /** Offset of `timekeeper` inside tk_core. */
  readonly timekeeper: number;
  readonly offsReal: number;
  readonly offsBoot: number;
}

/**
 * The offset of `timekeeper` in tk_core (kernel/time/timekeeping.c: a static anonymous
 * `struct { seqcount_raw_spinlock_t seq; struct timekeeper timekeeper; } ____cacheline_aligned`).
 * An ISF made by dwarf2json types the variable; BTF has no variable types, so the offset then
 * follows from the size of `struct seqcount_raw_spinlock` and the timekeeper's alignment.
 */
function timekeeperOffset(symbols: SymbolTable): number | undefined {
  const type = Object.hasOwn(symbols.isf.symbols, 'tk_core')
    ? symbols.isf.symbols['tk_core']?.type
    : undefined;
  if (type?.kind === 'struct') {
    const member = symbols.member(type.name, 'timekeeper');
    if (member !== undefined) return member.offset;
  }
  const seq = ['seqcount_raw_spinlock', 'seqcount_raw_spinlock_t'].find((name) =>
    symbols.hasType(name),
  );
  if (seq === undefined) return undefined;
  const size = symbols.sizeOf(seq);
  return Math.ceil(size / TIMEKEEPER_ALIGN) * TIMEKEEPER_ALIGN;
}

function timekeeperLayout(symbols: SymbolTable): TimekeeperLayout | string {
  const tkCore = symbols.address('tk_core');
  if (tkCore === undefined) return 'symbol tk_core';
  const timekeeper = timekeeperOffset(symbols);
  if (timekeeper === undefined) return 'type seqcount_raw_spinlock';
  const offsReal = symbols.member('timekeeper', 'offs_real');
  const offsBoot = symbols.member('timekeeper', 'offs_boot');
  if (offsReal === undefined || offsBoot === undefined) return 'timekeeper.offs_real/offs_boot';
  return { tkCore, timekeeper, offsReal: offsReal.offset, offsBoot: offsBoot.offset };
}

/**
 * The wall-clock instant the guest booted, in ns since the Unix epoch (UTC), computed as the
 * kernel's getboottime64() does (kernel/time/timekeeping.c, Linux 6.1): tk->offs_real −
 * tk->offs_boot, both ktime_t ns, of tk_core.timekeeper; /proc/stat's `btime` is its seconds.
 * Reads under tk_core.seq like a seqcount reader, retrying a few times while it is odd or moves.
 * Guest memory is hostile: a negative offs_boot or an instant outside 2000–2200 gives undefined
 * with an `implausible-value` warning, a kernel without tk_core undefined with `missing-symbol`.
 */
export function readBootTimeNs(
  profile: KernelProfile,
  warn: (warning: IntrospectionWarning) => void,
): bigint | undefined {
  const layout = timekeeperLayout(profile.symbols);
  if (typeof layout === 'string') {
    warn({
      code: 'missing-symbol',
      message: `Cannot compute the boot time: ${layout} is not in the symbol table`,
    });
    return undefined;
  }
  const end = layout.timekeeper + Math.max(layout.offsReal, layout.offsBoot) + 8;
  let fields: DataView | undefined;
  for (let attempt = 0; attempt < MAX_SEQ_RETRIES; attempt += 1) {
    try {
      const bytes = profile.kernel.read(layout.tkCore, end);
      fields = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const before = fields.getUint32(0, true);
      if (before % 2 === 0 && readU32(profile, layout.tkCore) === before) break;
    } catch (error) {
      warn({
        code: 'unreadable-memory',
        message: `Cannot read tk_core at ${hex(layout.tkCore)}: ${(error as Error).message}`,
        address: layout.tkCore,
      });
      return undefined;
    }
  }
  // A seq still odd after the retries (a writer stuck mid-update, or forged) leaves the last read:
  // offs_real and offs_boot are each one aligned 8-byte store, and the checks below bound them.
  if (fields === undefined) return undefined;
  const offsReal = fields.getBigInt64(layout.timekeeper + layout.offsReal, true);
  const offsBoot = fields.getBigInt64(layout.timekeeper + layout.offsBoot, true);
  const boot = offsReal - offsBoot;
  // offs_boot is the time spent suspended: never negative.
  if (offsBoot < 0n || boot < EARLIEST_NS || boot >= LATEST_NS) {
    warn({
      code: 'implausible-value',
      message: `The timekeeper gives no plausible boot time (offs_real ${offsReal} ns, offs_boot ${offsBoot} ns)`,
      address: layout.tkCore + BigInt(layout.timekeeper),
    });
    return undefined;
  }
  return boot;
}

/**
 * The ISO-8601 UTC instant `sinceBootNs` after the boot instant (ms precision, as Date keeps), or
 * undefined when the boot time is unknown or the sum leaves the plausible range.
 */
export function instantAfterBoot(
  bootNs: bigint | undefined,
  sinceBootNs: bigint | undefined,
): string | undefined {
  if (bootNs === undefined || sinceBootNs === undefined) return undefined;
  const at = bootNs + sinceBootNs;
  if (at < EARLIEST_NS || at >= LATEST_NS) return undefined;
  return new Date(Number(at / 1_000_000n)).toISOString();
}
