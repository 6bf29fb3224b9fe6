import { VmsightError, hex } from '../core/index.js';
import { GdbConnection, type GdbConnectionOptions } from './gdb-connection.js';
import { INTERRUPT } from './gdb-packet.js';
import {
  X86_64_QEMU_REGISTERS,
  decodeGdbRegisters,
  decodeRegisterHex,
  type GdbRegister,
  type X86Registers,
} from './gdb-registers.js';
import { isStopReply, parseStopReply, type StopReply } from './gdb-stop-reply.js';

export interface GdbClientOptions extends GdbConnectionOptions {
  /** Default deadline for each request. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /**
   * Time spent after connecting discarding what the stub sends unasked: QEMU 7.2 may replay stop
   * packets left over from a previous connection. Default 100 ms.
   */
  readonly drainMs?: number;
  /** Register layout of the `g` packet. Default {@link X86_64_QEMU_REGISTERS}. */
  readonly registers?: readonly GdbRegister[];
}

export type BreakpointType = 'software' | 'hardware';

export interface StubFeatures {
  /** Largest packet the stub accepts, in bytes (`PacketSize`, hex in qSupported). */
  readonly packetSize: number;
  readonly multiprocess: boolean;
  readonly xmlRegisters: boolean;
  readonly raw: string;
}

const BREAKPOINT_CODE: Readonly<Record<BreakpointType, string>> = { software: '0', hardware: '1' };
/** Steps tried to leave a breakpoint's instruction before giving up. */
const MAX_STEP_OFF_ATTEMPTS = 8;

/**
 * A GDB remote serial protocol client for QEMU's gdbstub (`-gdb tcp:HOST:PORT`), with the x86-64
 * register layout QEMU serves and QEMU 7.2's quirks handled (lab-notes "Pitfalls seen"):
 * - connecting pauses the VM, and stale stop packets may follow a reconnect: they are drained;
 * - `c` at a breakpoint's PC reports the same hit again: {@link continue} steps off it first;
 * - `^C` to a paused VM gets no reply: {@link interrupt} answers from the last stop reply then;
 * - `?` removes every breakpoint (QEMU takes it for a new debugger attaching);
 * - `p` answers empty until the target description was read: `g` is used instead;
 * - with multiprocess the detach is `D;1` (plain `D` answers E22 and leaves the VM paused).
 *
 * Every request has a deadline; bad checksums are answered with `-` (and the stub resends), our own
 * packets are sent again on `-`; malformed or truncated replies are errors, never hangs.
 *
 * @example
 * ```ts
 * import { GdbClient } from './gdb-client.js';
 * const gdb = await GdbClient.connect({ port: 1234 });
 * const regs = await gdb.readRegisters();
 * await gdb.insertBreakpoint('hardware', 0xffffffff81c00080n);
 * const stop = await gdb.continue({ timeoutMs: 30_000 });
 * await gdb.removeBreakpoint('hardware', 0xffffffff81c00080n);
 * await gdb.detach(); // the VM runs again
 * ```
 */
export class GdbClient {
  readonly endpoint: string;
  features: StubFeatures = { packetSize: 4096, multiprocess: false, xmlRegisters: false, raw: '' };
  /** The last stop reply received. */
  lastStop: StopReply | undefined;
  readonly #options: GdbClientOptions;
  readonly #connection: GdbConnection;
  readonly #breakpoints = new Map<
    string,
    { type: BreakpointType; address: bigint; kind: number }
  >();
  #stepRetries = 0;
  /** Set once a step at a breakpoint did not execute: from then on step with it lifted. */
  #liftToStep = false;
  #queue: Promise<unknown> = Promise.resolve();
  #running: Promise<StopReply> | undefined;

  private constructor(options: GdbClientOptions, connection: GdbConnection) {
    this.#options = options;
    this.#connection = connection;
    this.endpoint = connection.endpoint;
  }

