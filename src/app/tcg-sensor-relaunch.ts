import { join } from 'node:path';
import { VmsightError, hex, type Logger } from '../core/index.js';
import { openRawLayer } from '../layers/index.js';
import {
  ensureLabBuilt,
  relaunchLabVmWith,
  vmsightHome,
  type LabVm,
  type MigrationFigures,
} from '../lab/index.js';
import { openKernelProfile } from '../profiles/index.js';
import { tcgSensorQemuArgs } from '../sensors/index.js';
import { labSensorAddresses, type LabKernelAddresses } from './sensor-addresses.js';

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

const PROBED = ['entry_SYSCALL_64', '__switch_to', 'init_task'] as const;

/**
 * The TCG sensor for a running lab guest of any boot, KASLR included, without the probing boot of
 * lab-notes §9: `-dfilter` is fixed at QEMU start, so the guest is booted without it, its KASLR
 * slide is read from its RAM (the kernel profile: VMCOREINFO's KERNELOFFSET, or the kallsyms scan),
 * the link-time addresses from the lab's vmlinux (`labSensorAddresses`) are slid, and the running
 * guest is moved into a QEMU started with `tcgSensorQemuArgs` of those addresses by local live
 * migration (`relaunchLabVmWith`: the RAM file is shared, only device state moves, the guest stops
 * for milliseconds). The addresses are cross-checked against the kallsyms the profile decoded from
 * guest memory, and recorded in the VM's state file (`options.sensorAddresses`).
 */
export async function instrumentLabVmForTcgSensor(
  vm: LabVm,
  options: InstrumentOptions = {},
): Promise<InstrumentedLabVm> {
  const log = options.log;
  const [artifacts, linkTime] = await Promise.all([
    ensureLabBuilt(log === undefined ? {} : { log }),
    labSensorAddresses(log),
  ]);
  if (artifacts.kernelVersion !== vm.kernelVersion) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot instrument lab VM "${vm.name}": it runs kernel ${vm.kernelVersion}, the lab's vmlinux is ${artifacts.kernelVersion}`,
    );
  }
  const profileStarted = Date.now();
  const layer = openRawLayer(vm.ramPath, { cache: false, ram: true });
  let slide: bigint;
  let addresses: LabKernelAddresses;
  try {
    const profile = await openKernelProfile(layer, {
      candidateKernels: [artifacts.vmlinux],
      cacheDir: join(vmsightHome(), 'profiles'),
    });
    slide = profile.slide;
    addresses = {
      syscallEntry: linkTime.syscallEntry + slide,
      contextSwitch: linkTime.contextSwitch + slide,
      initTask: linkTime.initTask + slide,
    };
    const expected = [addresses.syscallEntry, addresses.contextSwitch, addresses.initTask];
    for (const [index, name] of PROBED.entries()) {
      const live = profile.symbols.address(name);
      if (live !== undefined && live !== expected[index]) {
        throw new VmsightError(
          'INTERNAL',
          `Cannot instrument lab VM "${vm.name}": ${name} is ${hex(live)} in guest memory but ${hex(expected[index] ?? 0n)} from the vmlinux and slide ${hex(slide)}`,
        );
      }
    }
  } finally {
    layer.close();
  }
  const profileMs = Date.now() - profileStarted;
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
