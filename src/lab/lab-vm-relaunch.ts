import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { QmpClient } from '../connectors/index.js';
import { VmsightError, type Logger } from '../core/index.js';
import { guardProcess, releaseProcess } from './process-guard.js';
import { spawnQemu } from './qemu-process.js';
import { RunningLabVm, type LabVm } from './running-lab-vm.js';
import { isVmProcessAlive, readVmState, writeVmState, type LabVmState } from './vm-state.js';

export interface RelaunchOptions {
  /** Deadline for the whole move (new QEMU up, migration, old QEMU gone). Default 60 s. */
  readonly timeoutMs?: number;
  /** Let the new QEMU outlive this Node process (`vmsight lab up`). Default false, as `startLabVm`. */
  readonly detach?: boolean;
  /** Added to the state file's `options` (e.g. the addresses the new options were made from). */
  readonly stateOptions?: Readonly<Record<string, unknown>>;
  readonly log?: Logger;
}

/** QEMU's own figures for the move (QMP `query-migrate` on the source, migration.json MigrationInfo). */
export interface MigrationFigures {
  /** Time the guest was stopped: the switch-over (`downtime`, ms). */
  readonly downtimeMs: number;
  /** From `migrate` to completion, guest still running most of it (`total-time`, ms). */
  readonly totalTimeMs: number;
  readonly setupTimeMs: number;
  /** Bytes of RAM sent through the socket (`ram.transferred`): ~0 when RAM stayed in the file. */
  readonly ramTransferredBytes: number;
  /** Wall time of `relaunchLabVmWith`, including the new QEMU's start (ms). */
  readonly wallMs: number;
}

export interface RelaunchedLabVm {
  /** The VM in its new QEMU (new pid and QMP sockets; same name, RAM file and serial log). */
  readonly vm: LabVm;
  readonly migration: MigrationFigures;
}

interface QueryMigrate {
  readonly status?: string;
  readonly 'error-desc'?: string;
  readonly downtime?: number;
  readonly 'total-time'?: number;
  readonly 'setup-time'?: number;
  readonly ram?: { readonly transferred?: number };
}

const DEFAULT_TIMEOUT_MS = 60_000;
const POLL_MS = 20;
const SERIAL_CHARDEV_ID = 'vmsight-serial';
/** Options QEMU takes once (the last one wins, or they conflict): `extraArgs` replace the source's. */
const SINGLE_OPTIONS = new Set(['-dfilter', '-D', '-msg', '-d', '-icount', '-seed']);

/** A QEMU option value with its commas doubled (QemuOpts escaping, qemu-options.hx). */
function optionValue(text: string): string {
  return text.replaceAll(',', ',,');
}

/**
 * The destination's command line: the source's own (so devices, fw_cfg files and the RAM backend are
 * identical, which migration requires), with fresh QMP sockets (QEMU unlinks an existing socket
 * path before binding and removes it again on exit, so sharing the path with the source would lose
 * it), the serial console appended to instead of truncated (`-serial file:` opens with O_TRUNC;
 * the `file` chardev has `append=on`), the extra options (replacing the source's own `-dfilter`,
 * `-D`, … so a VM can be relaunched again), and `-incoming defer`.
 */
export function relaunchArgs(
  state: LabVmState,
  sockets: { readonly qmpSocket: string; readonly controlSocket: string },
  extraArgs: readonly string[],
): string[] {
  const out: string[] = [];
  const args = state.args;
  const replaced = new Set(extraArgs.filter((arg) => SINGLE_OPTIONS.has(arg)));
  for (let i = 0; i < args.length; i++) {
    const option = args[i] ?? '';
    const value = args[i + 1];
    if (option === '-qmp' && value !== undefined) {
      const path = value.startsWith(`unix:${state.qmpSocket},`)
        ? sockets.qmpSocket
        : value.startsWith(`unix:${state.controlSocket},`)
          ? sockets.controlSocket
          : undefined;
      out.push('-qmp', path === undefined ? value : `unix:${path},server=on,wait=off`);
      i++;
    } else if (option === '-serial' && value === `file:${state.serialPath}`) {
      out.push(
        '-chardev',
        `file,id=${SERIAL_CHARDEV_ID},path=${optionValue(state.serialPath)},append=on`,
        '-serial',
        `chardev:${SERIAL_CHARDEV_ID}`,
      );
      i++;
    } else if (option === '-incoming' || replaced.has(option)) {
      i++;
    } else {
      out.push(option);
    }
  }
  return [...out, ...extraArgs, '-incoming', 'defer'];
}

