// The KVM sensor's delivered event rate on a boot-sector guest under real KVM (lab-notes §8): the
// guest repeats IO_SEQUENCE REPEAT times as fast as it can; the host reads trace_pipe under the
// default backpressure policy. Prints figures; never asserts on time.
// Run: npm run bench -- kvm-sensor
import { IO_SEQUENCE, kvmSkipReason, startKvmIoGuest, END_PORT } from './_kvm-io-guest-fixture.js';
import { KvmSensor } from './kvm-sensor.js';

const REPEAT = 20_000;
const skip = kvmSkipReason();
if (skip !== undefined) {
  console.log(`kvm-sensor bench skipped: ${skip}`);
} else {
  const guest = await startKvmIoGuest(IO_SEQUENCE, REPEAT);
  try {
    const sensor = new KvmSensor({ vm: 'bench', qemuPid: guest.pid, monitor: guest.qmp });
    await sensor.start();
    await guest.qmp.execute('cont');
    let first: { host: bigint; guest: bigint } | undefined;
    let last: { host: bigint; guest: bigint } | undefined;
    let ours = 0;
    const nodeCpuAtStart = process.cpuUsage();
    const timer = setTimeout(() => void sensor.stop(), 300_000);
    for await (const event of sensor.events()) {
      if (event.type === 'port-io' && event.port === 0x250 && first === undefined) {
        first = { host: process.hrtime.bigint(), guest: event.time ?? 0n };
      }
      if (first !== undefined) ours += 1;
      if (event.type === 'port-io' && event.port === END_PORT && first !== undefined) {
        last = { host: process.hrtime.bigint(), guest: event.time ?? 0n };
        break;
      }
    }
    clearTimeout(timer);
    const nodeCpu = process.cpuUsage(nodeCpuAtStart);
    await sensor.stop();
    const stats = sensor.stats();
    if (first === undefined || last === undefined) {
      console.log(`the guest did not finish; stats ${JSON.stringify(stats)}`);
    } else {
      const hostSeconds = Number(last.host - first.host) / 1e9;
      const guestSeconds = Number(last.guest - first.guest) / 1e9;
      console.log(
        `guest accesses: ${ours} in ${guestSeconds.toFixed(3)} s of guest run time (trace clock): ${(ours / guestSeconds).toFixed(0)} accesses/s`,
      );
      console.log(
        `events delivered: ${(ours / hostSeconds).toFixed(0)} events/s (host clock, first to last delivery ${hostSeconds.toFixed(3)} s)`,
      );
      console.log(
        `vmsight CPU: ${((nodeCpu.user + nodeCpu.system) / 1e6).toFixed(2)} s; losses: ${stats.dropped} (ring ${stats.ringLost}); exits ${JSON.stringify(stats.exits)}`,
      );
    }
  } finally {
    await guest.stop();
  }
}