  /** Connects, drains stale packets, negotiates features and reads the stop reason. */
  static async connect(options: GdbClientOptions): Promise<GdbClient> {
    const client = new GdbClient(options, await GdbConnection.open(options));
    try {
      await client.#handshake();
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  /** True between a `continue` and the stop that ends it. */
  get running(): boolean {
    return this.#running !== undefined;
  }

  /** Sends one packet and returns the reply text (latin1). `Exx` replies throw `CONNECTOR_ERROR`. */
  async request(payload: string, options: { timeoutMs?: number } = {}): Promise<string> {
    return this.#exclusive(() => this.#request(payload, options.timeoutMs));
  }

  async readRegisters(): Promise<X86Registers> {
    const reply = await this.request('g');
    return decodeGdbRegisters(reply, this.#options.registers ?? X86_64_QEMU_REGISTERS);
  }

  /**
   * A target description document (`qXfer:features:read:ANNEX:offset,length`, read in pieces until
   * the stub answers `l`), e.g. `target.xml` and the files it includes. Bounded to 1 MiB.
   */
  async readFeatureXml(annex = 'target.xml'): Promise<string> {
    let text = '';
    const piece = Math.max(64, this.features.packetSize - 16);
    for (;;) {
      const reply = await this.request(
        `qXfer:features:read:${annex}:${text.length.toString(16)},${piece.toString(16)}`,
      );
      if (reply[0] !== 'm' && reply[0] !== 'l') {
        throw new VmsightError(
          'INVALID_INPUT',
          `GDB stub at ${this.endpoint} answered qXfer for "${annex}" with "${reply.slice(0, 40)}"`,
        );
      }
      text += reply.slice(1);
      if (reply[0] === 'l') return text;
      if (text.length > 1024 * 1024 || reply.length === 1) {
        throw new VmsightError(
          'LIMIT_EXCEEDED',
          `GDB target description "${annex}" is longer than 1 MiB`,
        );
      }
    }
  }

  /**
   * One register by number (`p`), little-endian as the target stores it. QEMU 7.2 answers `p` with
   * an empty packet until the client has read its target description, so an empty answer falls back
   * to `g` and the layout.
   */
  async readRegister(number: number): Promise<bigint> {
    const reply = await this.request(`p${number.toString(16)}`);
    if (reply !== '') return decodeRegisterHex(this.#checkHex(reply, 'p'));
    const layout = this.#options.registers ?? X86_64_QEMU_REGISTERS;
    const name = layout[number]?.name;
    const value = name === undefined ? undefined : (await this.readRegisters()).values.get(name);
    if (value === undefined) {
      throw new VmsightError('INVALID_ARGUMENT', `Register number ${number} is not in the layout`);
    }
    return value;
  }

  /** Reads guest virtual memory (as the current CPU sees it), in packet-sized pieces. */
  async readMemory(address: bigint, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    const chunk = Math.max(1, Math.floor((this.features.packetSize - 8) / 2));
    for (let done = 0; done < length;) {
      const count = Math.min(chunk, length - done);
      const at = address + BigInt(done);
      const reply = this.#checkHex(
        await this.request(`m${at.toString(16)},${count.toString(16)}`),
        'm',
      );
      if (reply.length !== count * 2) {
        throw new VmsightError(
          'TRUNCATED_INPUT',
          `GDB stub returned ${reply.length / 2} of ${count} bytes at ${hex(at)}`,
        );
      }
      out.set(Buffer.from(reply, 'hex'), done);
      done += count;
    }
    return out;
  }

  async writeMemory(address: bigint, bytes: Uint8Array): Promise<void> {
    const chunk = Math.max(1, Math.floor((this.features.packetSize - 40) / 2));
    for (let done = 0; done < bytes.length; done += chunk) {
      const part = bytes.subarray(done, done + chunk);
      const at = address + BigInt(done);
      this.#expectOk(
        await this.request(
          `M${at.toString(16)},${part.length.toString(16)}:${Buffer.from(part).toString('hex')}`,
        ),
        `write memory at ${hex(at)}`,
      );
    }
  }

  /** `Z0` (software, int3) or `Z1` (hardware) breakpoint; kind 1 is x86's one-byte int3. */
  async insertBreakpoint(type: BreakpointType, address: bigint, kind = 1): Promise<void> {
    const reply = await this.request(`Z${BREAKPOINT_CODE[type]},${address.toString(16)},${kind}`);
    this.#expectOk(reply, `insert a ${type} breakpoint at ${hex(address)}`);
    this.#breakpoints.set(`${type}:${address}`, { type, address, kind });
  }

  async removeBreakpoint(type: BreakpointType, address: bigint, kind = 1): Promise<void> {
    const reply = await this.request(`z${BREAKPOINT_CODE[type]},${address.toString(16)},${kind}`);
    this.#expectOk(reply, `remove a ${type} breakpoint at ${hex(address)}`);
    this.#breakpoints.delete(`${type}:${address}`);
  }

  /** `?`: why the target is stopped (QEMU answers at once while paused). */
  async haltReason(): Promise<StopReply> {
    return this.#exclusive(async () => {
      const stop = await this.#stopRequest('?', this.#requestTimeout());
      // QEMU treats `?` as a new debugger attaching and removes every breakpoint (measured on 7.2:
      // a `z1` after `?` answers E22), so forget ours too.
      this.#breakpoints.clear();
      return stop;
    });
  }

