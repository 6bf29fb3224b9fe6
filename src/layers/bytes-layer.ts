import { hex } from '../core/index.js';
import { InvalidAddressError } from './invalid-address-error.js';
import type { PhysicalLayer, PhysicalRange, PhysicalReadOptions } from './physical-layer.js';

/**
 * Physical memory held in a `Uint8Array` at `[base, base + bytes.length)`: for page-table fixtures,
 * small captured regions and tests.
 *
 * @example
 * ```ts
 * import { BytesLayer } from './bytes-layer.js';
 * const layer = new BytesLayer(new Uint8Array(8192));
 * layer.read(0x1000n, 4); // Uint8Array [0, 0, 0, 0]
 * ```
 */
export class BytesLayer implements PhysicalLayer {
  readonly name = 'bytes';
  readonly ranges: readonly PhysicalRange[];
  readonly bytes: Uint8Array;
  readonly base: bigint;

  constructor(bytes: Uint8Array, base = 0n) {
    this.bytes = bytes;
    this.base = base;
    this.ranges = bytes.length === 0 ? [] : [{ start: base, length: BigInt(bytes.length) }];
  }

  isValid(address: bigint, length = 1): boolean {
    return (
      address >= this.base && address + BigInt(length) <= this.base + BigInt(this.bytes.length)
    );
  }

  read(address: bigint, length: number, options: PhysicalReadOptions = {}): Uint8Array {
    if (this.isValid(address, length)) {
      const start = Number(address - this.base);
      return this.bytes.slice(start, start + length);
    }
    if (options.fillHoles !== true) {
      const first = address >= this.base ? this.base + BigInt(this.bytes.length) : address;
      throw new InvalidAddressError(`Cannot read physical address ${hex(first)}: no memory there`, {
        layer: this.name,
        address: first,
      });
    }
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 1) {
      const at = address + BigInt(i);
      if (this.isValid(at)) out[i] = this.bytes[Number(at - this.base)] ?? 0;
    }
    return out;
  }

  invalidate(): void {}

  close(): void {}
}
