import { hex } from '../core/index.js';
import { InvalidAddressError } from './invalid-address-error.js';
import { faultError, type PageTableWalker, type Translation } from './page-table-walker.js';
import { checkReadLength } from './segmented-layer.js';

export interface VirtualReadOptions {
  /** Read unmapped pages (and physical holes) as zeros instead of throwing. Default false. */
  readonly fillHoles?: boolean;
}

/**
 * One address space: a {@link PageTableWalker} bound to a CR3 value. Reads cross page boundaries,
 * translating each page on its own (contiguous virtual pages are rarely contiguous physically).
 *
 * @example
 * ```ts
 * import { VirtualLayer } from './virtual-layer.js';
 * declare const walker: import('./page-table-walker.js').PageTableWalker;
 * const kernel = new VirtualLayer(walker, 0x2a10000n);
 * kernel.read(0xffffffff82a1b5e0n, 16); // init_task.comm: "swapper/0"
 * ```
 */
export class VirtualLayer {
  readonly walker: PageTableWalker;
  readonly cr3: bigint;

  constructor(walker: PageTableWalker, cr3: bigint) {
    this.walker = walker;
    this.cr3 = cr3;
  }

  translate(va: bigint): Translation {
    return this.walker.translate(this.cr3, va);
  }

  read(va: bigint, length: number, options: VirtualReadOptions = {}): Uint8Array {
    checkReadLength(length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = (va + BigInt(done)) & 0xffff_ffff_ffff_ffffn;
      const result = this.translate(at);
      const inPage = Number(at & 0xfffn);
      const count = Math.min(4096 - inPage, length - done);
      if (!result.ok) {
        if (options.fillHoles !== true) throw faultError(result, at, this.walker.mode.name);
      } else {
        try {
          out.set(this.walker.layer.read(result.physical, count, options), done);
        } catch (error) {
          if (!(error instanceof InvalidAddressError)) throw error;
          throw new InvalidAddressError(
            `Cannot read address ${hex(at)}: physical address ${hex(error.address)} is not readable`,
            { layer: this.walker.mode.name, address: at },
            { cause: error },
          );
        }
      }
      done += count;
    }
    return out;
  }
}
