import { readFileSync } from 'node:fs';
import { VmsightError } from '../core/index.js';
import { FileSource } from './file-source.js';
import { findRamMapping, parseProcMaps } from './proc-maps.js';
import { ramLayoutSegments } from './ram-layout.js';
import { SegmentedLayer } from './segmented-layer.js';

export interface ProcMemOptions {
  /** QEMU's process id. */
  readonly pid: number;
  /** Guest RAM size in bytes (QMP `query-memdev`'s `size`). */
  readonly ramSize: bigint;
  /** The backend's `mem-path`, when RAM is a memory-backend-file. */
  readonly memPath?: string;
  /**
   * RAM below 4 GiB; the rest starts at 4 GiB (QEMU pc/q35 split RAM around the PCI hole).
   * Default: the i440fx rule, all of it below 3.5 GiB, else 3 GiB below.
   */
  readonly belowFourGiB?: bigint;
}

/**
 * Live guest RAM read through `/proc/<pid>/mem` of the QEMU process (needs ptrace rights over it:
 * root, or the same user with `ptrace_scope` 0). Not cached: the guest changes it while it runs.
 *
 * @example
 * ```ts
 * import { openProcMemLayer } from './proc-mem-layer.js';
 * const layer = openProcMemLayer({ pid: 4242, ramSize: 256n << 20n });
 * layer.read(0x2a1b5e0n, 16);
 * ```
 */
export function openProcMemLayer(options: ProcMemOptions): SegmentedLayer {
  let maps: string;
  try {
    maps = readFileSync(`/proc/${options.pid}/maps`, 'utf8');
  } catch (error) {
    throw new VmsightError(
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR',
      `Cannot read the memory map of process ${options.pid}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const ram = findRamMapping(parseProcMaps(maps), {
    size: options.ramSize,
    ...(options.memPath === undefined ? {} : { memPath: options.memPath }),
  });
  const segments = ramLayoutSegments(options.ramSize, ram.start, options.belowFourGiB);
  const source = new FileSource(`/proc/${options.pid}/mem`, { cache: false, size: ram.end });
  try {
    return new SegmentedLayer('proc-mem', source, segments);
  } catch (error) {
    source.close();
    throw error;
  }
}
