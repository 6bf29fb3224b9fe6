import { splitLines } from '../core/index.js';
import { inputError, type InputPosition } from './_input-error.js';
import { toAsync } from './_to-async.js';

/** One parsed line of a line-delimited JSON input, with where it came from for errors. */
export interface JsonLine {
  readonly value: unknown;
  readonly at: InputPosition;
}

/**
 * Parses line-delimited JSON (vmtrace, `drakvuf -o json`): one value per non-blank line. Lines
 * are bounded by `maxLineBytes` (core's default, 16 MiB) before they are parsed, so a hostile
 * file cannot make `JSON.parse` see an unbounded string; a line that is not JSON is an
 * `INVALID_INPUT` error naming the source and line.
 */
export async function* readJsonLines(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: { readonly source: string; readonly maxLineBytes?: number | undefined },
): AsyncGenerator<JsonLine> {
  const { source } = options;
  const lines = splitLines(toAsync(chunks), {
    source: JSON.stringify(source),
    ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
  });
  for await (const line of lines) {
    if (line.text.trim() === '') continue;
    const at: InputPosition = { source, line: line.number };
    let value: unknown;
    try {
      value = JSON.parse(line.text);
    } catch (error) {
      throw inputError(at, 'one JSON value per line', line.text, { cause: error });
    }
    yield { value, at };
  }
}
