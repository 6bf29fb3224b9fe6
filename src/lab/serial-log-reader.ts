import { open } from 'node:fs/promises';

/** Longest console line kept whole; longer ones are cut (a guest may print anything). */
const MAX_LINE_CHARS = 64 * 1024;
const CHUNK_BYTES = 64 * 1024;

/**
 * Follows a growing serial-console log (`-serial file:PATH`) by offset, returning only complete
 * new lines each time: polling never re-reads the whole file, and a line QEMU is still writing is
 * not matched half-done ("rc=1" before "rc=12" arrives).
 */
export class SerialLogReader {
  readonly path: string;
  #offset = 0;
  #partial = '';

  constructor(path: string) {
    this.path = path;
  }

  /** Complete lines written since the last call (without "\r\n"). A missing file reads as empty. */
  async readLines(): Promise<string[]> {
    let handle;
    try {
      handle = await open(this.path, 'r');
    } catch {
      return [];
    }
    try {
      const lines: string[] = [];
      const buffer = Buffer.alloc(CHUNK_BYTES);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.#offset);
        if (bytesRead === 0) break;
        this.#offset += bytesRead;
        // latin1 keeps every byte one character, so offsets and cut lines never split a sequence.
        const pieces = (this.#partial + buffer.toString('latin1', 0, bytesRead)).split('\n');
        this.#partial = (pieces.pop() ?? '').slice(0, MAX_LINE_CHARS);
        for (const piece of pieces) lines.push(piece.replace(/\r$/, '').slice(0, MAX_LINE_CHARS));
      }
      return lines;
    } finally {
      await handle.close();
    }
  }

  /** The unterminated last line, if any (QEMU has exited: it will not be completed). */
  get partialLine(): string {
    return this.#partial.replace(/\r$/, '');
  }
}
