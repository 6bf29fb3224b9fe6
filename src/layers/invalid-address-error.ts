import { VmsightError, hex } from '../core/index.js';

/** Where an address stopped being readable: the paging level, or the physical layer itself. */
export interface InvalidAddressInfo {
  /** The layer that refused the address ("elf-core", "x86-64 4-level"…). */
  readonly layer: string;
  /** The address that could not be read or translated. */
  readonly address: bigint;
  /** Paging level that failed ("PML4", "PD"…), absent for physical holes. */
  readonly level?: string;
  /** Index of the failing entry in its table. */
  readonly entryIndex?: number;
  /** Raw value of the failing entry. */
  readonly entry?: bigint;
}

/**
 * A guest address that cannot be translated or read (Volatility's `InvalidAddressException`): code
 * `INVALID_ADDRESS`, with the layer, address and, for paging, the level and entry that failed.
 *
 * @example
 * ```ts
 * import { InvalidAddressError } from './invalid-address-error.js';
 * const error = new InvalidAddressError('Cannot read physical address 0x1000: not in the dump', {
 *   layer: 'elf-core',
 *   address: 0x1000n,
 * });
 * error.code; // 'INVALID_ADDRESS'
 * ```
 */
export class InvalidAddressError extends VmsightError {
  readonly layer: string;
  readonly address: bigint;
  readonly level: string | undefined;
  readonly entryIndex: number | undefined;
  readonly entry: bigint | undefined;

  constructor(message: string, info: InvalidAddressInfo, options: { cause?: unknown } = {}) {
    super('INVALID_ADDRESS', message, {
      ...options,
      details: {
        layer: info.layer,
        address: hex(info.address),
        ...(info.level === undefined ? {} : { level: info.level }),
        ...(info.entryIndex === undefined ? {} : { entryIndex: info.entryIndex }),
        ...(info.entry === undefined ? {} : { entry: hex(info.entry) }),
      },
    });
    this.name = 'InvalidAddressError';
    this.layer = info.layer;
    this.address = info.address;
    this.level = info.level;
    this.entryIndex = info.entryIndex;
    this.entry = info.entry;
  }
}
