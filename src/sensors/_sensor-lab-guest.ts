/**
 * Test and benchmark fixture: the lab guest running one static program under a sensor. Every
 * sensor test and bench on the lab starts the same way: the kernel's probe addresses from a
 * probing boot, the task layout from the lab vmlinux, the program built on the host, then a guest
 * that installs it from fw_cfg, says so on the serial console and runs it. The lab's functions
 * are passed in (tests may import `lab`, this helper may not).
 */
import {
  compileStatic,
  fwCfgArgs,
  fwCfgInstall,
  labTaskLayout,
  probeLabAddresses,
  type FixtureVm,
  type StaticProgram,
} from './_sensor-lab-fixture.js';
import type { TaskLayout } from './guest-task-reader.js';
import type { TcgProbeAddresses } from './tcg-event-decoder.js';

/** The `startLabVm` options a sensor guest sets. */
export interface SensorGuestVmOptions {
  readonly workload: string;
  /** Open a gdbstub. */
  readonly gdb?: boolean;
  readonly extraArgs?: readonly string[];
}

/** `ensureLabBuilt` and `startLabVm` of `lab`, as the caller imports them. */
export interface SensorLabHost<Vm extends FixtureVm> {
  ensureLabBuilt(): Promise<{ readonly vmlinux: string }>;
  startLabVm(options: SensorGuestVmOptions): Promise<Vm>;
}

export interface SensorGuestBootOptions {
  /** Printed by the guest once the program is installed; `boot` resolves when it is seen. */
  readonly marker: string;
  /** Shell text the guest runs after the marker, for example `exec /tmp/NAME`. */
  readonly run: string;
  readonly gdb?: boolean;
  /** QEMU options before the fw_cfg ones that hand over the program. */
  readonly extraArgs?: readonly string[];
}

export interface SensorLab<Vm extends FixtureVm> {
  readonly probes: TcgProbeAddresses;
  readonly initTask: bigint;
  readonly layout: TaskLayout;
  readonly program: StaticProgram;
  /** Boots a guest that installs the program as /tmp/NAME; stops it again if the marker never comes. */
  boot(options: SensorGuestBootOptions): Promise<Vm>;
  /** Stops every guest `boot` started (stopping twice is harmless) and removes the program. */
  close(): Promise<void>;
}

const INSTALL_TIMEOUT_MS = 60_000;

/** Probes the lab kernel, reads its task layout and builds `source` as the program `name`. */
export async function prepareSensorLab<Vm extends FixtureVm>(
  host: SensorLabHost<Vm>,
  name: string,
  source: string,
): Promise<SensorLab<Vm>> {
  const artifacts = await host.ensureLabBuilt();
  const { probes, initTask } = await probeLabAddresses((options) => host.startLabVm(options));
  const layout = await labTaskLayout(artifacts.vmlinux);
  const program = await compileStatic(name, source);
  const booted: Vm[] = [];
  return {
    probes,
    initTask,
    layout,
    program,
    async boot({ marker, run, extraArgs = [], ...options }) {
      const vm = await host.startLabVm({
        ...options,
        workload: `${fwCfgInstall(name)}\necho ${marker}\n${run}`,
        extraArgs: [...extraArgs, ...fwCfgArgs(name, program.path)],
      });
      booted.push(vm);
      try {
        await vm.waitForSerial(new RegExp(`^${escapeRegExp(marker)}`), INSTALL_TIMEOUT_MS);
      } catch (error) {
        await vm.stop();
        throw error;
      }
      return vm;
    },
    async close() {
      try {
        for (const vm of booted) await vm.stop();
      } finally {
        await program.remove();
      }
    },
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
