import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { isVmsightError } from './errors.js';
import { splitLineBatches, splitLines, type TextLine } from './line-splitter.js';

async function collect(
  chunks: Iterable<Uint8Array | string>,
  maxLineBytes?: number,
): Promise<TextLine[]> {
  const lines: TextLine[] = [];
  const options = maxLineBytes === undefined ? {} : { maxLineBytes, source: 'test.txt' };
  for await (const line of splitLines(Readable.from(chunks, { objectMode: true }), options)) {
    lines.push(line);
  }
  return lines;
}

test('splits LF and CRLF lines and numbers them from 1', async () => {
  const lines = await collect(['a\r\nbb\n\nccc']);
  assert.deepEqual(lines, [
    { text: 'a', number: 1 },
    { text: 'bb', number: 2 },
    { text: '', number: 3 },
    { text: 'ccc', number: 4 },
  ]);
});

test('gives the same lines when fed one byte at a time', async () => {
  const text = 'first line\nsecond \u00e9t\u00e9 line\r\nthird';
  const bytes = new TextEncoder().encode(text);
  const byteByByte = Array.from(bytes, (byte) => new Uint8Array([byte]));
  assert.deepEqual(await collect(byteByByte), await collect([bytes]));
  assert.equal((await collect(byteByByte))[1]?.text, 'second \u00e9t\u00e9 line');
});

test('a trailing newline does not produce an extra empty line', async () => {
  assert.deepEqual(await collect(['x\n']), [{ text: 'x', number: 1 }]);
  assert.deepEqual(await collect([]), []);
});

test('a line over the limit fails with LIMIT_EXCEEDED naming source and line, without waiting for its end', async () => {
  let produced = 0;
  function* endless(): Generator<Uint8Array> {
    yield new TextEncoder().encode('ok\n');
    for (;;) {
      produced += 1;
      yield new Uint8Array(1024).fill(0x31);
    }
  }
  await assert.rejects(
    async () => {
      for await (const _line of splitLines(Readable.from(endless()), {
        maxLineBytes: 10_000,
        source: 'big.txt',
      })) {
        // drain
      }
    },
    (error: unknown) =>
      isVmsightError(error, 'LIMIT_EXCEEDED') && /big\.txt line 2/.test(error.message),
  );
  assert.ok(produced <= 11, `read ${produced} chunks before failing`);
});

test('a line exactly at the limit is accepted', async () => {
  const lines = await collect(['12345\n', '1234', '5'], 5);
  assert.deepEqual(
    lines.map((line) => line.text),
    ['12345', '12345'],
  );
});

test('does not keep references to caller buffers that may be reused', async () => {
  const buffer = Buffer.from('abc');
  const chunks = [buffer, Buffer.from('\n')];
  let step = 0;
  // A hand-written iterator, so that the buffer is overwritten exactly when the splitter asks for the
  // next chunk (a stream would read ahead and hide the bug).
  const reusing: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        if (step === 1) buffer.write('xyz');
        const value = chunks[step];
        step += 1;
        return Promise.resolve(
          value === undefined ? { done: true, value: undefined } : { done: false, value },
        );
      },
    }),
  };
  const lines: string[] = [];
  for await (const line of splitLines(reusing)) lines.push(line.text);
  assert.deepEqual(lines, ['abc']);
});

test('splitLineBatches yields the lines of each chunk together, numbered across chunks', async () => {
  const batches: string[][] = [];
  const numbers: number[] = [];
  for await (const batch of splitLineBatches(
    Readable.from(['a\n#x\nb', 'c\n#y\n', 'd'], { objectMode: true }),
  )) {
    batches.push(batch.map((line) => line.text));
    numbers.push(...batch.map((line) => line.number));
  }
  assert.deepEqual(batches, [['a', '#x'], ['bc', '#y'], ['d']]);
  assert.deepEqual(numbers, [1, 2, 3, 4, 5]);
});
