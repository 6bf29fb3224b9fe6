import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLabBuilt, startLabVm, type LabVm } from '../../../lab/index.js';
import {
  openElfCore,
  openRawLayer,
  type ElfCore,
  type PhysicalLayer,
} from '../../../layers/index.js';
import { openKernelProfile, type KernelProfile } from '../../../profiles/index.js';
import { PS_WORKLOAD, parseGuestListing, type GuestProcess } from '../_lab-ps-support.js';

/** A lab guest that ran PS_WORKLOAD, paused at one moment, read live and from a dump of it. */
export interface PausedPsGuest {
  readonly vm: LabVm;
  readonly dir: string;
  readonly vmlinux: string;
  /** The guest's own listing of that moment, from its serial console. */
  readonly guest: Map<number, GuestProcess>;
  readonly liveLayer: PhysicalLayer;
  readonly core: ElfCore;
  readonly live: KernelProfile;
  readonly fromDump: KernelProfile;
  /** Closes the layers, stops the VM and removes the dump. */
  close(): Promise<void>;
}

export interface PausedPsGuestOptions {
  readonly kaslr?: boolean;
  readonly la57?: boolean;
  /**
   * Let the live profile identify the kernel from memory alone among candidates (the banner
   * check), instead of being handed the lab's vmlinux.
   */
  readonly identifyKernel?: boolean;
  readonly readyTimeoutMs?: number;
  /** Shell run by the guest; must end with PS_WORKLOAD's listing. Default PS_WORKLOAD. */
  readonly workload?: string;
  /** Add `-device vmcoreinfo` (default true): false gives a dump without the VMCOREINFO note. */
  readonly vmcoreinfoDevice?: boolean;
}

/** Boots the guest, waits for its listing, pauses it, and opens both views of the same moment. */
export async function startPausedPsGuest(
  options: PausedPsGuestOptions = {},
): Promise<PausedPsGuest> {
  const dir = mkdtempSync(join(tmpdir(), 'vmsight-ps-'));
  const vmlinux = (await ensureLabBuilt()).vmlinux;
  const vm = await startLabVm({
    workload: options.workload ?? PS_WORKLOAD,
    ...(options.vmcoreinfoDevice === false ? { vmcoreinfoDevice: false } : {}),
    ...(options.kaslr === undefined ? {} : { kaslr: options.kaslr }),
    ...(options.la57 === undefined ? {} : { la57: options.la57 }),
  });
  let liveLayer: PhysicalLayer | undefined;
  let core: ElfCore | undefined;
  const close = async (): Promise<void> => {
    liveLayer?.close();
    core?.close();
    await vm.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await vm.waitForSerial(/^PS-END/m, options.readyTimeoutMs ?? 180_000);
    const qmp = await vm.qmp();
    await qmp.execute('stop'); // one paused moment for the live read and the dump
    const guest = parseGuestListing(readFileSync(vm.serialPath, 'utf8'));
    liveLayer = openRawLayer(vm.ramPath, { cache: false, ram: true });
    const live = await openKernelProfile(
      liveLayer,
      options.identifyKernel === true ? { candidateKernels: [vmlinux] } : { kernel: vmlinux },
    );
    const dump = join(dir, 'guest.elf');
    await qmp.execute('dump-guest-memory', { paging: false, protocol: `file:${dump}` });
    core = openElfCore(dump);
    const fromDump = await openKernelProfile(core.layer, {
      vmcoreinfo: core.vmcoreinfo,
      kernel: vmlinux,
    });
    return { vm, dir, vmlinux, guest, liveLayer, core, live, fromDump, close };
  } catch (error) {
    await close();
    throw error;
  }
}
