import { hex, type Logger } from '../core/index.js';
import { relaunchLabVmWith, type LabVm, type MigrationFigures } from '../lab/index.js';
import { tcgSensorQemuArgs } from '../sensors/index.js';
import { runningLabKernelAddresses } from './running-kernel-addresses.js';
import type { LabKernelAddresses } from './sensor-addresses.js';

export interface InstrumentOptions {
  /** Let the new QEMU outlive this process (`vmsight lab up`). Default false. */
  readonly detach?: boolean;
  /** Deadline of the move itself (see `relaunchLabVmWith`). */
  readonly timeoutMs?: number;
  readonly log?: Logger;
}

export interface InstrumentedLabVm {
  /** The same guest, now in a QEMU started with the TCG sensor's `-dfilter` probes. */
  readonly vm: LabVm;
  /** This boot's runtime addresses (link-time + slide). */
  readonly addresses: LabKernelAddresses;
  /** The KASLR slide found in guest RAM (0 for a guest booted without KASLR). */
  readonly slide: bigint;
  /** Time to find the slide from guest RAM, ms. */
  readonly profileMs: number;
  readonly migration: MigrationFigures;
}

/**
 * The TCG sensor for a running lab guest of any boot, KASLR included, without the probing boot of
 * lab-notes §9: `-dfilter` is fixed at QEMU start, so the guest is booted without it, this boot's
 * addresses are found from its RAM (`runningLabKernelAddresses`: link-time + KASLR slide), and the
 * running guest is moved into a QEMU started with `tcgSensorQemuArgs` of those addresses by local
 * live migration (`relaunchLabVmWith`: the RAM file is shared, only device state moves, the guest
 * stops for milliseconds). The addresses are recorded in the VM's state file
 * (`options.sensorAddresses`).
 */
export async function instrumentLabVmForTcgSensor(
  vm: LabVm,
  options: InstrumentOptions = {},
): Promise<InstrumentedLabVm> {
  const log = options.log;
  const { addresses, slide, profileMs } = await runningLabKernelAddresses(vm, log);
  const { vm: moved, migration } = await relaunchLabVmWith(vm, tcgSensorQemuArgs(addresses), {
    stateOptions: {
      sensorAddresses: {
        syscallEntry: hex(addresses.syscallEntry),
        contextSwitch: hex(addresses.contextSwitch),
        initTask: hex(addresses.initTask),
        slide: hex(slide),
      },
    },
    ...(options.detach === undefined ? {} : { detach: options.detach }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(log === undefined ? {} : { log }),
  });
  log?.debug({ vm: vm.name, slide: hex(slide), profileMs }, 'lab VM instrumented for TCG sensor');
  return { vm: moved, addresses, slide, profileMs, migration };
}
