import type { QmpClient } from '../connectors/index.js';
import { VmsightError, type Logger } from '../core/index.js';
import { ensureLabBuilt, readVmState } from '../lab/index.js';
import {
  KvmSensor,
  MIN_PIPE_CAPACITY,
  RamTaskReader,
  SyscallArgumentReader,
  TcgSensor,
  probeAddressesOfProcess,
  taskLayoutFromVmlinux,
  type OverflowPolicy,
  type Sensor,
} from '../sensors/index.js';
import { openGdbWatchSensor } from './gdb-watch-sensor.js';
import type { ModelSet } from './model-directory.js';
import { labSensorAddresses, type LabKernelAddresses } from './sensor-addresses.js';
import type { VmDescriptor } from './vm-registry.js';

/** The sensors `vmsight watch --sensor` can drive (src/sensors/README.md: which sensor where). */
export const WATCH_SENSORS = ['tcg', 'kvm', 'gdb'] as const;
export type WatchSensorKind = (typeof WATCH_SENSORS)[number];

/** What the events of a watch sensor carry. */
export interface WatchSensorCapture {
  /** System calls, each with the guest process that made it. */
  readonly syscalls: boolean;
  /** Port I/O, MMIO (and, TCG only, virtio) events: what the I/O model and the escape guard use. */
  readonly io: boolean;
}

/** `--sensor NAME`, checked. */
export function parseWatchSensorKind(name: string): WatchSensorKind {
  const kind = WATCH_SENSORS.find((known) => known === name);
  if (kind === undefined) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Unknown sensor "${name}": use ${WATCH_SENSORS.join(', ')} (tcg for TCG VMs started with "vmsight lab up --tcg-sensor", kvm for KVM VMs, gdb for a short capture through a VM's gdbstub)`,
    );
  }
  return kind;
}

/**
 * What a sensor captures, given whether I/O was asked for: the TCG sensor gives system calls
 * and (optionally) I/O; the KVM sensor only I/O (host ftrace sees no guest process); the GDB
 * sensor only system calls (breakpoints on the syscall entry and `__switch_to`).
 */
export function watchSensorCapture(kind: WatchSensorKind, io = true): WatchSensorCapture {
  switch (kind) {
    case 'tcg':
      return { syscalls: true, io };
    case 'kvm':
      return { syscalls: false, io: true };
    case 'gdb':
      return { syscalls: true, io: false };
  }
}

export interface WatchPlan {
  readonly io: boolean;
  readonly guard: boolean;
  readonly models: ModelSet | undefined;
  /** The model path, for messages. */
  readonly model?: string;
}

/**
 * Refuses combinations a sensor cannot serve before anything is connected: I/O switched off for
 * the I/O-only KVM sensor, the escape guard without I/O events, a model with nothing to score.
 */
export function checkWatchPlan(kind: WatchSensorKind, plan: WatchPlan): void {
  if (kind === 'kvm' && !plan.io) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      'The KVM sensor captures only I/O (port I/O and MMIO): drop --no-io',
    );
  }
  const capture = watchSensorCapture(kind, plan.io);
  if (plan.guard && !capture.io) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      kind === 'gdb'
        ? 'The escape guard needs I/O events, which the GDB sensor does not capture: drop --guard, or use --sensor tcg or kvm'
        : 'The escape guard needs I/O capture: drop --no-io',
    );
  }
  const models = plan.models;
  const where = plan.model === undefined ? 'the model' : `model "${plan.model}"`;
  if (models?.syscalls !== undefined && !capture.syscalls) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot watch with ${where} and --sensor kvm: it scores system calls, which the KVM sensor does not see (it captures I/O only): learn an I/O model with "vmsight watch --sensor kvm --learn DURATION -o DIR", or use --sensor tcg`,
    );
  }
  if (models !== undefined && models.syscalls === undefined && !capture.io) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot watch with ${where} and --sensor ${kind}${kind === 'tcg' ? ' --no-io' : ''}: it is an I/O-only model set and this capture has no I/O events: use the model's sensor (--sensor kvm)`,
    );
  }
}

export interface WatchSensorRequest {
  readonly kind: WatchSensorKind;
  readonly vm: VmDescriptor;
  /** The VM's QMP connection (the KVM sensor maps vCPU threads through it; TCG switches logging). */
  readonly qmp: QmpClient;
  readonly io: boolean;
  /** Kernel image whose BTF gives the task_struct layout; lab VMs default to the lab's vmlinux. */
  readonly vmlinux?: string;
  /**
   * TCG: keep the kernel's 64 KiB pipe instead of one page, so a syscall-heavy guest slows less,
   * at the price of names and arguments read up to ~50 calls late (docs/decisions.md 11).
   */
  readonly fastCapture?: boolean;
  readonly policy?: OverflowPolicy;
  readonly log?: Logger;
}

export interface WatchSensor {
  readonly kind: WatchSensorKind;
  readonly sensor: Sensor;
  readonly capture: WatchSensorCapture;
  /** After the sensor stopped: frees what opening it took (the GDB sensor's gdbstub, memory). */
  release?(): Promise<void>;
}

/** Read-ahead of the TCG sensor when it reads guest memory (see `TcgSensorOptions.readAheadBytes`). */
const MEMORY_READ_AHEAD_BYTES = 4096;
/** Read-ahead with `fastCapture`: the pipe (64 KiB) is then most of the lag anyway. */
const FAST_READ_AHEAD_BYTES = 16 * 1024;

/**
 * Builds the sensor `vmsight watch --sensor KIND` drives on a resolved VM, after checking that
 * the VM can feed it: `-dfilter` probes for TCG, KVM acceleration for KVM, a kernel profile of
 * its memory for GDB (which opens a gdbstub through QMP when the VM has none vmsight knows of).
 * Each refusal names what is wrong and what to do.
 */
