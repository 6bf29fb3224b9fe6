import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { FifoReader } from './fifo-reader.js';
import { createLogFifo } from './log-fifo.js';

/** A writer in another process (as QEMU is): `count` records of `size` bytes, numbered. */
function startWriter(path: string, count: number, size: number): Promise<number | null> {
  const script =
    'open(my $f, ">", $ARGV[0]) or die; binmode $f; $| = 0;' +
    'for my $i (1 .. $ARGV[1]) { my $r = sprintf("%08d", $i) . ("x" x ($ARGV[2] - 9)) . "\\n";' +
    ' syswrite($f, $r) == length($r) or die "write: $!"; }';
  const child = spawn('perl', ['-e', script, path, String(count), String(size)], {
    stdio: 'ignore',
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describe('FifoReader', () => {
  it('delivers every byte in order, and a slow consumer bounds what it buffers', async (t) => {
    const fifo = await createLogFifo();
    t.after(() => fifo.remove());
    const reader = FifoReader.open(fifo.path);
    const count = 3000;
    const size = 1300;
    const writer = startWriter(fifo.path, count, size);
    // The writer must have opened the FIFO before the first read (no writer = end of file).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const bufferBytes = 8192;
    let text = '';
    let largest = 0;
    let chunks = 0;
    for await (const chunk of reader.chunks(bufferBytes)) {
      chunks += 1;
      largest = Math.max(largest, chunk.length);
      text += chunk.toString('latin1');
      // A consumer that falls behind: the reader must pause rather than buffer without bound.
      if (chunks % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(await writer, 0);
    const records = text.split('\n').slice(0, -1);
    assert.equal(records.length, count);
    records.forEach((record, index) => {
      assert.equal(record.slice(0, 8), String(index + 1).padStart(8, '0'));
      assert.equal(record.length, size - 1);
    });
    // Paused once `bufferBytes` are waiting, so a chunk holds at most that plus one read (64 KiB).
    assert.ok(largest <= bufferBytes + 64 * 1024, `a chunk of ${largest} bytes`);
  });

  it('refuses a second reader', async (t) => {
    const fifo = await createLogFifo();
    t.after(() => fifo.remove());
    const reader = FifoReader.open(fifo.path);
    const writer = startWriter(fifo.path, 1, 100);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const first = reader.chunks();
    await first.next();
    await assert.rejects(reader.chunks().next(), /twice/);
    await first.return(undefined);
    reader.close();
    await writer;
  });
});
