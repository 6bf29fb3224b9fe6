import { VmsightError } from '../core/index.js';

/** One line of `/proc/<pid>/maps` (proc(5)). */
export interface ProcMapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly permissions: string;
  readonly offset: bigint;
  readonly path: string;
}

const LINE = /^([0-9a-f]+)-([0-9a-f]+) ([-rwxsp]{4}) ([0-9a-f]+) \S+ \d+\s*(.*)$/;

/** Parses the text of `/proc/<pid>/maps`; malformed lines are `INVALID_INPUT` naming the line. */
export function parseProcMaps(text: string): ProcMapping[] {
  const mappings: ProcMapping[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const match = LINE.exec(line);
    if (match === null) {
      throw new VmsightError('INVALID_INPUT', `Cannot parse maps line ${index + 1}: "${line}"`);
    }
    const [, start = '0', end = '0', permissions = '', offset = '0', path = ''] = match;
    mappings.push({
      start: BigInt(`0x${start}`),
      end: BigInt(`0x${end}`),
      permissions,
      offset: BigInt(`0x${offset}`),
      path,
    });
  }
  return mappings;
}

export interface RamMappingQuery {
  /** Guest RAM size in bytes (QMP `query-memdev` `size`, or `-m`). */
  readonly size: bigint;
  /** The memory backend's file (`mem-path`), when it has one: the mapping's path must match. */
  readonly memPath?: string;
}

/**
 * Finds QEMU's guest-RAM mapping: a readable, writable mapping of exactly the RAM size (QEMU
 * `qemu_ram_mmap` maps the block alone, followed by a guard page), backed by `memPath` when given.
 * Anything but exactly one candidate is an error, because reading the wrong mapping would silently
 * give wrong memory.
 */
export function findRamMapping(
  mappings: readonly ProcMapping[],
  query: RamMappingQuery,
): ProcMapping {
  const candidates = mappings.filter(
    (m) =>
      m.end - m.start === query.size &&
      m.permissions.startsWith('rw') &&
      (query.memPath === undefined
        ? !m.path.startsWith('/') || m.path.startsWith('/dev/shm')
        : m.path === query.memPath || m.path === `${query.memPath} (deleted)`),
  );
  const only = candidates[0];
  if (candidates.length !== 1 || only === undefined) {
    throw new VmsightError(
      'NOT_FOUND',
      `Cannot find the guest RAM mapping of ${query.size} bytes${query.memPath === undefined ? '' : ` backed by "${query.memPath}"`}: ${candidates.length} mappings match`,
    );
  }
  return only;
}
