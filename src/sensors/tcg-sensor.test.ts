import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import type { GuestEvent } from '../events/index.js';
import { OTHER_LINES, SWITCH_TO_DUMP, SYSCALL_DUMP } from './_tcg-log-fixture.js';
import { TcgSensor, tcgSensorQemuArgs, type SensorMonitor } from './tcg-sensor.js';

const ADDRESSES = { syscallEntry: 0xffffffff81c00080n, contextSwitch: 0xffffffff81031080n };

/**
 * Stands in for QEMU's monitor: HMP `logfile PATH` opens the FIFO for writing like QEMU's fopen()
 * and writes `log` into it; `logfile /dev/null` closes it, which ends the sensor's stream.
 */
class FakeQemu implements SensorMonitor {
  readonly commands: string[] = [];
  fifoPath: string | undefined;
  #handle: FileHandle | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(readonly log: string) {}

  async hmp(commandLine: string): Promise<string> {
    this.commands.push(commandLine);
    const [verb, argument] = commandLine.split(' ');
    if (verb === 'logfile' && argument !== '/dev/null' && argument !== undefined) {
      this.fifoPath = argument;
      const handle = await open(argument, constants.O_WRONLY);
      this.#handle = handle;
      this.#writing = handle.writeFile(this.log).then(() => undefined);
    } else if (verb === 'logfile') {
      await this.#writing;
      await this.#handle?.close();
    }
    return '';
  }

  execute(command: string, args?: object): Promise<unknown> {
    this.commands.push(`${command} ${JSON.stringify(args)}`);
    return Promise.resolve({});
  }
}

async function collect(stream: AsyncIterable<GuestEvent>): Promise<GuestEvent[]> {
  const events: GuestEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe('TcgSensor', () => {
  it('switches the log to its FIFO, decodes it in order and restores everything on stop', async () => {
    const log = `${SWITCH_TO_DUMP}${OTHER_LINES}${SYSCALL_DUMP}`.repeat(50);
    const qemu = new FakeQemu(log);
    const sensor = new TcgSensor({ vm: 'lab', monitor: qemu, addresses: ADDRESSES, io: true });
    await sensor.start();
    const events = collect(sensor.events());
    await sensor.stop();
    const got = await events;
    assert.equal(got.filter((event) => event.type === 'syscall').length, 50);
    assert.equal(got.filter((event) => event.type === 'mmio').length, 100);
    assert.equal(got[0]?.type, 'mmio');
    assert.deepEqual(sensor.stats(), {
      seen: 150,
      delivered: 150,
      dropped: 0,
      malformed: 0,
      unattributed: 50,
    });
    assert.match(qemu.commands[0] ?? '', /^logfile \/.*qemu-log\.fifo$/);
    assert.ok(qemu.commands.includes('log cpu,exec'));
    assert.ok(
      qemu.commands.some((command) => command.includes('"virtio_queue_notify","enable":true')),
    );
    assert.ok(qemu.commands.some((command) => command.includes('"virtqueue_pop","enable":false')));
    assert.deepEqual(qemu.commands.slice(-1), ['logfile /dev/null']);
    assert.ok(qemu.commands.includes('log none'));
    // The FIFO and its private directory are gone.
    await assert.rejects(stat(dirname(qemu.fifoPath ?? '/nonexistent')));
  });

  it('counts drops instead of stalling QEMU when the consumer is not reading', async () => {
    const qemu = new FakeQemu(SYSCALL_DUMP.repeat(500));
    const sensor = new TcgSensor({
      vm: 'lab',
      monitor: qemu,
      addresses: ADDRESSES,
      policy: 'drop',
      capacity: 10,
    });
    await sensor.start();
    await sensor.stop();
    const got = await collect(sensor.events());
    const stats = sensor.stats();
    assert.equal(got.length, 10);
    assert.equal(stats.seen, 500);
    assert.equal(stats.delivered + stats.dropped, stats.seen);
  });

  it('lists the QEMU options for its probes', () => {
    assert.deepEqual(tcgSensorQemuArgs(ADDRESSES), [
      '-dfilter',
      '0xffffffff81c00080+0x1,0xffffffff81031080+0x1',
      '-msg',
      'timestamp=on',
      '-D',
      '/dev/null',
    ]);
  });
});
