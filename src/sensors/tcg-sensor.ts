import { VmsightError, hex, type Logger } from '../core/index.js';
import type { GuestEvent } from '../events/index.js';
import { BoundedEventQueue } from './bounded-event-queue.js';
import type { TaskReader } from './guest-task-reader.js';
import { IO_TRACE_EVENTS, IoTraceDecoder } from './io-trace-decoder.js';
import { FifoReader } from './fifo-reader.js';
import { createLogFifo, type LogFifo } from './log-fifo.js';
import { setPipeCapacity } from './pipe-capacity.js';
import { OverflowPolicy, type Sensor, type SensorStats } from './sensor.js';
import type { SyscallArgumentReader } from './syscall-argument-reader.js';
import { TcgEventDecoder, type TcgProbeAddresses } from './tcg-event-decoder.js';
import { TcgLogParser } from './tcg-log-parser.js';
import type { TcgLogRecord } from './tcg-log-record.js';

/** The part of `QmpClient` the sensor uses (tests pass a fake). */
export interface SensorMonitor {
  hmp(commandLine: string): Promise<string>;
  execute(command: string, args?: object): Promise<unknown>;
}

export interface TcgSensorOptions {
  /** VM id put on every event. */
  readonly vm: string;
  readonly monitor: SensorMonitor;
  /** Must be the addresses QEMU was started with (see {@link tcgSensorQemuArgs}). */
  readonly addresses: TcgProbeAddresses;
  readonly tasks?: TaskReader;
  /** Reads execve/open/connect arguments from guest memory at entry. */
  readonly arguments?: SyscallArgumentReader;
  /**
   * Bytes read ahead of the parser (default 4 MiB, ~3,000 dumps). Task and argument reads happen
   * when a dump is parsed, so the read-ahead is how far guest memory has moved on by then: a
   * small one keeps them close to the call at some cost in throughput.
   */
  readonly readAheadBytes?: number;
  /**
   * Capacity of the FIFO's pipe (default: the kernel's 64 KiB). QEMU blocks when it is full, so
   * with a small read-ahead this is how many dumps the guest can be ahead of the parser: one page
   * (4096 bytes, ~3 dumps) keeps task and argument reads within a few calls of the guest.
   */
  readonly pipeBytes?: number;
  /** Capture syscalls and context switches (`log cpu,exec`). Default true. */
  readonly syscalls?: boolean;
  /** Capture I/O trace events ({@link IO_TRACE_EVENTS}). Default false. */
  readonly io?: boolean;
  /** Default `backpressure`: complete capture, the guest slows to the consumer's pace. */
  readonly policy?: OverflowPolicy;
  /** Queue capacity in events. Default 65,536. */
  readonly capacity?: number;
  /** Longest log line accepted. Default 4 KiB: QEMU's dump lines are under 100 bytes. */
  readonly maxLineBytes?: number;
  /** Where the FIFO's private directory is made. Default the OS temp directory. */
  readonly fifoParent?: string;
  /** Time to wait for QEMU to close the FIFO on stop. Default 5 s. */
  readonly stopTimeoutMs?: number;
  readonly log?: Logger;
}

/** Where QEMU's log goes while no sensor is attached. */
const IDLE_LOG_FILE = '/dev/null';
const DEFAULT_MAX_LINE_BYTES = 4096;
/** Read-ahead: ~3,000 register dumps of ~1.3 KB while the parser is busy. */
const READ_BUFFER_BYTES = 4 << 20;

/**
 * QEMU options a VM needs before boot for {@link TcgSensor}: `-dfilter` cannot change at run time,
 * so the probe addresses are fixed here (lab-notes §4b, §9); `-msg timestamp=on` puts the host
 * time on trace-event lines (§5); `-D /dev/null` keeps trace output off stderr until a sensor
 * switches the log file to its FIFO.
 *
 * @example
 * ```ts
 * import { tcgSensorQemuArgs } from './tcg-sensor.js';
 * tcgSensorQemuArgs({ syscallEntry: 0xffffffff81c00080n, contextSwitch: 0xffffffff81031080n });
 * // ['-dfilter', '0xffffffff81c00080+0x1,0xffffffff81031080+0x1', '-msg', 'timestamp=on', '-D', '/dev/null']
 * ```
 */
export function tcgSensorQemuArgs(addresses: TcgProbeAddresses): string[] {
  const ranges = [addresses.syscallEntry, addresses.contextSwitch]
    .filter((address): address is bigint => address !== undefined)
    .map((address) => `${hex(address)}+0x1`);
  return ['-dfilter', ranges.join(','), '-msg', 'timestamp=on', '-D', IDLE_LOG_FILE];
}

/**
 * The TCG sensor: QEMU's execution log, filtered at boot to the syscall entry and `__switch_to`,
 * plus log-backend I/O trace events, switched on over QMP and streamed through a FIFO into one
 * ordered event stream. Only for TCG guests (the log is written by the TCG translator).
 *
 * @example
 * ```ts
 * import { TcgSensor } from './tcg-sensor.js';
 * declare const monitor: import('./tcg-sensor.js').SensorMonitor;
 * const sensor = new TcgSensor({ vm: 'lab', monitor, addresses: { syscallEntry: 0xffffffff81c00080n } });
 * await sensor.start();
 * for await (const event of sensor.events()) { console.log(event.type); break; }
 * await sensor.stop();
 * ```
 */
