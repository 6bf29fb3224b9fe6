import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseKallsymsText,
  probeAddressesFromArgs,
  probeAddressesOfProcess,
} from './qemu-probe-args.js';
import { tcgSensorQemuArgs } from './tcg-sensor.js';

describe('probeAddressesFromArgs', () => {
  it('reads back what tcgSensorQemuArgs wrote', () => {
    const addresses = { syscallEntry: 0xffffffff81c00080n, contextSwitch: 0xffffffff81031080n };
    assert.deepEqual(
      probeAddressesFromArgs(['-m', '256M', ...tcgSensorQemuArgs(addresses)]),
      addresses,
    );
    assert.deepEqual(probeAddressesFromArgs(['-dfilter', '0x1000..0x1001']), {
      syscallEntry: 0x1000n,
    });
  });

  it('is undefined without -dfilter and refuses a range that is not an address', () => {
    assert.equal(probeAddressesFromArgs(['-m', '256M']), undefined);
    assert.throws(
      () => probeAddressesFromArgs(['-dfilter', 'entry+1']),
      /does not start with a 0x address/,
    );
  });

  it('finds no -dfilter in this process', async () => {
    assert.equal(await probeAddressesOfProcess(process.pid), undefined);
  });
});

describe('parseKallsymsText', () => {
  it('reads the wanted names from prefixed lines and skips everything else', () => {
    const text = [
      'GUEST-READY kernel=6.1.0-56-amd64',
      'KALLSYMS ffffffff81031080 T __switch_to',
      'KALLSYMS ffffffff81c00080 T entry_SYSCALL_64',
      'KALLSYMS zzzz T broken',
      'ffffffff81000000 T not_prefixed',
    ].join('\n');
    assert.deepEqual(
      parseKallsymsText(text, ['entry_SYSCALL_64', '__switch_to', 'missing'], 'KALLSYMS '),
      new Map([
        ['__switch_to', 0xffffffff81031080n],
        ['entry_SYSCALL_64', 0xffffffff81c00080n],
      ]),
    );
  });
});
