import { closeSync, constants, openSync } from 'node:fs';
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { VmsightError } from '../core/index.js';

/** Bytes the reader buffers ahead of its consumer before it stops reading the pipe. */
const DEFAULT_BUFFER_BYTES = 4 * 1024 * 1024;
/** Largest single read: a default pipe's capacity (pipe(7)), so one read empties it. */
const READ_BYTES = 64 * 1024;

/**
 * The read end of a FIFO, opened before the writer exists.
 *
 * - Opened `O_NONBLOCK`: a blocking open would wait for QEMU, while QEMU's own `fopen()` of the
 *   FIFO (HMP `logfile`) waits for a reader in its main loop.
 * - Read through libuv's pipe handle (epoll in the event loop), not `fs.createReadStream`, whose
 *   threadpool round trip per read is most of the cost when QEMU writes one ~1.3 KB register dump
 *   per `write()` (it flushes the log after every record) at ~100 k records/s.
 * - `chunks()` hands over everything buffered so far as one chunk, so a consumer that falls
 *   behind gets fewer, larger chunks instead of one per QEMU write.
 *
 * Call `chunks()` only once the writer has opened the FIFO: with no writer a read means end of file.
 *
 * @example
 * ```ts
 * import { FifoReader } from './fifo-reader.js';
 * const reader = FifoReader.open('/tmp/vmsight-tcg-x/qemu-log.fifo');
 * // ...make the writer open it (HMP `logfile`)...
 * for await (const chunk of reader.chunks()) console.log(chunk.length);
 * ```
 */
export class FifoReader {
  readonly path: string;
  #fd: number | undefined;
  #socket: Socket | undefined;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  static open(path: string): FifoReader {
    try {
      return new FifoReader(path, openSync(path, constants.O_RDONLY | constants.O_NONBLOCK));
    } catch (error) {
      throw new VmsightError('IO_ERROR', `Cannot open FIFO "${path}" for reading`, {
        cause: error,
      });
    }
  }

  async *chunks(bufferBytes: number = DEFAULT_BUFFER_BYTES): AsyncGenerator<Buffer> {
    const fd = this.#fd;
    if (fd === undefined || this.#socket !== undefined) {
      throw new VmsightError('INVALID_ARGUMENT', `Cannot read FIFO "${this.path}" twice`);
    }
    // `onread` (net.Socket, Node ≥ 12.1): libuv reads into one buffer of ours and calls back
    // synchronously, with no stream buffering in between. With a one-page pipe QEMU and vmsight
    // hand over every ~3 dumps, and the Readable machinery (its buffer, `readable` events and a
    // stop/start of reading whenever its high-water mark is reached) was most of the cost of each.
    const pending: Buffer[] = [];
    let pendingBytes = 0;
    let paused = false;
    let ended = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const signal = (): void => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    };
    const onRead = (bytes: number, buffer: Buffer): boolean => {
      // Copied: libuv reuses `buffer` for the next read.
      pending.push(Buffer.from(buffer.subarray(0, bytes)));
      pendingBytes += bytes;
      signal();
      // Returning false pauses reading (QEMU then blocks on the full pipe) until the consumer
      // has taken what is buffered.
      paused = pendingBytes >= bufferBytes;
      return !paused;
    };
    // The Socket constructor takes `onread` as `connect()` does (lib/net.js); the net typings
    // list it for `connect()` only.
    const options: SocketConstructorOpts & { readonly onread: OnReadOpts } = {
      fd,
      readable: true,
      writable: false,
      onread: { buffer: Buffer.allocUnsafe(READ_BYTES), callback: onRead },
    };
    const socket = new Socket(options);
    this.#socket = socket;
    this.#fd = undefined; // the socket owns it now
    socket.on('end', () => {
      ended = true;
      signal();
    });
    socket.on('error', (error) => {
      failure = error;
      signal();
    });
    try {
      for (;;) {
        if (pending.length > 0) {
          const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
          pending.length = 0;
          pendingBytes = 0;
          if (paused) {
            paused = false;
            socket.resume();
          }
          yield chunk;
          continue;
        }
        if (failure !== undefined) {
          throw new VmsightError('IO_ERROR', `Cannot read FIFO "${this.path}"`, {
            cause: failure,
          });
        }
        if (ended) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      socket.destroy();
    }
  }

  close(): void {
    this.#socket?.destroy();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
