import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IntrospectionWarning } from '../../symbols/index.js';
import {
  INIT_TASK,
  SparseMemory,
  syntheticProfile,
  syntheticSymbols,
  writeRootFs,
  writeTasks,
} from './internal-test/synthetic-kernel.js';
import { sockstatPlugin } from './sockstat.js';

const BASE = INIT_TASK + 0x40000n;
const FILES = BASE;
const FD_ARRAY = BASE + 0x100n;
const SOCKFS_SB = BASE + 0x200n;
const UNMAPPED = 0xffff_8880_7777_0000n;

/**
 * A process whose fds 0-3 are sockets: TCP 127.0.0.1:8081 listening, TCP6 [::1]:8082 ->
 * [::ffff:10.0.0.2]:443 established, a unix datagram socket bound to /dev/log, and one whose struct
 * socket is unmapped.
 */
function guest() {
  const memory = new SparseMemory();
  const fs = writeRootFs(memory);
  writeTasks(memory, { pid: 9, comm: 'server', mm: 0n, files: FILES, fs: fs.fsStruct });
  memory
    .u64(FILES, FILES + 0x40n)
    .u32(FILES + 0x40n, 4)
    .u64(FILES + 0x48n, FD_ARRAY);
  memory.u64(SOCKFS_SB + 8n, 0x534f434bn); // SOCKFS_MAGIC
  const socket = (fd: number, ino: bigint, privateData: bigint): void => {
    const file = BASE + 0x1000n * BigInt(fd + 1);
    const inode = file + 0x100n;
    memory.u64(FD_ARRAY + BigInt(8 * fd), file);
    memory.u64(file + 32n, inode).u64(file + 40n, privateData);
    memory.u64(inode + 8n, ino).u64(inode + 16n, SOCKFS_SB);
  };
  const sock = (fd: number, family: number, type: number, protocol: number, state: number) => {
    const socketStruct = BASE + 0x1000n * BigInt(fd + 1) + 0x200n;
    const sk = BASE + 0x1000n * BigInt(fd + 1) + 0x400n;
    socket(fd, 100n + BigInt(fd), socketStruct);
    memory.u64(socketStruct + 8n, sk);
    memory.write(sk + 16n, Uint8Array.of(family, 0, state));
    memory.write(sk + 100n, Uint8Array.of(type, 0, protocol, 0));
    return sk;
  };
  const tcp = sock(0, 2, 1, 6, 10);
  memory.write(tcp + 4n, Uint8Array.of(127, 0, 0, 1)).write(tcp + 14n, Uint8Array.of(0x91, 0x1f));
  const tcp6 = sock(1, 10, 1, 6, 1);
  memory.write(tcp6 + 12n, Uint8Array.of(0x01, 0xbb)); // dport 443, network order
  memory.write(tcp6 + 14n, Uint8Array.of(0x92, 0x1f)); // num 8082, host order
  memory.write(tcp6 + 24n, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2));
  memory.write(tcp6 + 40n, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
  const unix = sock(2, 1, 2, 0, 7);
  const address = BASE + 0x3800n;
  memory.u64(unix + 128n, address).u32(address + 4n, 2 + '/dev/log'.length + 1);
  memory.u32(address + 8n, 1).text(address + 10n, '/dev/log');
  socket(3, 103n, UNMAPPED);
  return { memory, symbols: syntheticSymbols() };
}

void describe('sockstat on a made-up kernel', () => {
  void it('decodes IPv4, IPv6 (v4-mapped) and unix sockets, and warns on an unmapped one', () => {
    const g = guest();
    const warnings: IntrospectionWarning[] = [];
    const rows = [
      ...sockstatPlugin.run(
        { profile: syntheticProfile(g.memory, g.symbols), warn: (w) => warnings.push(w) },
        {},
      ),
    ].map((r) => ({
      fd: r.fd,
      inode: r.inode,
      family: r.family,
      type: r.type,
      protocol: r.protocol,
      local: `${r.localAddress}:${r.localPort}`,
      remote: `${r.remoteAddress}:${r.remotePort}`,
      state: r.state,
    }));
    assert.deepEqual(rows, [
      {
        fd: 0,
        inode: 100n,
        family: 'AF_INET',
        type: 'STREAM',
        protocol: 'TCP',
        local: '127.0.0.1:8081',
        remote: '0.0.0.0:0',
        state: 'LISTEN',
      },
      {
        fd: 1,
        inode: 101n,
        family: 'AF_INET6',
        type: 'STREAM',
        protocol: 'TCP',
        local: '::1:8082',
        remote: '::ffff:10.0.0.2:443',
        state: 'ESTABLISHED',
      },
      {
        fd: 2,
        inode: 102n,
        family: 'AF_UNIX',
        type: 'DGRAM',
        protocol: 'UNIX',
        local: '/dev/log:0',
        remote: ':0',
        state: 'CLOSE',
      },
    ]);
    assert.deepEqual(
      warnings.map((w) => [w.code, w.address]),
      [['unreadable-memory', UNMAPPED]],
    );
  });
});
