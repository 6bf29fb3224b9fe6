import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, writeCpioNewc } from './cpio-newc-writer.js';

interface Parsed {
  name: string;
  mode: number;
  rdevMajor: number;
  rdevMinor: number;
  data: string;
}

/** An independent newc reader (buffer-format.rst), for round trips. */
function parseNewc(archive: Buffer): Parsed[] {
  const entries: Parsed[] = [];
  let offset = 0;
  const align = (n: number): number => (n + 3) & ~3;
  for (;;) {
    assert.equal(archive.toString('latin1', offset, offset + 6), '070701');
    const field = (index: number): number =>
      parseInt(archive.toString('latin1', offset + 6 + index * 8, offset + 14 + index * 8), 16);
    const nameSize = field(11);
    const fileSize = field(6);
    const name = archive.toString('utf8', offset + 110, offset + 110 + nameSize - 1);
    const dataStart = align(offset + 110 + nameSize);
    const data = archive.toString('latin1', dataStart, dataStart + fileSize);
    const entry = { name, mode: field(1), rdevMajor: field(9), rdevMinor: field(10), data };
    offset = align(dataStart + fileSize);
    if (name === 'TRAILER!!!') break;
    entries.push(entry);
  }
  assert.equal(offset, archive.length);
  return entries;
}

void describe('writeCpioNewc', () => {
  void it('writes directories, files, symlinks and device nodes that read back', () => {
    const archive = writeCpioNewc([
      { type: 'dir', path: 'bin' },
      { type: 'file', path: 'init', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
      { type: 'symlink', path: 'bin/sh', target: '/bin/busybox' },
      { type: 'char', path: 'dev/console', major: 5, minor: 1 },
      { type: 'file', path: 'odd', data: Buffer.from('12345') },
    ]);
    assert.deepEqual(parseNewc(archive), [
      { name: 'bin', mode: S_IFDIR | 0o755, rdevMajor: 0, rdevMinor: 0, data: '' },
      { name: 'init', mode: S_IFREG | 0o755, rdevMajor: 0, rdevMinor: 0, data: '#!/bin/sh\n' },
      { name: 'bin/sh', mode: S_IFLNK | 0o777, rdevMajor: 0, rdevMinor: 0, data: '/bin/busybox' },
      { name: 'dev/console', mode: S_IFCHR | 0o600, rdevMajor: 5, rdevMinor: 1, data: '' },
      { name: 'odd', mode: S_IFREG | 0o644, rdevMajor: 0, rdevMinor: 0, data: '12345' },
    ]);
  });

  void it('is deterministic', () => {
    const entries = [{ type: 'file', path: 'a', data: Buffer.from('x') }] as const;
    assert.deepEqual(writeCpioNewc(entries), writeCpioNewc(entries));
  });
});
