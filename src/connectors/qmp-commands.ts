/**
 * Argument and return types of the QMP commands vmsight issues, from QEMU 7.2's QAPI schema
 * (qapi/run-state.json, qapi/machine.json, qapi/dump.json, qapi/misc.json, qapi/control.json).
 * Only the members vmsight reads are typed; QEMU may send more.
 */

/** `query-status` → StatusInfo (run-state.json). */
export interface QmpStatusInfo {
  readonly running: boolean;
  readonly singlestep?: boolean;
  /** RunState: "running", "paused", "shutdown", "save-vm", "inmigrate", "guest-panicked", … */
  readonly status: string;
}

/** One element of `query-cpus-fast` → CpuInfoFast (machine.json). */
export interface QmpCpuInfoFast {
  readonly 'cpu-index': number;
  readonly 'qom-path': string;
  /** Host thread id of the vCPU (what host-side tracing filters on). */
  readonly 'thread-id': number;
  readonly target: string;
}

/** `dump-guest-memory` arguments (dump.json). `protocol` is "file:PATH" or "fd:NAME". */
export interface QmpDumpGuestMemoryArgs {
  readonly paging: boolean;
  readonly protocol: string;
  readonly detach?: boolean;
  readonly begin?: number;
  readonly length?: number;
  readonly format?: 'elf' | 'kdump-zlib' | 'kdump-lzo' | 'kdump-snappy' | 'win-dmp';
}

/** `query-dump` → DumpQueryResult, also the `result` of the DUMP_COMPLETED event. */
export interface QmpDumpQueryResult {
  readonly status: 'none' | 'active' | 'completed' | 'failed';
  readonly completed: number;
  readonly total: number;
}

/** `query-kvm` → KvmInfo. `enabled` is true under KVM even where KVM cannot run the guest. */
export interface QmpKvmInfo {
  readonly enabled: boolean;
  readonly present: boolean;
}

interface Command<Args, Return> {
  readonly args: Args;
  readonly return: Return;
}
type NoArgs = Readonly<Record<string, never>>;
type Empty = Readonly<Record<string, never>>;

/**
 * The typed command table: `QmpClient.execute('query-status')` resolves to `QmpStatusInfo`.
 * Commands not listed here still go through `execute<T>(name, args)`.
 */
export interface QmpCommands {
  qmp_capabilities: Command<{ readonly enable?: readonly string[] }, Empty>;
  'query-status': Command<NoArgs, QmpStatusInfo>;
  'query-cpus-fast': Command<NoArgs, readonly QmpCpuInfoFast[]>;
  'query-kvm': Command<NoArgs, QmpKvmInfo>;
  'query-dump': Command<NoArgs, QmpDumpQueryResult>;
  'dump-guest-memory': Command<QmpDumpGuestMemoryArgs, Empty>;
  stop: Command<NoArgs, Empty>;
  cont: Command<NoArgs, Empty>;
  system_powerdown: Command<NoArgs, Empty>;
  system_reset: Command<NoArgs, Empty>;
  quit: Command<NoArgs, Empty>;
  'human-monitor-command': Command<
    { readonly 'command-line': string; readonly 'cpu-index'?: number },
    string
  >;
  pmemsave: Command<
    { readonly val: number; readonly size: number; readonly filename: string },
    Empty
  >;
}

export type QmpCommandName = keyof QmpCommands;
