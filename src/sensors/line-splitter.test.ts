import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VmsightError } from '../core/index.js';
import { LineSplitter } from './line-splitter.js';

/** Every line `splitter` hands out for `chunks`, then for the end of the stream. */
function split(splitter: LineSplitter, chunks: readonly string[]): string[] {
  const lines: string[] = [];
  const sink = (bytes: Buffer, start: number, end: number): void => {
    lines.push(bytes.toString('latin1', start, end));
  };
  for (const chunk of chunks) splitter.push(Buffer.from(chunk, 'latin1'), sink);
  splitter.end(sink);
  return lines;
}

describe('LineSplitter', () => {
  it('joins lines that straddle chunks and hands out an unterminated last line at the end', () => {
    const lines = split(new LineSplitter(100, 'test log'), ['ab', 'c\nde', 'f', '\n\ngh']);
    assert.deepEqual(lines, ['abc', 'def', '', 'gh']);
  });

  it('leaves a trailing CR in the line for its parser to drop', () => {
    assert.deepEqual(split(new LineSplitter(100, 'test log'), ['a\r\nb\r\n']), ['a\r', 'b\r']);
  });

  it('refuses a line longer than the limit even before it ends, naming the stream and the line', () => {
    const splitter = new LineSplitter(4, 'test log');
    const sink = (): void => undefined;
    splitter.push(Buffer.from('1234\n'), sink);
    splitter.push(Buffer.from('12'), sink);
    assert.throws(
      () => splitter.push(Buffer.from('345'), sink),
      (error: unknown) =>
        error instanceof VmsightError &&
        error.code === 'LIMIT_EXCEEDED' &&
        error.message === 'Cannot read test log line 2: it is longer than the limit of 4 bytes',
    );
  });
});
