import { hex } from '../../core/index.js';
import type { VirtualLayer } from '../../layers/index.js';
import type { IntrospectionWarning } from '../../symbols/index.js';

export interface ListWalkOptions {
  /** Entries yielded at most. Default 1,000,000 (PID_MAX_LIMIT is 4,194,304, few guests come close). */
  readonly maxEntries?: number;
  readonly warn: (warning: IntrospectionWarning) => void;
  /** What the list is, for messages ("task list"). */
  readonly what: string;
}

const U64 = 0xffff_ffff_ffff_ffffn;

/** What the walker reads through: a kernel address space. */
export type ListMemory = Pick<VirtualLayer, 'read'>;

function readPointer(space: ListMemory, address: bigint): bigint | undefined {
  try {
    return new DataView(space.read(address, 8).buffer).getBigUint64(0, true);
  } catch {
    return undefined;
  }
}

/**
 * Yields the `struct list_head` nodes of a circular kernel list (include/linux/list.h), starting
 * after `head`, as addresses of the list_head inside each entry (the caller subtracts the member
 * offset). Guest memory is hostile: a node seen twice (a loop that does not pass through the head),
 * an unreadable `next`, or more than `maxEntries` nodes ends the forward walk with a warning; the
 * walk then goes backwards from the head through `prev` to recover the entries past the break.
 *
 * @example
 * ```ts
 * import { walkList } from './list-walker.js';
 * declare const kernel: import('../../layers/index.js').VirtualLayer;
 * for (const node of walkList(kernel, 0xffffffff82a1b2d0n, { what: 'task list', warn: console.warn })) {
 *   console.log(node - 2192n); // the task_struct
 * }
 * ```
 */
export function* walkList(
  space: ListMemory,
  head: bigint,
  options: ListWalkOptions,
): Generator<bigint> {
  const maxEntries = options.maxEntries ?? 1_000_000;
  const seen = new Set<bigint>([head]);
  let broken = false;
  let current = head;
  let next = readPointer(space, head);
  for (;;) {
    if (next === undefined) {
      options.warn({
        code: 'unreadable-memory',
        message: `Cannot read the next pointer of ${options.what} node ${hex(current)}: the list is cut there`,
        address: current,
      });
      broken = true;
      break;
    }
    if (next === head) return;
    if (seen.has(next)) {
      options.warn({
        code: 'list-loop',
        message: `The ${options.what} loops back to node ${hex(next)} without reaching its head`,
        address: next,
      });
      broken = true;
      break;
    }
    if (seen.size > maxEntries) {
      options.warn({
        code: 'limit-reached',
        message: `The ${options.what} holds more than ${maxEntries} entries: the rest is skipped`,
      });
      return;
    }
    // A node is yielded only once its own next pointer is readable (an unmapped node is no node).
    const after = readPointer(space, next);
    if (after === undefined) {
      options.warn({
        code: 'unreadable-memory',
        message: `Cannot read ${options.what} node ${hex(next)} (the next pointer of ${hex(current)}): the list is cut there`,
        address: next,
      });
      broken = true;
      break;
    }
    const back = readPointer(space, (next + 8n) & U64);
    if (back !== undefined && back !== current) {
      options.warn({
        code: 'list-corrupt',
        message: `The ${options.what} node ${hex(next)} has prev ${hex(back)}, not ${hex(current)}`,
        address: next,
      });
    }
    seen.add(next);
    yield next;
    current = next;
    next = after;
  }
  if (!broken) return;
  // Recover what lies past the break by walking backwards from the head.
  current = head;
  for (let count = 0; count < maxEntries; count += 1) {
    const prev = readPointer(space, (current + 8n) & U64);
    if (prev === undefined || prev === head || seen.has(prev)) return;
    if (readPointer(space, prev) === undefined) return;
    seen.add(prev);
    yield prev;
    current = prev;
  }
}