function remaining(deadline: number, what: string): number {
  const left = deadline - Date.now();
  if (left <= 0) {
    throw new VmsightError('TIMEOUT', `Cannot relaunch the lab VM: ${what} took too long`);
  }
  return left;
}

/** Connects to a QMP socket QEMU is about to create, until `deadline` or QEMU's exit. */
async function connectWhenListening(
  path: string,
  deadline: number,
  hasExited: () => boolean,
): Promise<QmpClient> {
  for (;;) {
    if (hasExited()) {
      throw new VmsightError('CONNECTOR_ERROR', `The new QEMU exited before "${path}" listened`);
    }
    try {
      return await QmpClient.connect(path, {
        connectTimeoutMs: Math.min(5000, remaining(deadline, 'the new QEMU start')),
        commandTimeoutMs: 10_000,
      });
    } catch (error) {
      if (error instanceof VmsightError && error.code === 'TIMEOUT') throw error;
      remaining(deadline, `the new QEMU's QMP socket "${path}"`);
      await sleep(POLL_MS);
    }
  }
}

async function waitForMigration(source: QmpClient, deadline: number): Promise<QueryMigrate> {
  for (;;) {
    const info = await source.execute<QueryMigrate>('query-migrate');
    if (info.status === 'completed') return info;
    if (info.status === 'failed' || info.status === 'cancelled') {
      throw new VmsightError(
        'CONNECTOR_ERROR',
        `Migration to the new QEMU ${info.status}: ${info['error-desc'] ?? 'no reason given'}`,
        { details: { status: info.status } },
      );
    }
    remaining(deadline, `the migration (status "${info.status ?? '?'}")`);
    await sleep(POLL_MS);
  }
}

/** Waits until the destination runs; `cont` when it stayed paused (e.g. a source that was stopped). */
async function waitUntilRunning(dest: QmpClient, deadline: number, wasRunning: boolean) {
  for (;;) {
    const { status } = await dest.execute<{ status: string }>('query-status');
    if (status === 'running') return;
    if (!wasRunning && status === 'paused') return;
    if (status === 'paused' && wasRunning) await dest.execute('cont');
    remaining(deadline, `the new QEMU's start (status "${status}")`);
    await sleep(POLL_MS);
  }
}

async function waitForExit(state: LabVmState, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    if (!isVmProcessAlive(state)) return true;
    await sleep(POLL_MS);
  }
  return !isVmProcessAlive(state);
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * Moves a running lab VM into a new QEMU process started with `extraArgs` added, by local live
 * migration, and returns it: for options that only take effect at QEMU start, such as the TCG
 * sensor's `-dfilter`, which needs a KASLR guest's runtime addresses (known only after boot).
 *
 * The guest RAM is a `share=on` memory-backend-file, so with the `x-ignore-shared` capability
 * (QEMU ≥ 4.0, migration.json) the destination maps the same file and only device state crosses
 * the socket: the guest stops for milliseconds and keeps its processes, uptime and console. The
 * capability is set on both sides before `migrate` / `migrate-incoming` (both must agree). After
 * `completed` the source sits in `postmigrate` and is told to `quit`; the VM's state file then
 * names the new QEMU, so `vmsight lab status|down` and `--vm NAME` follow it.
 *
 * On any failure before the switch-over the destination is killed and the source keeps running
 * (QEMU resumes a source whose migration failed); if the destination does not start after it, the
 * source is resumed with `cont` (the destination never ran on the shared RAM). The old `LabVm` must not
 * be used afterwards; its `stop()` no longer touches the VM's files. A VM with a gdbstub is
 * refused: both QEMUs would need its TCP port at once.
 */
