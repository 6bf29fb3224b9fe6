import { join } from 'node:path';
import { VmsightError, hex, type Logger } from '../core/index.js';
import { openRawLayer } from '../layers/index.js';
import { ensureLabBuilt, vmsightHome } from '../lab/index.js';
import { openKernelProfile } from '../profiles/index.js';
import { labSensorAddresses, type LabKernelAddresses } from './sensor-addresses.js';

/** A running lab guest, as far as finding its kernel's addresses goes. */
export interface RunningLabGuest {
  readonly name: string;
  /** The guest's RAM file (`memory-backend-file`), read while the guest runs. */
  readonly ramPath: string;
  /** The kernel it booted, from its state file. */
  readonly kernelVersion: string;
}

export interface RunningKernelAddresses {
  /** This boot's runtime addresses (link-time + slide). */
  readonly addresses: LabKernelAddresses;
  /** The KASLR slide found in guest RAM (0 for a guest booted without KASLR). */
  readonly slide: bigint;
  /** Time to find the slide from guest RAM, ms. */
  readonly profileMs: number;
}

const SYMBOLS = ['entry_SYSCALL_64', '__switch_to', 'init_task'] as const;

/**
 * The sensors' kernel addresses for this boot of a running lab guest, KASLR included: the slide
 * is read from its RAM by the kernel profile (VMCOREINFO's KERNELOFFSET, else the kallsyms scan),
 * and added to the link-time addresses of the lab's vmlinux (`labSensorAddresses`). Each result
 * is checked against the kallsyms the profile decoded from guest memory when it has the symbol: a
 * breakpoint or probe on a wrong address would watch nothing, silently.
 */
export async function runningLabKernelAddresses(
  guest: RunningLabGuest,
  log?: Logger,
): Promise<RunningKernelAddresses> {
  const [artifacts, linkTime] = await Promise.all([
    ensureLabBuilt(log === undefined ? {} : { log }),
    labSensorAddresses(log),
  ]);
  if (artifacts.kernelVersion !== guest.kernelVersion) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Lab VM "${guest.name}" runs kernel ${guest.kernelVersion}, but the lab's vmlinux is ${artifacts.kernelVersion}: its addresses are not known`,
    );
  }
  const started = Date.now();
  const layer = openRawLayer(guest.ramPath, { cache: false, ram: true });
  try {
    const profile = await openKernelProfile(layer, {
      candidateKernels: [artifacts.vmlinux],
      cacheDir: join(vmsightHome(), 'profiles'),
    });
    const slide = profile.slide;
    const addresses: LabKernelAddresses = {
      syscallEntry: linkTime.syscallEntry + slide,
      contextSwitch: linkTime.contextSwitch + slide,
      initTask: linkTime.initTask + slide,
    };
    const expected = [addresses.syscallEntry, addresses.contextSwitch, addresses.initTask];
    for (const [index, name] of SYMBOLS.entries()) {
      const live = profile.symbols.address(name);
      if (live !== undefined && live !== expected[index]) {
        throw new VmsightError(
          'INTERNAL',
          `Lab VM "${guest.name}": ${name} is ${hex(live)} in guest memory but ${hex(expected[index] ?? 0n)} from the vmlinux and slide ${hex(slide)}`,
        );
      }
    }
    return { addresses, slide, profileMs: Date.now() - started };
  } finally {
    layer.close();
  }
}
