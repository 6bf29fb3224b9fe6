import type { GuestEvent } from '../events/index.js';

/** What a sensor does when its consumer falls behind (ARCHITECTURE.md "Capture on a real hypervisor"). */
export const OverflowPolicy = {
  /** Stop reading the source: QEMU blocks on the full FIFO and the guest runs at the consumer's pace. */
  BACKPRESSURE: 'backpressure',
  /** Keep the guest at speed and count the events that did not fit. */
  DROP: 'drop',
} as const;
export type OverflowPolicy = (typeof OverflowPolicy)[keyof typeof OverflowPolicy];

/** Event counters of a sensor. */
export interface SensorStats {
  /** Events decoded from the source. */
  readonly seen: number;
  /** Events handed to the consumer. */
  readonly delivered: number;
  /** Events lost because the queue was full under {@link OverflowPolicy.DROP}. */
  readonly dropped: number;
  /** Source records that could not be decoded. */
  readonly malformed: number;
  /** Syscalls the sensor could not tie to a guest process. */
  readonly unattributed: number;
}

/**
 * One live capture source. `events()` is single-consumer and ends after `stop()` once everything
 * already captured has been delivered.
 *
 * @example
 * ```ts
 * declare const sensor: import('./sensor.js').Sensor;
 * await sensor.start();
 * for await (const event of sensor.events()) if (event.type === 'syscall') console.log(event.name);
 * ```
 */
export interface Sensor {
  readonly kind: string;
  start(): Promise<void>;
  events(): AsyncIterable<GuestEvent>;
  stats(): SensorStats;
  /** Switches capture off in the hypervisor (restoring the guest's speed) and ends the stream. */
  stop(): Promise<void>;
}
