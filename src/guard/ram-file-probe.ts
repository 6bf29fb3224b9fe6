import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { MemoryProbe } from './memory-predicate.js';

/** A memory predicate reads a descriptor or a command, never more (guest addresses are hostile). */
export const MAX_PROBE_BYTES = 4096;

/**
 * RAM that sits at guest-physical 0 one to one in the backing file: on `pc` and `q35` guest RAM up
 * to 2 GiB is all below the PCI hole (hw/i386/pc_piix.c / pc_q35.c split lowmem at 0xe0000000 /
 * 0x80000000 when RAM exceeds them), so a GPA in it is a file offset. Higher RAM is split around
 * the hole by machine-specific rules; it is not probed rather than probed wrongly.
 */
const IDENTITY_LIMIT = 0x8000_0000;

/**
 * A {@link MemoryProbe} over live guest RAM files (QEMU `memory-backend-file,share=on`, lab-notes.md
 * §10), one per VM. Reads a few bytes at a kick with pread; files are opened on first use.
 */
export class RamFileProbe {
  readonly #paths: ReadonlyMap<string, string>;
  readonly #open = new Map<string, { fd: number; size: number } | null>();

  constructor(paths: Readonly<Record<string, string>>) {
    this.#paths = new Map(Object.entries(paths));
  }

  readonly probe: MemoryProbe = (vm, address, length) => {
    if (!Number.isSafeInteger(address) || address < 0) return undefined;
    if (!Number.isInteger(length) || length <= 0 || length > MAX_PROBE_BYTES) return undefined;
    const file = this.#file(vm);
    if (file === null) return undefined;
    if (address + length > Math.min(file.size, IDENTITY_LIMIT)) return undefined;
    const bytes = new Uint8Array(length);
    try {
      return readSync(file.fd, bytes, 0, length, address) === length ? bytes : undefined;
    } catch {
      return undefined;
    }
  };

  close(): void {
    for (const file of this.#open.values()) if (file !== null) closeSync(file.fd);
    this.#open.clear();
  }

  #file(vm: string): { fd: number; size: number } | null {
    const known = this.#open.get(vm);
    if (known !== undefined) return known;
    const path = this.#paths.get(vm);
    let file: { fd: number; size: number } | null = null;
    if (path !== undefined) {
      try {
        const fd = openSync(path, 'r');
        file = { fd, size: fstatSync(fd).size };
      } catch {
        file = null;
      }
    }
    this.#open.set(vm, file);
    return file;
  }
}
