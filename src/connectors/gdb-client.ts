import { VmsightError, hex } from '../core/index.js';
import { breakpointPacket, type Breakpoint, type BreakpointType } from './gdb-breakpoint.js';
import { GdbConnection, type GdbConnectionOptions } from './gdb-connection.js';
import { INTERRUPT } from './gdb-packet.js';
import {
  X86_64_QEMU_REGISTERS,
  decodeGdbRegisters,
  decodeRegisterHex,
  type GdbRegister,
  type X86Registers,
} from './gdb-registers.js';
import { checkHexReply, expectOkReply, isConsoleOutput, isErrorReply } from './gdb-replies.js';
import { isStopReply, parseStopReply, type StopReply } from './gdb-stop-reply.js';
import {
  DEFAULT_STUB_FEATURES,
  QSUPPORTED_REQUEST,
  parseStubFeatures,
  type StubFeatures,
} from './gdb-stub-features.js';
import {
  readFeatureDocument,
  readMemoryInPieces,
  writeMemoryInPieces,
  type GdbTransferChannel,
} from './gdb-transfers.js';

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
  features: StubFeatures = DEFAULT_STUB_FEATURES;
  /** The last stop reply received. */
  lastStop: StopReply | undefined;
  readonly #options: GdbClientOptions;
  readonly #connection: GdbConnection;
  readonly #breakpoints = new Map<string, Breakpoint>();
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
    return readFeatureDocument(this.#transferChannel(), annex);
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
    return readMemoryInPieces(this.#transferChannel(), address, length);
  }

  async writeMemory(address: bigint, bytes: Uint8Array): Promise<void> {
    return writeMemoryInPieces(this.#transferChannel(), address, bytes);
  }

  /** `Z0` (software, int3) or `Z1` (hardware) breakpoint; kind 1 is x86's one-byte int3. */
  async insertBreakpoint(type: BreakpointType, address: bigint, kind = 1): Promise<void> {
    const reply = await this.request(breakpointPacket('Z', { type, address, kind }));
    this.#expectOk(reply, `insert a ${type} breakpoint at ${hex(address)}`);
    this.#breakpoints.set(`${type}:${address}`, { type, address, kind });
  }

  async removeBreakpoint(type: BreakpointType, address: bigint, kind = 1): Promise<void> {
    const reply = await this.request(breakpointPacket('z', { type, address, kind }));
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
        const rip = await this.#readRip();
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
      const lifted = this.#liftToStep ? await this.#liftBreakpointsAt(pc) : [];
      let stop: StopReply;
      try {
        stop = await this.#stopRequest('s', this.#requestTimeout());
      } finally {
        await this.#restoreBreakpoints(lifted);
      }
      if (stop.kind !== 'signal') return;
      if ((await this.#readRip()) !== pc) return;
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
   * Lifts (`z`) every breakpoint of ours at `pc` and returns them, for {@link #restoreBreakpoints}.
   * Raw requests: this runs inside `continue()`'s exclusive section.
   */
  async #liftBreakpointsAt(pc: bigint): Promise<Breakpoint[]> {
    const lifted = [...this.#breakpoints.values()].filter((bp) => bp.address === pc);
    for (const bp of lifted) {
      const reply = await this.#request(breakpointPacket('z', bp));
      this.#expectOk(reply, `lift the breakpoint at ${hex(pc)}`);
    }
    return lifted;
  }

  /** Puts breakpoints lifted by {@link #liftBreakpointsAt} back (`Z`). */
  async #restoreBreakpoints(lifted: readonly Breakpoint[]): Promise<void> {
    for (const bp of lifted) {
      const reply = await this.#request(breakpointPacket('Z', bp));
      this.#expectOk(reply, `restore the breakpoint at ${hex(bp.address)}`);
    }
  }

  /** `rip` from a `g` packet (`p` answers only after the target description was read in 7.2). */
  async #readRip(): Promise<bigint> {
    return decodeGdbRegisters(
      await this.#request('g'),
      this.#options.registers ?? X86_64_QEMU_REGISTERS,
    ).rip;
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
    this.features = parseStubFeatures(await this.#request(QSUPPORTED_REQUEST, timeout));
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
      if (isConsoleOutput(reply)) continue;
      if (isErrorReply(reply)) {
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
      if (isConsoleOutput(reply)) continue;
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
    return checkHexReply(reply, packet, this.endpoint);
  }

  #expectOk(reply: string, what: string): void {
    expectOkReply(reply, what, this.endpoint);
  }

  /** Memory and document transfers in packet-sized pieces, each through the request queue. */
  #transferChannel(): GdbTransferChannel {
    return {
      request: (payload) => this.request(payload),
      endpoint: this.endpoint,
      packetSize: this.features.packetSize,
    };
  }
}