  /** Executes one instruction. */
  async step(options: { timeoutMs?: number } = {}): Promise<StopReply> {
    return this.#exclusive(() =>
      this.#stopRequest('s', options.timeoutMs ?? this.#requestTimeout()),
    );
  }

  /**
   * Resumes the target until it stops. At a breakpoint's address it steps first (QEMU 7.2 would
   * report the same hit again). On `timeoutMs` (default 60 s) the target is interrupted and the
   * call throws `TIMEOUT`, so a VM is never left running behind a failed call's back.
   */
  async continue(options: { timeoutMs?: number } = {}): Promise<StopReply> {
    return this.#exclusive(async () => {
      if (this.#breakpoints.size > 0) {
        // `g`, not `p`: QEMU 7.2 answers `p` only after the target description was read.
        const rip = decodeGdbRegisters(
          await this.#request('g'),
          this.#options.registers ?? X86_64_QEMU_REGISTERS,
        ).rip;
        if ([...this.#breakpoints.values()].some((bp) => bp.address === rip)) {
          await this.#stepOff(rip);
        }
      }
      this.#connection.dropStale();
      await this.#connection.send('c', Date.now() + this.#requestTimeout());
      const timeoutMs = options.timeoutMs ?? 60_000;
      const running = this.#receiveStop(Date.now() + timeoutMs, '"c"');
      this.#running = running;
      try {
        return await running;
      } catch (error) {
        if (
          error instanceof VmsightError &&
          error.code === 'TIMEOUT' &&
          this.#connection.failure === undefined
        ) {
          this.#connection.write(Uint8Array.of(INTERRUPT));
          await this.#receiveStop(Date.now() + this.#requestTimeout(), 'an interrupt');
          throw new VmsightError(
            'TIMEOUT',
            `GDB target at ${this.endpoint} did not stop within ${timeoutMs} ms: it was interrupted`,
            { cause: error },
          );
        }
        throw error;
      } finally {
        this.#running = undefined;
      }
    });
  }

  /**
   * Steps until the vCPU has left the instruction at `pc`. QEMU 7.2 sometimes answers a step at a
   * breakpoint without executing it (rip unchanged, 1-2 % of hits on the lab guest); the `c`
   * after it would then report the same hit again, and a sensor would count one event twice.
   */
  async #stepOff(pc: bigint): Promise<void> {
    for (let attempt = 0; attempt < MAX_STEP_OFF_ATTEMPTS; attempt += 1) {
      const lifted = this.#liftToStep ? await this.#setBreakpointsAt(pc, 'z', []) : [];
      let stop: StopReply;
      try {
        stop = await this.#stopRequest('s', this.#requestTimeout());
      } finally {
        await this.#setBreakpointsAt(pc, 'Z', lifted);
      }
      if (stop.kind !== 'signal') return;
      const rip = decodeGdbRegisters(
        await this.#request('g'),
        this.#options.registers ?? X86_64_QEMU_REGISTERS,
      ).rip;
      if (rip !== pc) return;
      this.#stepRetries += 1;
      // Under KVM (kvm_pvm on these hosts, every time) a hardware breakpoint is reported again
      // before its instruction runs, so a step never leaves it: lift it for the step (z, s, Z).
      this.#liftToStep = true;
    }
    throw new VmsightError(
      'CONNECTOR_ERROR',
      `GDB target at ${this.endpoint} did not leave the breakpoint at 0x${pc.toString(16)} after ${MAX_STEP_OFF_ATTEMPTS} steps`,
    );
  }

  /**
   * `z` lifts every breakpoint of ours at `pc` and returns them; `Z` puts `restore` back. Raw
   * packets: this runs inside `continue()`'s exclusive section (GDB remote protocol, "z/Z packets").
   */
  async #setBreakpointsAt(
    pc: bigint,
    packet: 'z' | 'Z',
    restore: ReadonlyArray<{ type: BreakpointType; address: bigint; kind: number }>,
  ): Promise<Array<{ type: BreakpointType; address: bigint; kind: number }>> {
    const targets =
      packet === 'Z' ? restore : [...this.#breakpoints.values()].filter((bp) => bp.address === pc);
    for (const bp of targets) {
      const reply = await this.#request(
        `${packet}${BREAKPOINT_CODE[bp.type]},${bp.address.toString(16)},${bp.kind}`,
      );
      this.#expectOk(reply, `${packet === 'z' ? 'lift' : 'restore'} the breakpoint at ${hex(pc)}`);
    }
    return [...targets];
  }

  /** Steps at a breakpoint that QEMU answered without executing the instruction (each retried). */
  get stepRetries(): number {
    return this.#stepRetries;
  }

  /**
   * Stops a running target (`^C`) and returns its stop reply. A paused QEMU 7.2 ignores `^C`, so
   * when nothing runs this returns the last stop reply (or asks `?` when there is none).
   */
  async interrupt(): Promise<StopReply> {
    const running = this.#running;
    if (running === undefined) {
      // Paused: we already hold the reason. Asking `?` would also clear QEMU's breakpoints.
      return this.lastStop ?? this.haltReason();
    }
    this.#connection.write(Uint8Array.of(INTERRUPT));
    return running;
  }

  /**
   * Removes the breakpoints this client set, detaches (`D;1` with multiprocess) and closes: QEMU
   * resumes the VM.
   */
  async detach(): Promise<void> {
    for (const bp of [...this.#breakpoints.values()]) {
      await this.removeBreakpoint(bp.type, bp.address);
    }
    const reply = await this.request(this.features.multiprocess ? `D;${this.#pid()}` : 'D');
    this.#expectOk(reply, 'detach');
    this.close();
  }

  close(): void {
    this.#connection.close();
  }

  async #handshake(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.#options.drainMs ?? 100));
    this.#connection.dropStale();
    const timeout = this.#options.connectTimeoutMs ?? 10_000;
    const supported = await this.#request(
      'qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386',
      timeout,
    );
    const features = new Map<string, string>();
    for (const item of supported.split(';')) {
      const equals = item.indexOf('=');
      if (equals > 0) features.set(item.slice(0, equals), item.slice(equals + 1));
      else features.set(item.replace(/[+-]$/, ''), item.endsWith('+') ? '+' : '-');
    }
    const size = Number.parseInt(features.get('PacketSize') ?? '', 16);
    this.features = {
      packetSize: Number.isFinite(size) && size >= 64 ? Math.min(size, 1 << 20) : 4096,
      multiprocess: features.get('multiprocess') === '+',
      xmlRegisters: features.get('qXfer:features:read') === '+',
      raw: supported,
    };
    await this.#stopRequest('?', timeout);
    this.#breakpoints.clear();
  }

  #requestTimeout(): number {
    return this.#options.requestTimeoutMs ?? 10_000;
  }

  #pid(): number {
    const thread = this.lastStop?.kind === 'signal' ? this.lastStop.thread : undefined;
    const pid = /^p([0-9a-f]+)/i.exec(thread ?? '')?.[1];
    return pid === undefined ? 1 : Number.parseInt(pid, 16);
  }

  /** Runs `task` after every earlier request finished: the protocol has one exchange in flight. */
  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running !== undefined) {
      return Promise.reject(
        new VmsightError(
          'CONNECTOR_ERROR',
          `GDB target at ${this.endpoint} is running: interrupt it first`,
        ),
      );
    }
    const result = this.#queue.then(task, task);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #request(payload: string, timeoutMs = this.#requestTimeout()): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    this.#connection.dropStale();
    await this.#connection.send(payload, deadline);
    for (;;) {
      const reply = await this.#connection.receive(deadline, `"${payload.slice(0, 40)}"`);
      // `O` + hex is console output (qRcmd), sent before the real reply; `OK` is a reply.
      if (reply !== 'OK' && /^O([0-9a-fA-F]{2})+$/.test(reply)) continue;
      if (/^E[0-9a-fA-F]{2}$/.test(reply)) {
        throw new VmsightError(
          'CONNECTOR_ERROR',
          `GDB stub at ${this.endpoint} answered "${payload.slice(0, 40)}" with error ${reply}`,
          {
            details: { packet: payload.slice(0, 40), reply },
          },
        );
      }
      return reply;
    }
  }

  async #stopRequest(payload: string, timeoutMs: number): Promise<StopReply> {
    const deadline = Date.now() + timeoutMs;
    this.#connection.dropStale();
    await this.#connection.send(payload, deadline);
    return this.#receiveStop(deadline, `"${payload}"`);
  }

  async #receiveStop(deadline: number, what: string): Promise<StopReply> {
    for (;;) {
      const reply = await this.#connection.receive(deadline, what);
      if (reply !== 'OK' && /^O([0-9a-fA-F]{2})+$/.test(reply)) continue;
      if (!isStopReply(reply)) {
        throw new VmsightError(
          'INVALID_INPUT',
          `GDB stub at ${this.endpoint} answered ${what} with "${reply.slice(0, 60)}", not a stop reply`,
        );
      }
      const stop = parseStopReply(reply);
      this.lastStop = stop;
      return stop;
    }
  }

  #checkHex(reply: string, packet: string): string {
    if (!/^([0-9a-fA-F]{2})*$/.test(reply) || reply === '') {
      throw new VmsightError(
        'INVALID_INPUT',
        `GDB stub at ${this.endpoint} answered "${packet}" with "${reply.slice(0, 40)}", not hex bytes`,
      );
    }
    return reply;
  }

  #expectOk(reply: string, what: string): void {
    if (reply === 'OK') return;
    throw new VmsightError(
      'CONNECTOR_ERROR',
      reply === ''
        ? `GDB stub at ${this.endpoint} does not support the request to ${what}`
        : `GDB stub at ${this.endpoint} refused to ${what}: "${reply.slice(0, 40)}"`,
    );
  }
}
