import { createConnection, type Socket } from 'node:net';
import { VmsightError, splitLines, type Logger } from '../core/index.js';
import type { QmpCommands } from './qmp-commands.js';
import { qmpConnectionError, qmpSocketError } from './qmp-errors.js';
import { DEFAULT_MAX_QUEUED_EVENTS, QmpEventStream } from './qmp-event-stream.js';
import {
  decodeQmpMessage,
  type QmpEvent,
  type QmpGreeting,
  type QmpMessage,
} from './qmp-message.js';

export interface QmpClientOptions {
  /** Deadline for connecting, the greeting and capabilities negotiation. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Default deadline for each command. Default 30 s (a 1 GiB dump takes about 2 s here). */
  readonly commandTimeoutMs?: number;
  /** Longest QMP line accepted. Default 8 MiB: HMP output of `info registers` is ~2 KiB. */
  readonly maxLineBytes?: number;
  /** Events a slow `events()` reader may fall behind before its stream fails. Default 10,000. */
  readonly maxQueuedEvents?: number;
  readonly log?: Logger;
}

export interface QmpCommandOptions {
  readonly timeoutMs?: number;
}

interface Pending {
  readonly command: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024;

/**
 * A client for the QEMU Machine Protocol over a unix socket (`-qmp unix:PATH,server=on,wait=off`).
 *
 * QMP is line-delimited JSON (qmp-spec.rst): the server greets, the client must send
 * `qmp_capabilities` before any other command, replies carry the command's `id`, and events arrive
 * at any time between replies. Every failure mode ends pending commands with an error: a closed or
 * dead peer, a malformed or oversized line, and a command's own deadline. Nothing waits forever.
 *
 * A QEMU QMP socket serves one client at a time; a second client is not greeted until the first
 * disconnects, and its `connect` ends with `TIMEOUT`.
 *
 * @example
 * ```ts
 * import { QmpClient } from './qmp-client.js';
 * const qmp = await QmpClient.connect('/run/vm/qmp.sock');
 * const status = await qmp.execute('query-status');
 * console.log(status.status); // 'running'
 * console.log(await qmp.hmp('info registers'));
 * await qmp.close();
 * ```
 */
export class QmpClient {
  /** The socket path, as given to `connect`. */
  readonly path: string;
  readonly #options: QmpClientOptions;
  readonly #pending = new Map<string, Pending>();
  readonly #streams = new Set<QmpEventStream>();
  #socket: Socket | undefined;
  #greeting: QmpGreeting | undefined;
  #onGreeting: ((message: QmpGreeting) => void) | undefined;
  #nextId = 1;
  #closed = false;
  #failure: VmsightError | undefined;
  #onFailure: ((error: VmsightError) => void) | undefined;

  private constructor(path: string, options: QmpClientOptions) {
    this.path = path;
    this.#options = options;
  }