export async function relaunchLabVmWith(
  vm: LabVm,
  extraArgs: readonly string[],
  options: RelaunchOptions = {},
): Promise<RelaunchedLabVm> {
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const log = options.log;
  const state = await readVmState(vm.name);
  if (state === undefined || state.pid !== vm.pid || !isVmProcessAlive(state)) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot relaunch lab VM "${vm.name}": it is not running (see "vmsight lab status")`,
    );
  }
  if (state.gdbPort !== undefined) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot relaunch lab VM "${vm.name}": it has a gdbstub on port ${state.gdbPort}, which the new QEMU cannot open while the old one holds it`,
    );
  }
  const tag = randomBytes(3).toString('hex');
  const sockets = {
    qmpSocket: join(state.dir, `qmp-${tag}.sock`),
    controlSocket: join(state.dir, `control-${tag}.sock`),
  };
  const migrationSocket = join(state.dir, `migrate-${tag}.sock`);
  const args = relaunchArgs(state, sockets, extraArgs);
  const qemu = await spawnQemu(args, {
    logPath: join(state.dir, 'qemu.log'),
    appendLog: true,
    ...(options.detach === true ? { detach: true } : {}),
  });
  const pid = qemu.pid;
  let exited = false;
  qemu.onExit(() => {
    exited = true;
  });
  if (options.detach !== true) guardProcess(pid, [state.ramPath, state.dir]);

  const capabilities = { capabilities: [{ capability: 'x-ignore-shared', state: true }] };
  let dest: QmpClient | undefined;
  let source: QmpClient | undefined;
  let switchedOver = false;
  let sourceWasRunning = true;
  try {
    dest = await connectWhenListening(sockets.controlSocket, deadline, () => exited);
    source = await QmpClient.connect(state.controlSocket, {
      connectTimeoutMs: 5000,
      commandTimeoutMs: 10_000,
    });
    sourceWasRunning =
      (await source.execute<{ status: string }>('query-status')).status === 'running';
    await dest.execute('migrate-set-capabilities', capabilities);
    await dest.execute('migrate-incoming', { uri: `unix:${migrationSocket}` });
    await source.execute('migrate-set-capabilities', capabilities);
    await source.execute('migrate', { uri: `unix:${migrationSocket}` });
    const info = await waitForMigration(source, deadline);
    switchedOver = true;
    await waitUntilRunning(dest, deadline, sourceWasRunning);
    await source.execute('quit').catch(() => undefined);
    await source.close();
    if (!(await waitForExit(state, Math.min(deadline, Date.now() + 5000)))) {
      kill(state.pid);
      await waitForExit(state, Date.now() + 3000);
    }
    releaseProcess(state.pid);
    if (vm instanceof RunningLabVm) vm.handOver();
    const moved: LabVmState = {
      ...state,
      pid,
      ...sockets,
      args,
      options: {
        ...state.options,
        ...options.stateOptions,
        relaunchedAt: new Date().toISOString(),
      },
    };
    await writeVmState(moved);
    const next = new RunningLabVm(moved, log);
    qemu.onExit(({ code, signal }) => next.markExited(code, signal));
    const migration: MigrationFigures = {
      downtimeMs: info.downtime ?? Number.NaN,
      totalTimeMs: info['total-time'] ?? Number.NaN,
      setupTimeMs: info['setup-time'] ?? Number.NaN,
      ramTransferredBytes: info.ram?.transferred ?? 0,
      wallMs: Date.now() - started,
    };
    log?.debug({ vm: vm.name, oldPid: state.pid, pid, ...migration }, 'lab VM relaunched');
    return { vm: next, migration };
  } catch (error) {
    kill(pid);
    releaseProcess(pid);
    if (source !== undefined && source.isOpen) {
      await source.execute('migrate_cancel').catch(() => undefined);
      // After the switch-over the source waits in `postmigrate`; the destination never ran.
      if (switchedOver && sourceWasRunning) await source.execute('cont').catch(() => undefined);
    }
    await source?.close();
    await Promise.all(
      [sockets.qmpSocket, sockets.controlSocket].map((path) => rm(path, { force: true })),
    );
    throw error;
  } finally {
    await dest?.close();
    await rm(migrationSocket, { force: true });
  }
}
