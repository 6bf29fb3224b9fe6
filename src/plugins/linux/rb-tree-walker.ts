import { hex } from '../../core/index.js';
import type { IntrospectionWarning } from '../../symbols/index.js';
import type { ListMemory } from './list-walker.js';

export interface RbTreeWalkOptions {
  /** Nodes yielded at most (shared by the caller's trees when it passes the same budget). */
  readonly budget: { remaining: number };
  readonly warn: (warning: IntrospectionWarning) => void;
  /** What the tree is, for messages ("CFS run queue of CPU 0"). */
  readonly what: string;
  /** Offsets of `rb_right` and `rb_left` in `struct rb_node` (8 and 16 on x86-64). */
  readonly rightOffset: number;
  readonly leftOffset: number;
}

/**
 * Yields the `struct rb_node` addresses of a red-black tree (include/linux/rbtree.h) from its root
 * node, in order. Guest memory is hostile: a node reached twice (a loop), an unreadable node, or a
 * tree past the node budget ends that branch with a warning; the walk is iterative, so a deep or
 * looping tree cannot overflow the stack.
 */
export function* walkRbTree(
  space: ListMemory,
  root: bigint,
  options: RbTreeWalkOptions,
): Generator<bigint> {
  const seen = new Set<bigint>();
  const span = Math.max(options.rightOffset, options.leftOffset) + 8;
  // In-order traversal with an explicit stack of nodes whose left subtree is done.
  const stack: { node: bigint; right: bigint }[] = [];
  let next = root;
  let exhausted = false;
  for (;;) {
    while (next !== 0n) {
      if (seen.has(next)) {
        options.warn({
          code: 'list-loop',
          message: `The ${options.what} reaches node ${hex(next)} twice: that branch is cut`,
          address: next,
        });
        break;
      }
      if (options.budget.remaining <= 0) {
        options.warn({
          code: 'limit-reached',
          message: `The ${options.what} has too many nodes: the rest is skipped`,
        });
        exhausted = true;
        break;
      }
      let bytes: Uint8Array;
      try {
        bytes = space.read(next, span);
      } catch {
        options.warn({
          code: 'unreadable-memory',
          message: `Cannot read ${options.what} node ${hex(next)}: that branch is cut`,
          address: next,
        });
        break;
      }
      seen.add(next);
      options.budget.remaining -= 1;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      stack.push({ node: next, right: view.getBigUint64(options.rightOffset, true) });
      next = view.getBigUint64(options.leftOffset, true);
    }
    const top = stack.pop();
    if (top === undefined) return;
    yield top.node;
    // Past the budget, the nodes already read are still given, but no new branch is entered.
    next = exhausted ? 0n : top.right;
  }
}