  /** Connects, reads the greeting and negotiates capabilities (none are enabled). */
  static async connect(path: string, options: QmpClientOptions = {}): Promise<QmpClient> {
    const client = new QmpClient(path, options);
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(
          new VmsightError(
            'TIMEOUT',
            `Cannot connect to QMP socket "${path}": no greeting within ${timeoutMs} ms (is another client connected?)`,
            { details: { socket: path, timeoutMs } },
          ),
        );
      }, timeoutMs);
    });
    try {
      await Promise.race([client.#open(), deadline]);
      await client.execute('qmp_capabilities', {}, { timeoutMs });
      return client;
    } catch (error) {
      client.#fail(
        error instanceof VmsightError ? error : qmpConnectionError(path, 'failed', error),
      );
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The server greeting: QEMU's version and offered capabilities. */
  get greeting(): QmpGreeting {
    if (this.#greeting === undefined) {
      throw new VmsightError('INTERNAL', 'QMP greeting read before the connection was open');
    }
    return this.#greeting;
  }

  /** True until `close()` or a connection failure. */
  get isOpen(): boolean {
    return !this.#closed;
  }

  /**
   * Runs one command. QMP `error` replies reject with `CONNECTOR_ERROR` carrying the QMP `class`
   * and `desc`; a command that gets no reply in time rejects with `TIMEOUT` naming it.
   */
  execute<K extends keyof QmpCommands>(
    command: K,
    args?: QmpCommands[K]['args'],
    options?: QmpCommandOptions,
  ): Promise<QmpCommands[K]['return']>;
  execute<T = unknown>(command: string, args?: object, options?: QmpCommandOptions): Promise<T>;
  execute(command: string, args?: object, options: QmpCommandOptions = {}): Promise<unknown> {
    if (this.#closed || this.#socket === undefined) {
      return Promise.reject(
        this.#failure ??
          qmpConnectionError(this.path, `cannot run "${command}": the connection is closed`),
      );
    }
    const socket = this.#socket;
    const id = `vmsight-${this.#nextId++}`;
    const timeoutMs =
      options.timeoutMs ?? this.#options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new VmsightError(
            'TIMEOUT',
            `QMP command "${command}" on "${this.path}" did not answer within ${timeoutMs} ms`,
            { details: { socket: this.path, command, timeoutMs } },
          ),
        );
      }, timeoutMs);
      this.#pending.set(id, { command, resolve, reject, timer });
      const message =
        args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
      socket.write(`${JSON.stringify(message)}\n`);
    });
  }

  /** Runs an HMP command line through `human-monitor-command` and returns its text output. */
  async hmp(commandLine: string, options: QmpCommandOptions = {}): Promise<string> {
    const output = await this.execute(
      'human-monitor-command',
      { 'command-line': commandLine },
      options,
    );
    if (typeof output !== 'string') {
      throw qmpConnectionError(
        this.path,
        `HMP command "${commandLine}" returned ${typeof output}, not text`,
      );
    }
    return output;
  }

  /**
   * Asynchronous events from now on, as an async iterable. Subscribe before issuing the command
   * whose events you wait for: events that arrive while nobody listens are not kept. The iterable
   * ends when the connection is closed, and throws when it failed.
   */
  events(): AsyncIterableIterator<QmpEvent> {
    const stream = new QmpEventStream(
      this.#options.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS,
      () => this.#streams.delete(stream),
    );
    if (this.#closed) stream.end(this.#failure);
    else this.#streams.add(stream);
    return stream;
  }

  /** Closes the connection; pending commands reject and event iterables end. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#settleAll(qmpConnectionError(this.path, 'the client closed the connection'), undefined);
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.destroy();
        resolve();
      }, 1000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
    });
  }

  #open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket = createConnection({ path: this.path });
      this.#socket = socket;
      this.#onFailure = reject;
      this.#onGreeting = () => resolve();
      // `on`, not `once`: a reset after connecting emits a second error, which must not crash us
      // (the read loop reports it to pending commands).
      socket.on('error', (error: NodeJS.ErrnoException) => {
        reject(qmpSocketError(this.path, error));
      });
      socket.once('connect', () => {
        // Reading starts only once connected, so a refused socket reports one error, not two.
        void this.#readLoop(socket);
      });
    });
  }

  async #readLoop(socket: Socket): Promise<void> {
    try {
      const lines = splitLines(socket, {
        source: `QMP socket "${this.path}"`,
        maxLineBytes: this.#options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      });
      for await (const line of lines) {
        if (line.text.trim() === '') continue;
        this.#dispatch(decodeQmpMessage(line.text));
        if (this.#closed) return;
      }
      this.#fail(qmpConnectionError(this.path, 'the peer closed the connection'));
    } catch (error) {
      if (this.#closed) return;
      const reason = error instanceof Error ? error.message : String(error);
      this.#fail(qmpConnectionError(this.path, reason, error));
    }
  }

  #dispatch(message: QmpMessage): void {
    switch (message.type) {
      case 'greeting': {
        if (this.#greeting !== undefined) {
          throw new VmsightError('INVALID_INPUT', 'Cannot accept a second QMP greeting');
        }
        this.#greeting = message;
        this.#onGreeting?.(message);
        return;
      }
      case 'return':
      case 'error': {
        if (this.#greeting === undefined) {
          throw new VmsightError(
            'INVALID_INPUT',
            `Cannot accept a QMP ${message.type} before the greeting`,
          );
        }
        const pending = this.#pending.get(message.id);
        if (pending === undefined) {
          // A reply to a command that already timed out: nobody waits for it any more.
          this.#options.log?.debug({ socket: this.path, id: message.id }, 'late QMP reply ignored');
          return;
        }
        this.#pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.type === 'return') {
          pending.resolve(message.value);
        } else {
          pending.reject(
            new VmsightError(
              'CONNECTOR_ERROR',
              `QMP command "${pending.command}" failed: ${message.errorClass}: ${message.desc}`,
              {
                details: {
                  socket: this.path,
                  command: pending.command,
                  class: message.errorClass,
                  desc: message.desc,
                },
              },
            ),
          );
        }
        return;
      }
      case 'event': {
        if (this.#greeting === undefined) {
          throw new VmsightError('INVALID_INPUT', 'Cannot accept a QMP event before the greeting');
        }
        for (const stream of this.#streams) stream.push(message);
        return;
      }
    }
  }

  #fail(error: VmsightError): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#closed = true;
    this.#onFailure?.(error);
    this.#settleAll(error, error);
    this.#socket?.destroy();
  }

  #settleAll(error: VmsightError, streamFailure: VmsightError | undefined): void {
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(
        new VmsightError(
          'CONNECTOR_ERROR',
          `QMP command "${pending.command}" on "${this.path}" did not complete: ${error.message}`,
          { cause: error, details: { socket: this.path, command: pending.command } },
        ),
      );
    }
    for (const stream of this.#streams) stream.end(streamFailure);
    this.#streams.clear();
  }
}
