/**
 * Test fixture: a lab guest whose workload waits on a gate between phases — a second serial port
 * (/dev/ttyS1) backed by a unix socket on the host — so a test can switch capture on before each
 * phase starts. The workload's `gate` shell function (`GATE_FUNCTION`) blocks until `open()`.
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { startLabVm, type LabVm } from '../lab/index.js';
import { labSensorQemuArgs } from './sensor-addresses.js';

/** Defines `gate` in the workload: the shell's own `read`, so it starts no process of its own. */
export const GATE_FUNCTION = `stty -F /dev/ttyS1 raw -echo 2>/dev/null
gate() { read -r -n 3 g < /dev/ttyS1; }`;

export interface GatedLabVm {
  readonly vm: LabVm;
  /** Lets the workload's next `gate` return. */
  open(): void;
  stop(): Promise<void>;
}

/**
 * Boots the lab guest with the TCG sensor's probes and the gate port, waits for `ready` on the
 * console and connects to the gate. `directory` holds the gate's socket.
 */
export async function startGatedLabVm(options: {
  readonly name: string;
  readonly workload: string;
  readonly ready: RegExp;
  readonly directory: string;
}): Promise<GatedLabVm> {
  const controlPath = join(options.directory, 'gate.sock');
  const vm = await startLabVm({
    name: options.name,
    workload: options.workload,
    extraArgs: [
      ...(await labSensorQemuArgs()),
      '-chardev',
      `socket,id=gate,path=${controlPath},server=on,wait=off`,
      '-device',
      'isa-serial,chardev=gate',
    ],
  });
  let control: Socket | undefined;
  try {
    await vm.waitForSerial(options.ready, 60_000);
    const socket = connect(controlPath);
    control = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve).once('error', reject);
    });
  } catch (error) {
    control?.destroy();
    await vm.stop();
    throw error;
  }
  const gate = control;
  return {
    vm,
    open: () => void gate.write('go\n'),
    stop: async () => {
      gate.destroy();
      await vm.stop();
    },
  };
}
