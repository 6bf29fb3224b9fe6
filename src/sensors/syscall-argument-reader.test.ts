import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PAGING_4_LEVEL, PageTableWalker, VirtualLayer } from '../layers/index.js';
import { PageTableBuilder } from '../layers/internal.js';
import { SyscallArgumentReader } from './syscall-argument-reader.js';
import type { TcgRegisters } from './tcg-log-record.js';

const USER_PAGE = 0x7ffd_1234_5000n;
const DATA = 0x40000;

/** One user page of guest memory, mapped by 4-level page tables rooted at `root`. */
function guest(): {
  reader: SyscallArgumentReader;
  root: bigint;
  write: (at: number, bytes: Uint8Array) => void;
} {
  const builder = new PageTableBuilder(PAGING_4_LEVEL, 0x80000);
  builder.map(USER_PAGE, BigInt(DATA));
  const walker = new PageTableWalker(builder.layer, PAGING_4_LEVEL);
  return {
    reader: new SyscallArgumentReader((cr3) => new VirtualLayer(walker, cr3)),
    root: builder.root,
    write: (at, bytes) => builder.layer.bytes.set(bytes, DATA + at),
  };
}

const NAMES = ['rax', 'rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'] as const;
const registers = (cr3: bigint, values: Partial<TcgRegisters>): TcgRegisters => ({
  ...(Object.fromEntries(NAMES.map((name) => [name, 0n])) as Record<
    (typeof NAMES)[number],
    bigint
  >),
  cr3,
  ...values,
});

describe('SyscallArgumentReader', () => {
  it('reads openat’s path, execve’s path and argv, and connect’s IPv4 address', () => {
    const { reader, root, write } = guest();
    write(0, Buffer.from('/etc/shadow\0/tmp/p.sh\0-c\0'));
    // argv at 0x100: pointers to "/tmp/p.sh" and "-c", then NULL.
    const argv = Buffer.alloc(24);
    argv.writeBigUInt64LE(USER_PAGE + 12n, 0);
    argv.writeBigUInt64LE(USER_PAGE + 22n, 8);
    write(0x100, argv);
    // struct sockaddr_in { AF_INET, htons(4444), 127.0.0.1 }
    write(0x200, Uint8Array.of(2, 0, 0x11, 0x5c, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0));
    assert.deepEqual(reader.read(257, registers(root, { rsi: USER_PAGE })), {
      path: '/etc/shadow',
    });
    assert.deepEqual(
      reader.read(59, registers(root, { rdi: USER_PAGE + 12n, rsi: USER_PAGE + 0x100n })),
      { path: '/tmp/p.sh', argv: ['/tmp/p.sh', '-c'] },
    );
    assert.deepEqual(reader.read(42, registers(root, { rsi: USER_PAGE + 0x200n, rdx: 16n })), {
      address: '127.0.0.1:4444',
    });
  });

  it('leaves out what is not mapped and ignores calls it does not decode', () => {
    const { reader, root } = guest();
    assert.equal(reader.read(257, registers(root, { rsi: 0x1000_0000n })), undefined);
    assert.equal(reader.read(0, registers(root, { rdi: USER_PAGE })), undefined);
    assert.equal(reader.decodes(0), false);
  });

  it('stops an argv with no NULL pointer at 64 entries', () => {
    const { reader, root, write } = guest();
    // A page of pointers all pointing at one "x" string: no NULL terminator within the page.
    write(0x800, Buffer.from('x\0'));
    const pointers = Buffer.alloc(0x800);
    for (let i = 0; i < 0x100; i += 1) pointers.writeBigUInt64LE(USER_PAGE + 0x800n, i * 8);
    write(0, pointers);
    const result = reader.read(59, registers(root, { rdi: USER_PAGE + 0x800n, rsi: USER_PAGE }));
    assert.equal(result?.argv?.length, 64);
  });
});
