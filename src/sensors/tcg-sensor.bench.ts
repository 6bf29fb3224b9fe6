// Guest slowdown under the TCG sensor and the sensor's delivered event rate, on the host clock
// (guest time excludes nothing here, but lab-notes pitfalls: measure on the host anyway). A static
// program in the guest makes getppid() in rounds of ROUND_CALLS and prints "ROUND k" after each;
// the host times rounds with the sensor off, on (backpressure: every call delivered), and off again.
// Prints figures; never asserts on time. Run: npm run bench -- tcg-sensor
import { readFile } from 'node:fs/promises';
import { ensureLabBuilt, startLabVm } from '../lab/index.js';
import { prepareSensorLab } from './_sensor-lab-guest.js';
import { RamTaskReader } from './guest-task-reader.js';
import { MIN_PIPE_CAPACITY } from './pipe-capacity.js';
import { SyscallArgumentReader } from './syscall-argument-reader.js';
import { TcgSensor, tcgSensorQemuArgs, type TcgSensorOptions } from './tcg-sensor.js';

const ROUND_CALLS = 100_000;
// "getppid": the cheapest call there is (worst case for the ratio); "rw": 1-byte read of
// /dev/zero and write to /dev/null, like lab-notes' `dd bs=1` reference loop.
const LOOP_SOURCE = `
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int rw = argc > 1 && strcmp(argv[1], "rw") == 0;
  int zero = open("/dev/zero", O_RDONLY), null = open("/dev/null", O_WRONLY);
  char byte;
  setvbuf(stdout, NULL, _IONBF, 0);
  for (long round = 1;; round++) {
    if (rw) {
      for (int i = 0; i < ${ROUND_CALLS} / 2; i++) { read(zero, &byte, 1); write(null, &byte, 1); }
    } else {
      for (int i = 0; i < ${ROUND_CALLS}; i++) syscall(SYS_getppid);
    }
    printf("ROUND %ld\\n", round);
  }
}
`;

