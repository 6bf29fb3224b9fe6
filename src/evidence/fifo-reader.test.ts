import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { guardFifo } from './fifo-guardian.js';
import { readFifo } from './fifo-reader.js';
import { ChunkCoalescer } from './hashing-compressor.js';
import { scratchDir } from './_test-support.js';

void describe('readFifo, guardFifo and ChunkCoalescer', () => {
  const scratch = scratchDir('fifo');
  after(() => scratch.remove());

  void it('reads everything a writer puts into a FIFO, in order', async () => {
    const data = randomBytes(5 << 20);
    const source = join(scratch.path, 'data.bin');
    const fifo = join(scratch.path, 'pipe');
    writeFileSync(source, data);
    execFileSync('mkfifo', ['-m', '600', fifo]);
    // A writer of small pieces, like QEMU when it is the slower side.
    const writer = spawn('dd', [`if=${source}`, `of=${fifo}`, 'bs=4096'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => writer.once('exit', resolve));
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of readFifo(fifo, { slabSize: 1 << 20, minRead: 64 << 10 })) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    assert.equal(await exited, 0);
    assert.equal(bytes, data.length);
    assert.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
  });

  void it('guards a FIFO so that a writer can open it, until released', async () => {
    const fifo = join(scratch.path, 'guarded');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const openWriter = (): void =>
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    // Without a reader, a non-blocking open for writing fails with ENXIO (fifo(7)); a blocking
    // one, as QEMU's, would hang.
    assert.throws(openWriter, { code: 'ENXIO' });
    const guard = await guardFifo(fifo);
    openWriter();
    await guard.release();
    assert.throws(openWriter, { code: 'ENXIO' });
  });

  void it('coalesces byte-sized chunks into chunks of at least the given size', async () => {
    const data = randomBytes(1000);
    const pieces = [...data].map((byte) => Buffer.from([byte]));
    const out: Buffer[] = [];
    const coalescer = Readable.from(pieces).pipe(new ChunkCoalescer(64));
    // 'data' events, not async iteration: an iterator may join chunks that were pushed apart.
    coalescer.on('data', (chunk: Buffer) => out.push(chunk));
    await new Promise((resolve) => coalescer.once('end', resolve));
    assert.deepEqual(Buffer.concat(out), data);
    assert.ok(out.slice(0, -1).every((chunk) => chunk.length >= 64));
    assert.equal(out.length, Math.ceil(1000 / 64));
  });
});