export class TcgSensor implements Sensor {
  readonly kind = 'tcg';
  readonly #options: TcgSensorOptions;
  readonly #queue: BoundedEventQueue<GuestEvent>;
  readonly #parser: TcgLogParser;
  readonly #exec: TcgEventDecoder;
  readonly #io: IoTraceDecoder;
  #fifo: LogFifo | undefined;
  #reader: FifoReader | undefined;
  #pump: Promise<void> | undefined;
  #seen = 0;
  #state: 'new' | 'running' | 'stopped' = 'new';
  #draining = false;

  constructor(options: TcgSensorOptions) {
    this.#options = options;
    this.#queue = new BoundedEventQueue<GuestEvent>({
      capacity: options.capacity ?? 65_536,
      policy: options.policy ?? OverflowPolicy.BACKPRESSURE,
    });
    this.#exec = new TcgEventDecoder({
      vm: options.vm,
      addresses: options.addresses,
      ...(options.tasks === undefined ? {} : { tasks: options.tasks }),
      ...(options.arguments === undefined ? {} : { arguments: options.arguments }),
    });
    this.#io = new IoTraceDecoder({ vm: options.vm });
    this.#parser = new TcgLogParser({
      maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      source: 'QEMU log',
    });
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') {
      throw new VmsightError('INVALID_ARGUMENT', 'Cannot start the TCG sensor twice');
    }
    this.#state = 'running';
    const monitor = this.#options.monitor;
    const fifo = await createLogFifo(this.#options.fifoParent);
    this.#fifo = fifo;
    try {
      // Open our end first: QEMU's fopen() of a FIFO blocks until a reader exists, and it runs
      // in the main loop, so the HMP command below would not return otherwise.
      const reader = FifoReader.open(fifo.path);
      this.#reader = reader;
      // Set while our read end holds the pipe open, before QEMU's first write (pipe-capacity.ts).
      if (this.#options.pipeBytes !== undefined) {
        await setPipeCapacity(fifo.path, this.#options.pipeBytes);
      }
      await expectEmpty(monitor.hmp(`logfile ${fifo.path}`), 'logfile');
      this.#pump = this.#run(reader.chunks(this.#options.readAheadBytes ?? READ_BUFFER_BYTES));
      if (this.#options.io === true) await this.#setTraceEvents(true);
      // `exec` prints a `Trace` line per TB inside the -dfilter ranges, `cpu` the registers
      // after it (lab-notes §4b: ~105-120 k syscalls/s to a file, every entry logged).
      if (this.#options.syscalls !== false) await expectEmpty(monitor.hmp('log cpu,exec'), 'log');
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  events(): AsyncIterable<GuestEvent> {
    return this.#queue;
  }

  stats(): SensorStats {
    const parser = this.#parser.stats;
    return {
      seen: this.#seen,
      delivered: this.#queue.delivered,
      dropped: this.#queue.dropped,
      malformed: parser.malformed,
      unattributed: this.#exec.unattributed,
    };
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    // From here on nothing may block the reader: QEMU holds the log open until its last write
    // went through, so a stalled consumer must not stall the shutdown.
    this.#draining = true;
    const monitor = this.#options.monitor;
    const steps: Promise<unknown>[] = [];
    steps.push(monitor.hmp('log none').catch(() => ''));
    if (this.#options.io === true) steps.push(this.#setTraceEvents(false).catch(() => undefined));
    await Promise.all(steps);
    await monitor.hmp(`logfile ${IDLE_LOG_FILE}`).catch(() => '');
    const timeout = this.#options.stopTimeoutMs ?? 5000;
    if (this.#pump !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeout);
      });
      await Promise.race([this.#pump, expired]);
      clearTimeout(timer);
    }
    this.#reader?.close();
    this.#queue.close();
    await this.#fifo?.remove();
    this.#options.tasks?.close();
  }

  async #setTraceEvents(enable: boolean): Promise<void> {
    for (const name of IO_TRACE_EVENTS) {
      await this.#options.monitor.execute('trace-event-set-state', { name, enable });
    }
  }

  /** Decodes one record and queues its event; a promise when the queue asks the reader to wait. */
  #deliver(record: TcgLogRecord): Promise<void> | undefined {
    const event = record.kind === 'exec' ? this.#exec.decode(record) : this.#io.decode(record);
    if (event === undefined) return undefined;
    this.#seen += 1;
    if (this.#draining) {
      this.#queue.offer(event);
      return undefined;
    }
    return this.#queue.push(event);
  }

  async #run(chunks: AsyncIterable<Buffer>): Promise<void> {
    try {
      for await (const chunk of chunks) {
        for (const record of this.#parser.pushChunk(chunk)) {
          const wait = this.#deliver(record);
          if (wait !== undefined) await wait;
        }
      }
      for (const record of this.#parser.end()) {
        const wait = this.#deliver(record);
        if (wait !== undefined) await wait;
      }
      this.#queue.close();
    } catch (error) {
      this.#options.log?.warn({ err: error }, 'TCG sensor log reader failed');
      this.#queue.close(
        error instanceof Error
          ? error
          : new VmsightError('IO_ERROR', 'Cannot read the QEMU log', { cause: error }),
      );
    }
  }
}

async function expectEmpty(reply: Promise<string>, command: string): Promise<void> {
  const text = (await reply).trim();
  if (text !== '') {
    throw new VmsightError(
      'CONNECTOR_ERROR',
      `QEMU rejected the HMP command "${command}": ${text}`,
    );
  }
}
