import assert from 'node:assert/strict';
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { VmsightError } from '../core/index.js';
import { createLogFifo } from './log-fifo.js';
import { MIN_PIPE_CAPACITY, setPipeCapacity } from './pipe-capacity.js';

/** Bytes a non-blocking writer gets into the pipe before EAGAIN: its real capacity. */
function fillPipe(path: string): number {
  const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  const block = Buffer.alloc(512);
  let written = 0;
  try {
    for (let i = 0; i < 4096; i += 1) written += writeSync(fd, block);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'EAGAIN');
  } finally {
    closeSync(fd);
  }
  return written;
}

describe('setPipeCapacity', () => {
  it('shrinks a FIFO held open by its reader to one page, and the pipe keeps it', async (t) => {
    const fifo = await createLogFifo();
    t.after(() => fifo.remove());
    const reader = openSync(fifo.path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      assert.equal(fillPipe(fifo.path), 64 * 1024, 'the default capacity before');
      // Drain it again so the smaller size fits (F_SETPIPE_SZ refuses to drop buffered data).
      const drain = Buffer.alloc(64 * 1024);
      let drained = 0;
      while (drained < 64 * 1024) {
        drained += readSync(reader, drain, 0, drain.length, null);
      }
      assert.equal(await setPipeCapacity(fifo.path, MIN_PIPE_CAPACITY), MIN_PIPE_CAPACITY);
      assert.equal(fillPipe(fifo.path), MIN_PIPE_CAPACITY);
    } finally {
      closeSync(reader);
    }
  });

  it('rounds a request up to whole pages', async (t) => {
    const fifo = await createLogFifo();
    t.after(() => fifo.remove());
    const reader = openSync(fifo.path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      assert.equal(await setPipeCapacity(fifo.path, 5000), 8192);
    } finally {
      closeSync(reader);
    }
  });

  it('names the path when it is not a pipe, and refuses a nonsense size', async (t) => {
    const fifo = await createLogFifo();
    t.after(() => fifo.remove());
    const file = join(fifo.path, '..', 'plain-file');
    await writeFile(file, 'x');
    await assert.rejects(
      setPipeCapacity(file, 4096),
      (error: unknown) =>
        error instanceof VmsightError && error.code === 'IO_ERROR' && error.message.includes(file),
    );
    await assert.rejects(
      setPipeCapacity(join(fifo.path, '..', 'missing'), 4096),
      (error: unknown) => error instanceof VmsightError && error.message.includes('missing'),
    );
    await assert.rejects(
      setPipeCapacity(fifo.path, 0),
      (error: unknown) => error instanceof VmsightError && error.code === 'INVALID_ARGUMENT',
    );
  });
});
