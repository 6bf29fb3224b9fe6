import { VmsightError } from '../core/index.js';
import type { GuestEvent } from '../events/index.js';

/** Most distinct I/O tokens a vocabulary holds; later new tokens all map to the unknown id. */
export const MAX_IO_VOCABULARY = 65_536;

/** Token space recorded with I/O models (the detectors' model files name what ids mean). */
export const IO_TOKEN_SPACE = 'io:v1';

/**
 * The I/O token of an event: device, port or register, direction and size, without the value
 * (values carry data, which a sequence model of device usage should not learn). Virtio devices
 * other than the block device are named by QEMU's object pointer, which differs between runs,
 * so they are reduced to `virtio` plus queue index. MMIO is named by QEMU's memory region when
 * the trace gives it (`apic-msi`, `hpet`, `virtio-pci-notify-…`), otherwise by its 4 KiB page.
 * Undefined for events that are not I/O.
 *
 * @example
 * ```ts
 * ioToken({ type: 'port-io', vm: 'lab', vcpu: 0, time: null, port: 0x3f8, direction: 'write', size: 1, value: 65 });
 * // 'pio:3f8:w:1'
 * ```
 */
export function ioToken(event: GuestEvent): string | undefined {
  switch (event.type) {
    case 'port-io':
      return `pio:${event.port.toString(16)}:${event.direction[0]}:${event.size}`;
    case 'mmio': {
      const where = event.region ?? `page:${(event.address >> 12n).toString(16)}`;
      return `mmio:${where}:${event.direction[0]}:${event.size}`;
    }
    case 'virtio': {
      const device = event.device.startsWith('virtio@') ? 'virtio' : event.device;
      return `virtio:${device}:${event.queue}:${event.operation}`;
    }
    case 'syscall':
    case 'context-switch':
    case 'process-start':
    case 'process-exit':
      return undefined;
  }
}

/**
 * Token strings ↔ dense ids for the detectors. Ids are assigned in first-seen order while
 * learning; once frozen (or full), every unseen token maps to `MAX_IO_VOCABULARY`, an id no
 * trained model has seen.
 *
 * @example
 * ```ts
 * const vocabulary = new IoVocabulary();
 * vocabulary.id('pio:3f8:w:1'); // 0
 * vocabulary.freeze();
 * vocabulary.id('pio:70:r:1'); // 65536 (unknown)
 * ```
 */
export class IoVocabulary {
  readonly #ids = new Map<string, number>();
  readonly #tokens: string[] = [];
  #frozen = false;

  static from(tokens: readonly string[]): IoVocabulary {
    if (tokens.length > MAX_IO_VOCABULARY) {
      throw new VmsightError(
        'LIMIT_EXCEEDED',
        `I/O vocabulary has ${tokens.length} tokens, more than ${MAX_IO_VOCABULARY}`,
      );
    }
    const vocabulary = new IoVocabulary();
    for (const token of tokens) vocabulary.id(token);
    vocabulary.freeze();
    return vocabulary;
  }

  get tokens(): readonly string[] {
    return this.#tokens;
  }

  freeze(): void {
    this.#frozen = true;
  }

  id(token: string): number {
    const known = this.#ids.get(token);
    if (known !== undefined) return known;
    if (this.#frozen || this.#tokens.length >= MAX_IO_VOCABULARY) return MAX_IO_VOCABULARY;
    const id = this.#tokens.length;
    this.#ids.set(token, id);
    this.#tokens.push(token);
    return id;
  }
}
