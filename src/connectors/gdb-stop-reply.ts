import { VmsightError } from '../core/index.js';

/**
 * A stop reply (GDB manual, "Stop Reply Packets"): why the target stopped or ended.
 * - `S AA` / `T AA n1:r1;…`: stopped on signal AA (5 = SIGTRAP for breakpoints and steps), with
 *   optional pairs: `thread:p01.01`, `watch:ADDR` (KVM reports hardware breakpoints so),
 *   `hwbreak:`, `swbreak:`, register values keyed by number.
 * - `W AA`: exited with status AA; `X AA`: terminated by signal AA.
 */
export type StopReply =
  | {
      readonly kind: 'signal';
      readonly signal: number;
      readonly thread?: string;
      /** Data address of a watchpoint hit (`watch`/`rwatch`/`awatch`). */
      readonly watchAddress?: bigint;
      readonly reason?: 'watch' | 'hwbreak' | 'swbreak';
      readonly pairs: ReadonlyMap<string, string>;
    }
  | { readonly kind: 'exited'; readonly status: number }
  | { readonly kind: 'terminated'; readonly signal: number };

export const SIGTRAP = 5;
export const SIGINT = 2;

const HEX2 = /^[0-9a-fA-F]{2}/;

/** Parses a stop reply; anything else is `INVALID_INPUT` quoting the reply. */
export function parseStopReply(text: string): StopReply {
  const code = text[0] ?? '';
  const number = HEX2.exec(text.slice(1))?.[0];
  if (number === undefined) {
    throw new VmsightError('INVALID_INPUT', `GDB stop reply is malformed: "${text.slice(0, 60)}"`);
  }
  const value = Number.parseInt(number, 16);
  switch (code) {
    case 'S':
      return { kind: 'signal', signal: value, pairs: new Map() };
    case 'T': {
      const pairs = new Map<string, string>();
      for (const part of text.slice(3).split(';')) {
        if (part === '') continue;
        const colon = part.indexOf(':');
        pairs.set(colon < 0 ? part : part.slice(0, colon), colon < 0 ? '' : part.slice(colon + 1));
      }
      const thread = pairs.get('thread');
      const watchKey = ['watch', 'rwatch', 'awatch'].find((key) => pairs.has(key));
      const watch = watchKey === undefined ? undefined : pairs.get(watchKey);
      const reason =
        watchKey !== undefined
          ? 'watch'
          : pairs.has('hwbreak')
            ? 'hwbreak'
            : pairs.has('swbreak')
              ? 'swbreak'
              : undefined;
      return {
        kind: 'signal',
        signal: value,
        pairs,
        ...(thread === undefined ? {} : { thread }),
        ...(watch !== undefined && /^[0-9a-fA-F]{1,16}$/.test(watch)
          ? { watchAddress: BigInt(`0x${watch}`) }
          : {}),
        ...(reason === undefined ? {} : { reason }),
      };
    }
    case 'W':
      return { kind: 'exited', status: value };
    case 'X':
      return { kind: 'terminated', signal: value };
    default:
      throw new VmsightError(
        'INVALID_INPUT',
        `GDB reply is not a stop reply: "${text.slice(0, 60)}"`,
      );
  }
}

/** True for replies that are stop replies (as opposed to `OK`, `Exx`, `O…` console output). */
export function isStopReply(text: string): boolean {
  return /^[STWX][0-9a-fA-F]{2}/.test(text);
}
