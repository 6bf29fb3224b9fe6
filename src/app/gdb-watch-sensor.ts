import { startGdbServer, stopGdbServer, type QmpClient } from '../connectors/index.js';
import { VmsightError, freeTcpPort, hex, isVmsightError, type Logger } from '../core/index.js';
import {
  GdbSensor,
  RamTaskReader,
  SyscallArgumentReader,
  taskLayoutFromSymbols,
  type OverflowPolicy,
} from '../sensors/index.js';
import { openIntrospection, type OpenedIntrospection } from './introspection-service.js';
import type { VmDescriptor } from './vm-registry.js';

export interface GdbWatchSensorRequest {
  readonly vm: VmDescriptor;
  /** The VM's QMP connection: opens a gdbstub when the VM has none vmsight knows of. */
  readonly qmp: QmpClient;
  /** A vmlinux with BTF for a VM that does not run the lab kernel (as for `vmsight ps`). */
  readonly vmlinux?: string;
  readonly policy?: OverflowPolicy;
  readonly log?: Logger;
}

export interface GdbWatchSensor {
  readonly sensor: GdbSensor;
  /** After the sensor stopped: closes guest memory and the gdbstub vmsight opened, if it did. */
  release(): Promise<void>;
}

/** The kernel symbols the GDB sensor stops at, and the head of the task list. */
const BREAKPOINT_SYMBOLS = {
  syscallEntry: 'entry_SYSCALL_64',
  contextSwitch: '__switch_to',
  initTask: 'init_task',
} as const;

/**
 * The GDB sensor of `vmsight watch --sensor gdb` on any VM whose memory and QMP socket vmsight
 * can reach: a lab VM or one registered with `vmsight vm add`, KASLR or not. This boot's
 * addresses of `entry_SYSCALL_64`, `__switch_to` and `init_task`, and the `task_struct` layout,
 * come from the kernel profile of the running guest's memory (the one `vmsight ps` uses: KASLR
 * slide from VMCOREINFO or the kallsyms scan, layouts from BTF), so nothing is assumed about how
 * it booted. A VM without a known gdbstub gets one for the capture through QMP (HMP
 * `gdbserver`), closed again by `release`.
 */
export async function openGdbWatchSensor(request: GdbWatchSensorRequest): Promise<GdbWatchSensor> {
  const { vm, qmp, log } = request;
  let opened: OpenedIntrospection;
  try {
    opened = await openIntrospection({ vm: vm.name, kernel: request.vmlinux, qmp });
  } catch (error) {
    // Same code, but saying what it was for: a refusal here is about this VM's kernel.
    if (!isVmsightError(error)) throw error;
    const reason = error.message.charAt(0).toLowerCase() + error.message.slice(1);
    throw new VmsightError(
      error.code,
      `Cannot watch VM "${vm.name}" with --sensor gdb: its kernel's addresses come from its memory, and ${reason}`,
      { cause: error },
    );
  }
  let openedGdbStub = false;
  const release = async (): Promise<void> => {
    await opened.close();
    if (openedGdbStub) await stopGdbServer(qmp);
  };
  try {
    const { symbols } = opened.profile;
    const address = (name: string): bigint => {
      const found = symbols.address(name);
      if (found === undefined) {
        throw new VmsightError(
          'NOT_FOUND',
          `Cannot watch VM "${vm.name}" with --sensor gdb: its kernel's symbol table (${opened.profile.source}) has no ${name}`,
        );
      }
      return found;
    };
    const syscallEntry = address(BREAKPOINT_SYMBOLS.syscallEntry);
    const contextSwitch = address(BREAKPOINT_SYMBOLS.contextSwitch);
    const initTask = address(BREAKPOINT_SYMBOLS.initTask);
    log?.debug(
      {
        vm: vm.name,
        slide: hex(opened.profile.slide),
        syscallEntry: hex(syscallEntry),
        contextSwitch: hex(contextSwitch),
      },
      'GDB sensor breakpoints from the running kernel',
    );
    let port = vm.gdbPort;
    if (port === undefined) {
      port = await freeTcpPort();
      await startGdbServer(qmp, port);
      openedGdbStub = true;
    }
    // The reader shares the profile's view of guest RAM; the sensor closes it when it stops.
    const tasks = new RamTaskReader(opened.profile.layer, taskLayoutFromSymbols(symbols), {
      initTask,
    });
    const sensor = new GdbSensor({
      vm: vm.name,
      gdb: { port, ...(log === undefined ? {} : { log }) },
      contextSwitch,
      syscallEntry,
      tasks,
      // Read while the VM is stopped at the syscall entry: exact, however short the process.
      arguments: new SyscallArgumentReader((cr3) => tasks.addressSpace(cr3)),
      ...(request.policy === undefined ? {} : { policy: request.policy }),
      ...(log === undefined ? {} : { log }),
    });
    return { sensor, release };
  } catch (error) {
    await release();
    throw error;
  }
}
