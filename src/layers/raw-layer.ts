import { FileSource, type FileSourceOptions } from './file-source.js';
import { defaultBelowFourGiB, ramLayoutSegments } from './ram-layout.js';
import { SegmentedLayer } from './segmented-layer.js';

export interface RawLayerOptions extends FileSourceOptions {
  /** The file is one QEMU RAM block: split it around the PCI hole like the i440fx machine. */
  readonly ram?: boolean;
  /** Bytes of the file below 4 GiB; the rest maps from 4 GiB (implies `ram`). */
  readonly belowFourGiB?: bigint;
}

/**
 * A raw physical memory image where file offset = guest physical address: QEMU `pmemsave` output,
 * or the shared memory backend file of a running guest (`memory-backend-file,mem-path=…,share=on`;
 * pass `{ cache: false }` for a live file, whose bytes change while the guest runs).
 *
 * For a RAM block of a guest with more than ~3.5 GiB, QEMU puts the part past `belowFourGiB` at
 * 4 GiB and up (lab-notes §10): pass `{ ram: true }` (the i440fx split) or `belowFourGiB` to map
 * the file that way instead of flat.
 *
 * @example
 * ```ts
 * import { openRawLayer } from './raw-layer.js';
 * const layer = openRawLayer('/dev/shm/vmsight-lab-ram', { cache: false });
 * layer.read(0x2a1b5e0n, 16); // init_task.comm on the nokaslr lab guest
 * layer.close();
 * ```
 */
export function openRawLayer(path: string, options: RawLayerOptions = {}): SegmentedLayer {
  const source = new FileSource(path, options);
  try {
    const split =
      options.belowFourGiB ?? (options.ram === true ? defaultBelowFourGiB(source.size) : undefined);
    const segments =
      split === undefined
        ? [{ start: 0n, length: source.size, fileOffset: 0n }]
        : ramLayoutSegments(source.size, 0n, split);
    return new SegmentedLayer('raw', source, segments);
  } catch (error) {
    source.close();
    throw error;
  }
}
