import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmsightError, freeTcpPort, type Logger } from '../core/index.js';
import { GUEST_READY_MARKER } from './guest-init-script.js';
import { ensureLabBuilt } from './lab-builder.js';
import { parseMemorySize } from './memory-size.js';
import { guardProcess } from './process-guard.js';
import { buildQemuArgs } from './qemu-command.js';
import { spawnQemu } from './qemu-process.js';
import { RunningLabVm, type LabVm } from './running-lab-vm.js';

export type { LabVm } from './running-lab-vm.js';
import { stopLabVmProcess } from './vm-stopper.js';
import {
  isValidVmName,
  isVmProcessAlive,
  readVmState,
  vmDir,
  writeVmState,
  type LabVmState,
} from './vm-state.js';

export interface LabVmOptions {
  /** State directory name under `<lab>/vms/`. Default: unique per call (`t<pid>-<n>`). */
  readonly name?: string;
  /** Shell script text the guest's /init runs after GUEST-READY (handed over with -fw_cfg). */
  readonly workload?: string;
  /** Guest RAM, QEMU `-m` syntax. Default "256M". */
  readonly memory?: string;
  /** Boot the bzImage without `nokaslr` (PVH boots have no KASLR). */
  readonly kaslr?: boolean;
  /** 5-level paging: bzImage boot with `-cpu max`. */
  readonly la57?: boolean;
  /** Open a gdbstub on a free 127.0.0.1 port (`gdbPort`). */
  readonly gdb?: boolean;
  /** Default "tcg": this host's KVM cannot boot a stock kernel (lab-notes §1). */
  readonly accel?: 'tcg' | 'kvm';
  readonly extraArgs?: readonly string[];
  /** Add `-device vmcoreinfo` (default true). */
  readonly vmcoreinfoDevice?: boolean;
  /** Deadline for GUEST-READY on the serial console. Default 90 s. */
  readonly bootTimeoutMs?: number;
  /**
   * Let QEMU outlive this Node process (`vmsight lab up`). Default false: the VM is killed when
   * this process exits, which is what tests want.
   */
  readonly detach?: boolean;
  readonly log?: Logger;
}

const DEFAULT_BOOT_TIMEOUT_MS = 90_000;
/** sockaddr_un.sun_path holds 108 bytes including the NUL (unix(7)). */
const MAX_SOCKET_PATH = 107;
let counter = 0;

/**
 * Boots the lab guest under QEMU and resolves once its console printed GUEST-READY. Builds the
 * lab first if needed (`ensureLabBuilt`).
 *
 * @example
 * ```ts
 * import { startLabVm } from './lab-vm.js';
 * const vm = await startLabVm({ workload: 'echo hi' });
 * try {
 *   await vm.waitForSerial(/GUEST-DONE rc=\d+/);
 * } finally {
 *   await vm.stop();
 * }
 * ```
 */
export async function startLabVm(options: LabVmOptions = {}): Promise<LabVm> {
  const log = options.log;
  const artifacts = await ensureLabBuilt(log === undefined ? {} : { log });
  counter += 1;
  const name = options.name ?? `t${process.pid}-${counter}`;
  if (!isValidVmName(name)) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot use lab VM name "${name}": use up to 32 letters, digits, "-", "_" or "."`,
    );
  }
  const memoryBytes = parseMemorySize(options.memory ?? '256M');
  const dir = vmDir(name);
  const previous = await readVmState(name);
  if (previous !== undefined) {
    if (isVmProcessAlive(previous)) {
      throw new VmsightError(
        'INVALID_ARGUMENT',
        `Cannot start lab VM "${name}": it is already running (pid ${previous.pid}): stop it with "vmsight lab down --name ${name}"`,
      );
    }
    await stopLabVmProcess(previous);
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const qmpSocket = join(dir, 'qmp.sock');
  const controlSocket = join(dir, 'control.sock');
  if (Buffer.byteLength(controlSocket) > MAX_SOCKET_PATH) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot create QMP socket "${controlSocket}": the path is longer than ${MAX_SOCKET_PATH} bytes: set VMSIGHT_HOME to a shorter directory`,
    );
  }
  const serialPath = join(dir, 'serial.log');
  const ramPath = `/dev/shm/vmsight-${name}-${randomBytes(4).toString('hex')}`;
  let workloadPath: string | undefined;
  if (options.workload !== undefined) {
    workloadPath = join(dir, 'workload.sh');
    await writeFile(workloadPath, options.workload);
  }
  const gdbPort = options.gdb === true ? await freeTcpPort() : undefined;
  const args = buildQemuArgs({
    artifacts,
    name,
    memoryBytes,
    ramPath,
    qmpSocket,
    controlSocket,
    serialPath,
    kaslr: options.kaslr === true,
    la57: options.la57 === true,
    accel: options.accel ?? 'tcg',
    ...(workloadPath === undefined ? {} : { workloadPath }),
    ...(gdbPort === undefined ? {} : { gdbPort }),
    ...(options.extraArgs === undefined ? {} : { extraArgs: options.extraArgs }),
    ...(options.vmcoreinfoDevice === false ? { vmcoreinfoDevice: false } : {}),
  });
  const qemu = await spawnQemu(args, {
    logPath: join(dir, 'qemu.log'),
    ...(options.detach === true ? { detach: true } : {}),
  });
  const pid = qemu.pid;
  if (options.detach !== true) guardProcess(pid, [ramPath, dir]);
  const state: LabVmState = {
    name,
    pid,
    dir,
    qmpSocket,
    controlSocket,
    ramPath,
    memoryBytes,
    serialPath,
    ...(gdbPort === undefined ? {} : { gdbPort }),
    kernelVersion: artifacts.kernelVersion,
    startedAt: new Date().toISOString(),
    options: {
      memory: options.memory ?? '256M',
      kaslr: options.kaslr === true,
      la57: options.la57 === true,
      gdb: options.gdb === true,
      accel: options.accel ?? 'tcg',
      workload: workloadPath !== undefined,
    },
    args,
  };
  await writeVmState(state);
  const vm = new RunningLabVm(state, log);
  qemu.onExit(({ code, signal }) => vm.markExited(code, signal));
  try {
    await vm.waitForSerial(
      new RegExp(`^${GUEST_READY_MARKER}\\b`),
      options.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS,
    );
  } catch (error) {
    await vm.stop();
    throw error;
  }
  return vm;
}
