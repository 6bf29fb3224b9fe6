import { VmsightError } from '../core/index.js';
import type { QmpClient } from './qmp-client.js';

/**
 * Opens QEMU's gdbstub on a running VM at `127.0.0.1:port`, through HMP `gdbserver DEVICE`
 * (QEMU's monitor manual; sent with QMP `human-monitor-command`): a VM started without `-gdb`
 * gets one without a restart, so the GDB sensor needs nothing but the QMP socket. HMP reports
 * success only in text: "Waiting for gdb connection on device '…'" (QEMU 7.2, measured), and
 * "Could not open gdbserver on device '…'" after the reason when the port is taken or the VM
 * already has a gdbstub ("duplicate yank instance").
 *
 * @example
 * ```ts
 * declare const qmp: QmpClient;
 * await startGdbServer(qmp, 45671); // then GdbClient.connect({ port: 45671 })
 * await stopGdbServer(qmp);
 * ```
 */
export async function startGdbServer(qmp: QmpClient, port: number): Promise<void> {
  const device = `tcp:127.0.0.1:${port}`;
  const reply = await qmp.hmp(`gdbserver ${device}`);
  if (!reply.includes(`Waiting for gdb connection on device '${device}'`)) {
    throw new VmsightError(
      'CONNECTOR_ERROR',
      `Cannot open a gdbstub on ${device} through QMP "${qmp.path}" (HMP gdbserver said: ${reply.trim().replace(/\s+/g, ' ')}); a VM started with -gdb already has one: give vmsight its port`,
      { details: { socket: qmp.path, device, reply } },
    );
  }
}

/** Closes the gdbstub opened by {@link startGdbServer} (HMP `gdbserver none`). */
export async function stopGdbServer(qmp: QmpClient): Promise<void> {
  const reply = await qmp.hmp('gdbserver none');
  if (!reply.includes('Disabled gdbserver')) {
    throw new VmsightError(
      'CONNECTOR_ERROR',
      `Cannot close the gdbstub through QMP "${qmp.path}" (HMP gdbserver none said: ${reply.trim()})`,
      { details: { socket: qmp.path, reply } },
    );
  }
}
