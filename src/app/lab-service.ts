import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmsightError, type Logger } from '../core/index.js';
import {
  ensureLabBuilt,
  isVmProcessAlive,
  listVmStates,
  readVmState,
  startLabVm,
  stopLabVmProcess,
  type LabArtifacts,
  type LabVmState,
  type StopResult,
} from '../lab/index.js';
import { labSensorQemuArgs } from './sensor-addresses.js';
import { instrumentLabVmForTcgSensor } from './tcg-sensor-relaunch.js';

/** The default lab VM name of `vmsight lab up|down`. */
export const DEFAULT_LAB_VM = 'lab';

export interface LabBuildResult extends LabArtifacts {
  readonly elapsedMs: number;
}

/** `vmsight lab build [--install]`. */
export async function buildLab(
  options: { readonly install?: boolean; readonly log?: Logger } = {},
): Promise<LabBuildResult> {
  const started = Date.now();
  const artifacts = await ensureLabBuilt(options);
  return { ...artifacts, elapsedMs: Date.now() - started };
}

export interface LabUpOptions {
  readonly name?: string;
  /** Path of a shell script the guest runs after GUEST-READY. */
  readonly workloadFile?: string;
  readonly memory?: string;
  readonly kaslr?: boolean;
  readonly la57?: boolean;
  readonly gdb?: boolean;
  readonly accel?: 'tcg' | 'kvm';
  /**
   * Boot with the TCG sensor's `-dfilter` probes, so `vmsight watch` can capture syscalls. With
   * `kaslr` the guest boots without them and is then moved, running, into a QEMU with this boot's
   * addresses (`instrumentLabVmForTcgSensor`).
   */
  readonly tcgSensor?: boolean;
  readonly log?: Logger;
}

/** One lab VM as `lab up` and `lab status` report it. */
export interface LabVmSummary {
  readonly name: string;
  readonly state: 'running' | 'dead';
  readonly pid: number;
  readonly kernelVersion: string;
  readonly memoryBytes: number;
  readonly qmpSocket: string;
  readonly ramPath: string;
  readonly serialPath: string;
  readonly gdbPort?: number;
  readonly startedAt: string;
  readonly bootMs?: number;
}

function summarize(state: LabVmState, extra: { bootMs?: number } = {}): LabVmSummary {
  return {
    name: state.name,
    state: isVmProcessAlive(state) ? 'running' : 'dead',
    pid: state.pid,
    kernelVersion: state.kernelVersion,
    memoryBytes: state.memoryBytes,
    qmpSocket: state.qmpSocket,
    ramPath: state.ramPath,
    serialPath: state.serialPath,
    ...(state.gdbPort === undefined ? {} : { gdbPort: state.gdbPort }),
    startedAt: state.startedAt,
    ...extra,
  };
}

/** `vmsight lab up`: boots a lab VM that outlives the command, and returns once it is GUEST-READY. */
export async function labUp(options: LabUpOptions = {}): Promise<LabVmSummary> {
  const name = options.name ?? DEFAULT_LAB_VM;
  let workload: string | undefined;
  if (options.workloadFile !== undefined) {
    try {
      workload = await readFile(options.workloadFile, 'utf8');
    } catch (error) {
      throw new VmsightError('NOT_FOUND', `Cannot read workload file "${options.workloadFile}"`, {
        cause: error,
      });
    }
  }
  if (options.tcgSensor === true && options.la57 === true) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      'Cannot boot with the TCG sensor and LA57: the sensor is tested on 4-level paging only',
    );
  }
  // With KASLR the probe addresses exist only after boot: boot plain, then move the running guest
  // into a QEMU with the probes (instrumentLabVmForTcgSensor). Without it they are link-time.
  const relaunch = options.tcgSensor === true && options.kaslr === true;
  const sensorArgs =
    options.tcgSensor === true && !relaunch ? await labSensorQemuArgs(options.log) : [];
  const started = Date.now();
  const booted = await startLabVm({
    ...(sensorArgs.length === 0 ? {} : { extraArgs: sensorArgs }),
    name,
    detach: true,
    ...(workload === undefined ? {} : { workload }),
    ...(options.memory === undefined ? {} : { memory: options.memory }),
    ...(options.kaslr === undefined ? {} : { kaslr: options.kaslr }),
    ...(options.la57 === undefined ? {} : { la57: options.la57 }),
    ...(options.gdb === undefined ? {} : { gdb: options.gdb }),
    ...(options.accel === undefined ? {} : { accel: options.accel }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  const vm = relaunch
    ? (
        await instrumentLabVmForTcgSensor(booted, {
          detach: true,
          ...(options.log === undefined ? {} : { log: options.log }),
        }).catch(async (error: unknown) => {
          await booted.stop();
          throw error;
        })
      ).vm
    : booted;
  const state = await readVmState(vm.name);
  if (state === undefined) {
    throw new VmsightError(
      'INTERNAL',
      `Lab VM "${name}" started but its state file is missing in "${join(vm.dir)}"`,
    );
  }
  return summarize(state, { bootMs: Date.now() - started });
}

/** `vmsight lab down [--name N | --all]`. */
export async function labDown(
  options: { readonly name?: string; readonly all?: boolean; readonly log?: Logger } = {},
): Promise<Array<{ readonly name: string } & StopResult>> {
  const states =
    options.all === true
      ? await listVmStates()
      : [await readVmState(options.name ?? DEFAULT_LAB_VM)];
  if (options.all !== true && states[0] === undefined) {
    throw new VmsightError(
      'NOT_FOUND',
      `Cannot stop lab VM "${options.name ?? DEFAULT_LAB_VM}": no such lab VM (see "vmsight lab status")`,
    );
  }
  const results: Array<{ readonly name: string } & StopResult> = [];
  for (const state of states) {
    if (state === undefined) continue;
    results.push({
      name: state.name,
      ...(await stopLabVmProcess(state, options.log === undefined ? {} : { log: options.log })),
    });
  }
  return results;
}

/** `vmsight lab status`: every lab VM with a state directory, and whether its QEMU still runs. */
export async function labStatus(): Promise<LabVmSummary[]> {
  return (await listVmStates()).map((state) => summarize(state));
}
