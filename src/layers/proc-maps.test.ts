import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isVmsightError } from '../core/index.js';
import { findRamMapping, parseProcMaps } from './proc-maps.js';
import { defaultBelowFourGiB, ramLayoutSegments } from './ram-layout.js';

// Shape of a QEMU 7.2 maps file with a memory-backend-file (addresses made up for the test).
const MAPS = `55d1c8a00000-55d1c8c00000 r--p 00000000 08:01 1234 /usr/bin/qemu-system-x86_64
7f2a40000000-7f2a50000000 rw-s 00000000 00:19 77 /dev/shm/vmsight-lab-ram
7f2a50000000-7f2a50001000 ---p 00000000 00:00 0
7f2a60000000-7f2a70000000 rw-p 00000000 00:00 0
7ffd1000-7ffd2000 rw-p 00000000 00:00 0                          [stack]
`;

void describe('parseProcMaps and findRamMapping', () => {
  void it('parses lines and picks the backend file mapping of the RAM size', () => {
    const maps = parseProcMaps(MAPS);
    assert.equal(maps.length, 5);
    assert.equal(maps[4]?.path, '[stack]');
    const ram = findRamMapping(maps, { size: 256n << 20n, memPath: '/dev/shm/vmsight-lab-ram' });
    assert.equal(ram.start, 0x7f2a40000000n);
  });

  void it('refuses an ambiguous or missing match instead of guessing', () => {
    const maps = parseProcMaps(MAPS);
    assert.throws(
      () => findRamMapping(maps, { size: 256n << 20n }),
      (e: unknown) =>
        isVmsightError(e, 'NOT_FOUND') && /2 mappings match/.test((e as Error).message),
    );
    assert.throws(
      () => findRamMapping(maps, { size: 1n << 30n }),
      (e: unknown) => isVmsightError(e, 'NOT_FOUND'),
    );
    assert.throws(
      () => parseProcMaps('garbage line'),
      (e: unknown) => isVmsightError(e, 'INVALID_INPUT'),
    );
  });

  void it('splits RAM around the PCI hole like the i440fx machine', () => {
    assert.equal(defaultBelowFourGiB(256n << 20n), 256n << 20n);
    assert.equal(defaultBelowFourGiB(4n << 30n), 0xc0000000n);
    assert.deepEqual(ramLayoutSegments(4n << 30n, 0x7f0000000000n), [
      { start: 0n, length: 3n << 30n, fileOffset: 0x7f0000000000n },
      { start: 4n << 30n, length: 1n << 30n, fileOffset: 0x7f0000000000n + (3n << 30n) },
    ]);
    assert.equal(ramLayoutSegments(256n << 20n, 0n).length, 1);
  });
});
