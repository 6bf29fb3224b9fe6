/** Test fixture: the TCG sensor on a lab VM, switched on, collecting every event it delivers. */
import type { QmpClient } from '../connectors/index.js';
import type { GuestEvent } from '../events/index.js';
import { RamTaskReader, type TaskLayout } from './guest-task-reader.js';
import type { TcgProbeAddresses } from './tcg-event-decoder.js';
import { TcgSensor } from './tcg-sensor.js';

export interface TcgCapture {
  readonly sensor: TcgSensor;
  /** Every delivered event, in order; complete once `done` resolved. */
  readonly events: GuestEvent[];
  /** Resolves when the stream ends (QEMU exited, or `sensor.stop()`). */
  readonly done: Promise<void>;
}

/** Starts a `TcgSensor` (I/O on, processes read from the RAM file) and collects its events. */
export async function startTcgCapture(
  vm: { readonly ramPath: string; qmp(): Promise<QmpClient> },
  addresses: TcgProbeAddresses & { readonly initTask: bigint },
  layout: TaskLayout,
): Promise<TcgCapture> {
  const sensor = new TcgSensor({
    vm: 'lab',
    monitor: await vm.qmp(),
    addresses,
    tasks: RamTaskReader.open(vm.ramPath, layout, { initTask: addresses.initTask }),
    io: true,
  });
  await sensor.start();
  const events: GuestEvent[] = [];
  const stream = sensor.events();
  const done = (async () => {
    for await (const event of stream) events.push(event);
  })();
  return { sensor, events, done };
}
