import { VmsightError } from '../core/index.js';

const NEWLINE = 0x0a;

/** Receives one line as `bytes[start, end)`, without its LF; valid only during the call. */
export type LineSink = (bytes: Buffer, start: number, end: number) => void;

/**
 * Cuts a byte stream that arrives in chunks into LF-terminated lines, handed out in place (the
 * chunk is never copied; only a line that straddles two chunks is joined). Every line is bounded:
 * the log is written by QEMU but its content is guest-controlled, so a line longer than
 * `maxLineBytes` throws `LIMIT_EXCEEDED` naming it rather than being buffered without bound.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #source: string;
  /** The incomplete last line of the previous chunk (a copy: the caller reuses its buffers). */
  #carry: Buffer | undefined;
  #lines = 0;

  /** `source` names the stream in errors ("QEMU log line 12"). */
  constructor(maxLineBytes: number, source: string) {
    this.#maxLineBytes = maxLineBytes;
    this.#source = source;
  }

  /** Hands `sink` each line the chunk completes; a line that continues is kept until it ends. */
  push(chunk: Uint8Array, sink: LineSink): void {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    if (this.#carry !== undefined) {
      // Only the line that straddles the chunks is joined; the chunk itself is never copied.
      const newline = bytes.indexOf(NEWLINE);
      const head = bytes.subarray(0, newline < 0 ? bytes.length : newline);
      this.#checkLength(this.#carry.length + head.length);
      const joined = Buffer.concat([this.#carry, head]);
      this.#carry = undefined;
      if (newline < 0) {
        this.#carry = joined;
        return;
      }
      this.#lines += 1;
      sink(joined, 0, joined.length);
      start = newline + 1;
    }
    for (;;) {
      const newline = bytes.indexOf(NEWLINE, start);
      if (newline < 0) break;
      this.#checkLength(newline - start);
      this.#lines += 1;
      sink(bytes, start, newline);
      start = newline + 1;
    }
    if (start < bytes.length) {
      this.#checkLength(bytes.length - start);
      this.#carry = Buffer.from(bytes.subarray(start));
    }
  }

  /** Hands `sink` the unterminated last line, if the stream ended in one. */
  end(sink: LineSink): void {
    const carry = this.#carry;
    this.#carry = undefined;
    if (carry === undefined) return;
    this.#lines += 1;
    sink(carry, 0, carry.length);
  }

  #checkLength(length: number): void {
    if (length <= this.#maxLineBytes) return;
    const line = this.#lines + 1;
    throw new VmsightError(
      'LIMIT_EXCEEDED',
      `Cannot read ${this.#source} line ${line}: it is longer than the limit of ${this.#maxLineBytes} bytes`,
      { details: { source: this.#source, line, maxLineBytes: this.#maxLineBytes } },
    );
  }
}
