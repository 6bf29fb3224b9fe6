import { VmsightError } from '../core/index.js';
import { Vmcoreinfo, type PhysicalLayer } from '../layers/index.js';

export interface VmcoreinfoScanOptions {
  /** Physical bytes scanned at most. Default 64 GiB. */
  readonly maxScanBytes?: bigint;
  /** Bytes read per step. Default 16 MiB. */
  readonly chunkBytes?: number;
}

/** kernel/crash_core.c writes the note text first into a page (VMCOREINFO_BYTES = PAGE_SIZE). */
const VMCOREINFO_BYTES = 4096;
const FIRST_KEY = Buffer.from('OSRELEASE=', 'latin1');

/**
 * Finds the kernel's VMCOREINFO text in guest physical memory, for live guests where no dump note
 * carries it. The kernel builds it at boot (crash_save_vmcoreinfo_init(): `OSRELEASE=` first, then
 * `BUILD-ID=`, `SYMBOL(...)`, `NUMBER(...)`, `KERNELOFFSET=`), so a page that starts that way and
 * names `SYMBOL(init_top_pgt)` is taken. Returns the physical address and the parsed note.
 *
 * @example
 * ```ts
 * import { scanVmcoreinfo } from './vmcoreinfo-scanner.js';
 * declare const layer: import('../layers/index.js').PhysicalLayer;
 * const found = scanVmcoreinfo(layer);
 * found?.info.kernelOffset;
 * ```
 */
export function scanVmcoreinfo(
  layer: PhysicalLayer,
  options: VmcoreinfoScanOptions = {},
): { readonly address: bigint; readonly info: Vmcoreinfo } | undefined {
  const maxScan = options.maxScanBytes ?? 64n << 30n;
  const chunk = options.chunkBytes ?? 16 * 1024 * 1024;
  let scanned = 0n;
  for (const range of layer.ranges) {
    for (let offset = 0n; offset < range.length; offset += BigInt(chunk)) {
      if (scanned >= maxScan) return undefined;
      const start = range.start + offset;
      const length = Number(
        range.length - offset < BigInt(chunk + VMCOREINFO_BYTES)
          ? range.length - offset
          : BigInt(chunk + VMCOREINFO_BYTES),
      );
      const bytes = Buffer.from(layer.read(start, length).buffer);
      scanned += BigInt(chunk);
      for (
        let at = bytes.indexOf(FIRST_KEY);
        at >= 0 && at < chunk;
        at = bytes.indexOf(FIRST_KEY, at + 1)
      ) {
        // The text starts a kmalloc'd buffer: the byte before is not part of another line.
        if (at > 0 && bytes[at - 1] !== 0 && bytes[at - 1] !== 0x0a) continue;
        const text = layer.read(start + BigInt(at), VMCOREINFO_BYTES, { fillHoles: true });
        const info = Vmcoreinfo.parse(text);
        if (info.symbol('init_top_pgt') !== undefined && info.get('OSRELEASE') !== undefined) {
          return { address: start + BigInt(at), info };
        }
      }
    }
  }
  return undefined;
}

/** Like {@link scanVmcoreinfo}, throwing `NOT_FOUND` when guest memory holds none. */
export function requireVmcoreinfo(
  layer: PhysicalLayer,
  options: VmcoreinfoScanOptions = {},
): Vmcoreinfo {
  const found = scanVmcoreinfo(layer, options);
  if (found === undefined) {
    throw new VmsightError(
      'NOT_FOUND',
      'Cannot find VMCOREINFO in guest memory: the kernel needs CONFIG_CRASH_CORE (or give a dump taken with -device vmcoreinfo)',
    );
  }
  return found.info;
}