export async function openWatchSensor(request: WatchSensorRequest): Promise<WatchSensor> {
  const { kind, vm, io } = request;
  const common = {
    vm: vm.name,
    ...(request.policy === undefined ? {} : { policy: request.policy }),
    ...(request.log === undefined ? {} : { log: request.log }),
  };
  const capture = watchSensorCapture(kind, io);
  switch (kind) {
    case 'tcg': {
      const pid = requirePid(vm, 'tcg');
      const addresses = await probeAddressesOfProcess(pid);
      if (addresses === undefined) {
        throw new VmsightError(
          'INVALID_ARGUMENT',
          `Cannot watch VM "${vm.name}": QEMU was started without -dfilter probes: start it with "vmsight lab up --tcg-sensor"`,
        );
      }
      const tasks = await openTaskReader(vm, request.vmlinux);
      const sensor = new TcgSensor({
        ...common,
        monitor: request.qmp,
        addresses,
        io,
        ...(tasks === undefined
          ? {}
          : {
              tasks,
              arguments: new SyscallArgumentReader((cr3) => tasks.addressSpace(cr3)),
              // Attribution and arguments are read from guest memory when a dump is parsed: keep the
              // parser close behind the guest, or short-lived processes are gone by then. One page of
              // pipe plus one read ahead: QEMU waits once ~6 dumps are unparsed (docs/decisions.md 11).
              ...(request.fastCapture === true
                ? { readAheadBytes: FAST_READ_AHEAD_BYTES }
                : { readAheadBytes: MEMORY_READ_AHEAD_BYTES, pipeBytes: MIN_PIPE_CAPACITY }),
            }),
      });
      return { kind, sensor, capture };
    }
    case 'kvm': {
      const pid = requirePid(vm, 'kvm');
      // QMP query-kvm (qapi/machine.json): `enabled` is whether this VM's vCPUs run in KVM.
      const reply = (await request.qmp.execute('query-kvm')) as { enabled?: unknown } | undefined;
      if (reply?.enabled !== true) {
        throw new VmsightError(
          'INVALID_ARGUMENT',
          `Cannot watch VM "${vm.name}" with --sensor kvm: it does not run under KVM (QMP query-kvm: enabled false), so it has no KVM vCPU threads to trace: use --sensor tcg (start it with "vmsight lab up --tcg-sensor") or --sensor gdb`,
        );
      }
      return {
        kind,
        sensor: new KvmSensor({ ...common, qemuPid: pid, monitor: request.qmp }),
        capture,
      };
    }
    case 'gdb': {
      const opened = await openGdbWatchSensor({
        vm,
        qmp: request.qmp,
        ...(request.vmlinux === undefined ? {} : { vmlinux: request.vmlinux }),
        ...(request.policy === undefined ? {} : { policy: request.policy }),
        ...(request.log === undefined ? {} : { log: request.log }),
      });
      return { kind, sensor: opened.sensor, capture, release: () => opened.release() };
    }
  }
}

function requirePid(vm: VmDescriptor, kind: WatchSensorKind): number {
  if (vm.pid === undefined) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot watch VM "${vm.name}" with --sensor ${kind}: its QEMU pid is unknown: register it with "vmsight vm add --pid"`,
    );
  }
  return vm.pid;
}

/**
 * A task reader over the VM's RAM file with the kernel's `task_struct` layout: lab VMs use the
 * lab's vmlinux when the VM runs that kernel, other VMs need `--vmlinux`. Undefined (events carry
 * no process) when neither is known.
 */
async function openTaskReader(
  vm: VmDescriptor,
  vmlinux: string | undefined,
): Promise<RamTaskReader | undefined> {
  if (vm.ramPath === undefined) return undefined;
  let kernel = vmlinux;
  const state = vm.source === 'lab' ? await readVmState(vm.name) : undefined;
  if (kernel === undefined && vm.source === 'lab') {
    const artifacts = await ensureLabBuilt();
    if (state?.kernelVersion === artifacts.kernelVersion) kernel = artifacts.vmlinux;
  }
  if (kernel === undefined) return undefined;
  // init_task lets syscalls before the first context switch be attributed by CR3: the runtime
  // address recorded when a KASLR lab VM was relaunched for the sensor, else the lab kernel's
  // link-time one (no KASLR).
  const initTask =
    vm.source === 'lab'
      ? (recordedAddresses(state?.options)?.initTask ?? (await labSensorAddresses()).initTask)
      : undefined;
  return RamTaskReader.open(vm.ramPath, await taskLayoutFromVmlinux(kernel), {
    ...(initTask === undefined ? {} : { initTask }),
  });
}

/** `options.sensorAddresses` of a lab VM's state file (written by the KASLR relaunch). */
function recordedAddresses(
  options: Readonly<Record<string, unknown>> | undefined,
): LabKernelAddresses | undefined {
  const addresses = options?.['sensorAddresses'];
  if (typeof addresses !== 'object' || addresses === null) return undefined;
  const read = (name: string): bigint | undefined => {
    const value = (addresses as Record<string, unknown>)[name];
    return typeof value === 'string' && /^0x[0-9a-f]{1,16}$/i.test(value)
      ? BigInt(value)
      : undefined;
  };
  const syscallEntry = read('syscallEntry');
  const contextSwitch = read('contextSwitch');
  const initTask = read('initTask');
  return syscallEntry === undefined || contextSwitch === undefined || initTask === undefined
    ? undefined
    : { syscallEntry, contextSwitch, initTask };
}
