import { closeSync, constants, openSync } from 'node:fs';
import { Socket, type SocketConstructorOpts } from 'node:net';
import { VmsightError } from '../core/index.js';

/** Bytes the reader buffers ahead of its consumer before it stops reading the pipe. */
const DEFAULT_BUFFER_BYTES = 4 * 1024 * 1024;

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
    // stream.Duplex reads `readableHighWaterMark` from the options net.Socket passes it; the
    // net typings do not list it.
    const options: SocketConstructorOpts & { readonly readableHighWaterMark: number } = {
      fd,
      readable: true,
      writable: false,
      readableHighWaterMark: bufferBytes,
    };
    const socket = new Socket(options);
    this.#socket = socket;
    this.#fd = undefined; // the socket owns it now
    let ended = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const signal = (): void => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    };
    socket.on('readable', signal);
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
        const chunk = socket.read() as Buffer | null;
        if (chunk !== null) {
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
