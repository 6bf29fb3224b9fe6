import { createConnection, type Socket } from 'node:net';
import { VmsightError, type Logger } from '../core/index.js';
import { GdbFramer, type GdbFrame, type GdbFramerOptions } from './gdb-framer.js';
import { ACK, NACK, encodeGdbPacket } from './gdb-packet.js';

export interface GdbConnectionOptions extends GdbFramerOptions {
  readonly host?: string;
  readonly port: number;
  /** Deadline for the TCP connection. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Times a packet is sent again after a `-`, or a corrupt reply is asked for again. Default 3. */
  readonly maxRetransmits?: number;
  readonly log?: Logger;
}

/**
 * One TCP connection to a gdbstub at the packet level (GDB manual, "Packet Acknowledgment"): sends a
 * packet and waits for its `+` (sending it again on `-`), receives packets and acknowledges them
 * (answering `-` to a bad checksum, so the stub sends again), all against a deadline. Every failure
 * (socket error, close, close inside a packet, malformed stream) ends the waits with an error.
 */
export class GdbConnection {
  readonly endpoint: string;
  readonly #options: GdbConnectionOptions;
  readonly #framer: GdbFramer;
  readonly #frames: GdbFrame[] = [];
  readonly #socket: Socket;
  #wake: (() => void) | undefined;
  #failure: VmsightError | undefined;

  private constructor(options: GdbConnectionOptions, socket: Socket) {
    this.#options = options;
    this.endpoint = `${options.host ?? '127.0.0.1'}:${options.port}`;
    this.#framer = new GdbFramer(options);
    this.#socket = socket;
  }

  static async open(options: GdbConnectionOptions): Promise<GdbConnection> {
    const endpoint = `${options.host ?? '127.0.0.1'}:${options.port}`;
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const socket = createConnection({ host: options.host ?? '127.0.0.1', port: options.port });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new VmsightError(
            'TIMEOUT',
            `Cannot connect to GDB stub at ${endpoint} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(
          new VmsightError(
            'CONNECTOR_ERROR',
            `Cannot connect to GDB stub at ${endpoint}: ${error.message}`,
            {
              cause: error,
            },
          ),
        );
      });
    });
    const connection = new GdbConnection(options, socket);
    connection.#listen();
    return connection;
  }

  /** The error that ended the connection, if any. */
  get failure(): VmsightError | undefined {
    return this.#failure;
  }

  /** Sends a packet and waits for its `+`, sending it again on `-`. */
  async send(payload: string, deadline: number): Promise<void> {
    const packet = encodeGdbPacket(payload);
    const limit = this.#options.maxRetransmits ?? 3;
    const what = `"${payload.slice(0, 40)}"`;
    for (let attempt = 0; ; attempt += 1) {
      this.write(packet);
      for (;;) {
        const frame = await this.#nextFrame(deadline, what);
        if (frame.type === 'ack') return;
        if (frame.type === 'nack') break;
        // A packet before our ack is a leftover (a stale stop reply): acknowledge and drop it.
        if (frame.type === 'packet') this.write(Uint8Array.of(ACK));
        this.#options.log?.debug(
          { frame: frame.type },
          'GDB frame dropped while waiting for an ack',
        );
      }
      if (attempt >= limit) {
        throw new VmsightError(
          'CONNECTOR_ERROR',
          `GDB stub at ${this.endpoint} rejected ${what} ${limit + 1} times`,
        );
      }
    }
  }

  /** The next good packet's payload (latin1), acknowledged; `what` names it in a timeout. */
  async receive(deadline: number, what: string): Promise<string> {
    let corrupt = 0;
    for (;;) {
      const frame = await this.#nextFrame(deadline, what);
      if (frame.type === 'packet') {
        this.write(Uint8Array.of(ACK));
        return Buffer.from(frame.payload).toString('latin1');
      }
      if (frame.type === 'bad-checksum') {
        corrupt += 1;
        if (corrupt > (this.#options.maxRetransmits ?? 3)) {
          throw new VmsightError(
            'CONNECTOR_ERROR',
            `GDB stub at ${this.endpoint} sent ${corrupt} packets with bad checksums in a row`,
          );
        }
        this.write(Uint8Array.of(NACK));
      }
    }
  }

  /** Drops frames nobody asked for (stale stop packets after a reconnect), acknowledging packets. */
  dropStale(): void {
    for (const frame of this.#frames.splice(0)) {
      if (frame.type === 'packet') this.write(Uint8Array.of(ACK));
      this.#options.log?.debug({ frame: frame.type }, 'Stale GDB frame dropped');
    }
  }

  /** Raw bytes, outside packet framing (the `^C` interrupt). */
  write(bytes: Uint8Array): void {
    if (this.#failure !== undefined) throw this.#failure;
    this.#socket.write(bytes);
  }

  close(): void {
    this.#fail(new VmsightError('CONNECTOR_ERROR', `GDB connection to ${this.endpoint} is closed`));
    this.#socket.destroy();
  }

  #listen(): void {
    const socket = this.#socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.#frames.push(...this.#framer.push(chunk));
      } catch (error) {
        this.#fail(
          new VmsightError(
            'CONNECTOR_ERROR',
            `GDB stub at ${this.endpoint} sent a malformed stream: ${(error as Error).message}`,
            { cause: error },
          ),
        );
        socket.destroy();
      }
      this.#wake?.();
    });
    socket.on('error', (error) => {
      this.#fail(
        new VmsightError(
          'CONNECTOR_ERROR',
          `GDB connection to ${this.endpoint} failed: ${error.message}`,
          {
            cause: error,
          },
        ),
      );
    });
    socket.on('close', () => {
      const cut = this.#framer.inPacket;
      this.#fail(
        new VmsightError(
          cut ? 'TRUNCATED_INPUT' : 'CONNECTOR_ERROR',
          cut
            ? `GDB stub at ${this.endpoint} closed the connection inside a packet`
            : `GDB stub at ${this.endpoint} closed the connection`,
        ),
      );
    });
  }

  #nextFrame(deadline: number, what: string): Promise<GdbFrame> {
    const ready = this.#frames.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const budget = Math.max(0, deadline - Date.now());
    return new Promise<GdbFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        reject(
          new VmsightError(
            'TIMEOUT',
            `GDB stub at ${this.endpoint} did not answer ${what} in time`,
          ),
        );
      }, budget);
      this.#wake = () => {
        const frame = this.#frames.shift();
        const failure = this.#failure;
        if (frame === undefined && failure === undefined) return;
        clearTimeout(timer);
        this.#wake = undefined;
        if (frame !== undefined) resolve(frame);
        else if (failure !== undefined) reject(failure);
      };
    });
  }

  #fail(error: VmsightError): void {
    this.#failure ??= error;
    this.#wake?.();
  }
}