const lab = await prepareSensorLab({ ensureLabBuilt, startLabVm }, 'sysloop', LOOP_SOURCE);
const { probes: addresses, initTask, layout } = lab;
try {
  for (const kind of ['getppid', 'rw']) {
    const vm = await lab.boot({
      marker: 'SYSLOOP-START',
      run: `exec /tmp/sysloop ${kind}`,
      extraArgs: tcgSensorQemuArgs(addresses),
    });

    async function latestRound(): Promise<number> {
      const text = await readFile(vm.serialPath, 'utf8');
      const rounds = [...text.matchAll(/^ROUND (\d+)$/gm)];
      return Number(rounds.at(-1)?.[1] ?? 0);
    }

    /** QEMU's user+system CPU seconds so far (/proc/PID/stat fields 14 and 15, in clock ticks of 1/100 s). */
    async function qemuCpuSeconds(): Promise<number> {
      const stat = await readFile(`/proc/${vm.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    }

    /**
     * Host seconds for `rounds` rounds, between the first two round boundaries seen by polling the
     * serial log every 5 ms (so each end is late by at most one poll plus the read).
     */
    async function timeRounds(rounds: number, onStart?: () => void): Promise<number> {
      const wait = async (target: number): Promise<bigint> => {
        for (;;) {
          if ((await latestRound()) >= target) return process.hrtime.bigint();
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      };
      const first = (await latestRound()) + 1;
      const started = await wait(first);
      onStart?.();
      const ended = await wait(first + rounds);
      return Number(ended - started) / 1e9;
    }

    try {
      const offSeconds = await timeRounds(10);
      const offRate = (10 * ROUND_CALLS) / offSeconds;

      /** Times 3 rounds with a sensor of these options on; prints its figures. */
      async function measureOn(
        label: string,
        options: Pick<TcgSensorOptions, 'readAheadBytes' | 'pipeBytes'>,
        withArguments: boolean,
      ): Promise<void> {
        const tasks = RamTaskReader.open(vm.ramPath, layout, { initTask });
        const sensor = new TcgSensor({
          vm: 'lab',
          monitor: await vm.qmp(),
          addresses,
          tasks,
          ...options,
          ...(withArguments
            ? { arguments: new SyscallArgumentReader((cr3) => tasks.addressSpace(cr3)) }
            : {}),
        });
        await sensor.start();
        let syscalls = 0;
        const consumer = (async () => {
          for await (const event of sensor.events()) if (event.type === 'syscall') syscalls += 1;
        })();
        let deliveredAtStart = 0;
        let nodeCpuAtStart = process.cpuUsage();
        let qemuCpuAtStart = 0;
        void qemuCpuSeconds().then((seconds) => {
          qemuCpuAtStart = seconds;
        });
        const onSeconds = await timeRounds(3, () => {
          deliveredAtStart = sensor.stats().delivered;
          nodeCpuAtStart = process.cpuUsage();
          void qemuCpuSeconds().then((seconds) => {
            qemuCpuAtStart = seconds;
          });
        });
        const delivered = sensor.stats().delivered - deliveredAtStart;
        const nodeCpu = process.cpuUsage(nodeCpuAtStart);
        const nodeShare = (nodeCpu.user + nodeCpu.system) / 1e6 / onSeconds;
        const qemuShare = ((await qemuCpuSeconds()) - qemuCpuAtStart) / onSeconds;
        const onRate = (3 * ROUND_CALLS) / onSeconds;
        await sensor.stop();
        await consumer;
        const stats = sensor.stats();
        console.log(
          `[${kind}] ${label}: guest ${onRate.toFixed(0)} syscalls/s (${onSeconds.toFixed(2)} s for 3 rounds), slowdown ${(offRate / onRate).toFixed(1)}x`,
        );
        console.log(
          `[${kind}] ${label}: events delivered while timed: ${(delivered / onSeconds).toFixed(0)} events/s (${delivered} events)`,
        );
        console.log(
          `[${kind}] ${label}: CPU vmsight ${(nodeShare * 100).toFixed(0)} % of a core, QEMU ${(qemuShare * 100).toFixed(0)} % (all threads)`,
        );
        console.log(
          `[${kind}] ${label}: totals ${JSON.stringify(stats)}, syscall events consumed ${syscalls}`,
        );
      }

      console.log(
        `[${kind}] guest syscall rate, sensor off: ${offRate.toFixed(0)} syscalls/s (${offSeconds.toFixed(2)} s for 10 rounds)`,
      );
      // The library default (4 MiB read-ahead, 64 KiB pipe), then what `vmsight watch` runs:
      // arguments read from guest memory, one page of pipe and one of read-ahead, so reads stay
      // within a few calls of the guest (docs/decisions.md 11).
      await measureOn('sensor on (default)', {}, false);
      await measureOn(
        'sensor on (watch: arguments, 4 KiB pipe)',
        {
          readAheadBytes: MIN_PIPE_CAPACITY,
          pipeBytes: MIN_PIPE_CAPACITY,
        },
        true,
      );

      const afterSeconds = await timeRounds(10);
      const afterRate = (10 * ROUND_CALLS) / afterSeconds;

      // QEMU's own ceiling: the same log with nobody reading it (/dev/null), so what is left of
      // the slowdown is QEMU formatting and flushing one register dump per syscall, not vmsight.
      const monitor = await vm.qmp();
      await monitor.hmp('logfile /dev/null');
      await monitor.hmp('log cpu,exec');
      const ceilingSeconds = await timeRounds(3);
      await monitor.hmp('log none');
      const ceilingRate = (3 * ROUND_CALLS) / ceilingSeconds;

      console.log(`[${kind}] guest syscall rate, off again: ${afterRate.toFixed(0)} syscalls/s`);
      console.log(
        `[${kind}] QEMU logging to /dev/null, no reader: ${ceilingRate.toFixed(0)} syscalls/s (${(offRate / ceilingRate).toFixed(1)}x, the floor for any reader of this log)`,
      );
    } finally {
      await vm.stop();
    }
  }
} finally {
  await lab.close();
}
