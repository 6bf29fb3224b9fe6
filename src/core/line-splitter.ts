import { VmsightError } from './errors.js';

/** One line of text input, numbered from 1 as editors and error messages count them. */
export interface TextLine {
  readonly text: string;
  readonly number: number;
}

export interface LineSplitterOptions {
  /**
   * Longest line accepted, in bytes. Untrusted input (a 3 GB single-line trace, a hostile QMP peer)
   * must not make us buffer without bound. Default 16 MiB.
   */
  readonly maxLineBytes?: number;
  /** Named in error messages ("trace.txt line 12"). */
  readonly source?: string;
}

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * {@link splitLines} one input chunk at a time: yields the complete lines of each chunk as one
 * array (never empty), so a consumer of millions of lines a second pays for one `await` per chunk
 * instead of one per line. Same limits and errors as `splitLines`.
 *
 * @example
 * ```ts
 * import { Readable } from 'node:stream';
 * import { splitLineBatches } from './line-splitter.js';
 * for await (const batch of splitLineBatches(Readable.from([Buffer.from('a\nb\nc')]))) {
 *   console.log(batch.map((line) => line.text)); // ['a', 'b'], then ['c']
 * }
 * ```
 */
export async function* splitLineBatches(
  chunks: AsyncIterable<Uint8Array | string>,
  options: LineSplitterOptions = {},
): AsyncGenerator<TextLine[]> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const source = options.source ?? 'input';
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let number = 0;

  const tooLong = (): VmsightError =>
    new VmsightError(
      'LIMIT_EXCEEDED',
      `Cannot read ${source} line ${number + 1}: it is longer than the limit of ${maxLineBytes} bytes`,
      { details: { source, line: number + 1, maxLineBytes } },
    );

  for await (const raw of chunks) {
    const chunk =
      typeof raw === 'string'
        ? Buffer.from(raw)
        : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const batch: TextLine[] = [];
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline < 0) {
        break;
      }
      if (pendingBytes + (newline - start) > maxLineBytes) {
        if (batch.length > 0) yield batch;
        throw tooLong();
      }
      const piece = chunk.subarray(start, newline);
      const line = pendingBytes === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      pendingBytes = 0;
      number += 1;
      batch.push({ text: decodeLine(line), number });
      start = newline + 1;
    }
    if (batch.length > 0) yield batch;
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      pendingBytes += rest.length;
      if (pendingBytes > maxLineBytes) {
        throw tooLong();
      }
      // Copy: the caller may reuse the chunk's buffer after we yield.
      pending.push(Buffer.from(rest));
    }
  }
  if (pendingBytes > 0) {
    number += 1;
    const line = Buffer.concat(pending);
    yield [{ text: decodeLine(line), number }];
  }
}

/**
 * Splits a byte stream into lines (LF or CRLF), holding at most one line plus one chunk in memory.
 * The last line is yielded even without a trailing newline. A line longer than `maxLineBytes` throws
 * `LIMIT_EXCEEDED` naming the source and line number, as soon as the limit is crossed: it does not
 * wait for the line to end.
 *
 * @example
 * ```ts
 * import { Readable } from 'node:stream';
 * import { splitLines } from './line-splitter.js';
 * for await (const line of splitLines(Readable.from([Buffer.from('a\nb')]))) {
 *   console.log(line.number, line.text); // 1 a, then 2 b
 * }
 * ```
 */
export async function* splitLines(
  chunks: AsyncIterable<Uint8Array | string>,
  options: LineSplitterOptions = {},
): AsyncGenerator<TextLine> {
  for await (const batch of splitLineBatches(chunks, options)) yield* batch;
}

function decodeLine(line: Buffer): string {
  const end =
    line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN ? line.length - 1 : line.length;
  return line.toString('utf8', 0, end);
}
