/** Test helper: what a completeness test checks of a sensor's events for one guest process. */
import type { GuestEvent } from '../events/index.js';

export interface SyscallCensus {
  /** Calls by name; `write` only counts writes to `fd`, other writes are `write-other`. */
  readonly counts: ReadonlyMap<string, number>;
  /** `comm|programKey|tgid` of every getpid event: exactly one identity is expected. */
  readonly identities: readonly string[];
}

export function syscallCensus(
  events: readonly GuestEvent[],
  pid: number,
  fd: bigint,
): SyscallCensus {
  const counts = new Map<string, number>();
  const identities = new Set<string>();
  for (const event of events) {
    if (event.type !== 'syscall' || event.process?.pid !== pid) continue;
    const name =
      event.name === 'write' && event.args?.[0] !== fd ? 'write-other' : (event.name ?? '?');
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (event.name === 'getpid') {
      identities.add(`${event.process.comm}|${event.process.programKey}|${event.process.tgid}`);
    }
  }
  return { counts, identities: [...identities] };
}
