import type { LinuxPlugin, PluginContext } from '../plugin.js';
import { pslistPlugin, type PslistOptions, type PslistRow } from './pslist.js';

export interface PstreeRow extends PslistRow {
  /** Distance from a root of the tree (a process whose parent is not listed). */
  readonly depth: number;
}

/** Deeper trees than this are cut (a parent loop in hostile memory must not recurse forever). */
const MAX_DEPTH = 512;

/** `pstree`: pslist ordered as a tree by parent pid, depth-first, children by pid. */
export const pstreePlugin: LinuxPlugin<PstreeRow, PslistOptions> = {
  id: 'linux.pstree',
  version: '1.0.0',
  description: 'Processes as a tree of parents and children',
  requires: pslistPlugin.requires,
  columns: [
    { name: 'PID', key: 'pid', type: 'int' },
    { name: 'PPID', key: 'ppid', type: 'int' },
    { name: 'DEPTH', key: 'depth', type: 'int' },
    { name: 'COMM', key: 'comm', type: 'string' },
  ],
  *run(context: PluginContext, options: PslistOptions): Generator<PstreeRow> {
    const rows = [...pslistPlugin.run(context, { ...options, threads: false })];
    const byPid = new Map(rows.map((row) => [row.pid, row]));
    const children = new Map<number, PslistRow[]>();
    for (const row of rows) {
      const list = children.get(row.ppid) ?? [];
      list.push(row);
      children.set(row.ppid, list);
    }
    const emitted = new Set<number>();
    function* visit(row: PslistRow, depth: number): Generator<PstreeRow> {
      if (emitted.has(row.pid) || depth > MAX_DEPTH) return;
      emitted.add(row.pid);
      yield { ...row, depth };
      const kids = (children.get(row.pid) ?? []).filter((kid) => kid.pid !== row.pid);
      for (const kid of kids.sort((a, b) => a.pid - b.pid)) yield* visit(kid, depth + 1);
    }
    for (const row of rows) {
      const parent = byPid.get(row.ppid);
      if (parent === undefined || parent.pid === row.pid) yield* visit(row, 0);
    }
    // Rows only reachable through a parent loop.
    for (const row of rows) yield* visit(row, 0);
  },
};
