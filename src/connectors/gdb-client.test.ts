import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { isVmsightError } from '../core/index.js';
import { GdbClient } from './gdb-client.js';
import { GdbFramer } from './gdb-framer.js';
import { encodeGdbPacket } from './gdb-packet.js';
import { X86_64_QEMU_REGISTERS } from './gdb-registers.js';

/** What the fake stub does with one received packet: bytes to send back (ack included or not). */
type Script = (packet: string, socket: Socket, log: string[]) => void;

const lastSent = new WeakMap<Socket, Uint8Array>();

/** Acknowledges the request and answers; the answer is sent again when the client says `-`. */
const reply = (socket: Socket, payload: string): void => {
  socket.write('+');
  send(socket, encodeGdbPacket(payload));
};

const send = (socket: Socket, packet: Uint8Array): void => {
  lastSent.set(socket, packet);
  socket.write(packet);
};

const REGS = X86_64_QEMU_REGISTERS.map((reg) =>
  reg.name === 'rip'
    ? '8000c081ffffffff'
    : reg.name === 'cr3'
      ? '0000a10200000000'
      : '00'.repeat(reg.bits / 8),
).join('');

/** REGS with rip one instruction past the breakpoint (`entry_SYSCALL_64` + 3). */
const REGS_AFTER_STEP = REGS.replace('8000c081ffffffff', '8300c081ffffffff');

/** A QEMU-like stub: qSupported, ?, g, p10, m, Z/z, s, c (stops after 20 ms), D;1. */
const qemuLike: Script = (packet, socket) => {
  if (packet.startsWith('qSupported'))
    reply(socket, 'PacketSize=1000;qXfer:features:read+;multiprocess+');
  else if (packet === '?' || packet === 's') reply(socket, 'T05thread:p01.01;');
  else if (packet === 'g') reply(socket, REGS);
  else if (packet === 'p10') reply(socket, '8000c081ffffffff');
  else if (packet.startsWith('m')) {
    const [, length = '0'] = packet.slice(1).split(',');
    reply(socket, 'ab'.repeat(Number.parseInt(length, 16)));
  } else if (/^[Zz][01],/.test(packet) || packet === 'D;1') reply(socket, 'OK');
  else if (packet === 'c') {
    socket.write('+');
    setTimeout(() => socket.write(encodeGdbPacket('T05thread:p01.01;')), 20);
  } else reply(socket, '');
};

async function withStub(
  script: Script,
  run: (port: number, log: string[]) => Promise<void>,
  onConnect?: (socket: Socket) => void,
): Promise<void> {
  const log: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    onConnect?.(socket);
    const framer = new GdbFramer();
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      if (chunk.includes(0x03)) {
        log.push('^C');
        socket.write(encodeGdbPacket('T02thread:p01.01;'));
      }
      for (const frame of framer.push(chunk.filter((b) => b !== 0x03))) {
        if (frame.type === 'packet') {
          const packet = Buffer.from(frame.payload).toString('latin1');
          log.push(packet);
          script(packet, socket, log);
        } else if (frame.type === 'nack') {
          log.push('-');
          const last = lastSent.get(socket);
          if (last !== undefined) socket.write(last);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run((server.address() as AddressInfo).port, log);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

const fast = { drainMs: 20, requestTimeoutMs: 300, connectTimeoutMs: 1000 };

void describe('GdbClient against a fake stub', () => {
  void it('handshakes, reads registers and memory, and detaches with D;1', async () => {
    await withStub(qemuLike, async (port, log) => {
      const gdb = await GdbClient.connect({ port, ...fast });
      assert.equal(gdb.features.multiprocess, true);
      assert.equal(gdb.features.packetSize, 4096);
      const regs = await gdb.readRegisters();
      assert.equal(regs.rip, 0xffffffff81c00080n);
      assert.equal(regs.cr3, 0x2a10000n);
      const bytes = await gdb.readMemory(0x1000n, 5000);
      assert.equal(bytes.length, 5000);
      assert.ok(bytes.every((b) => b === 0xab));
      assert.ok(log.filter((p) => p.startsWith('m')).length >= 3); // split by PacketSize
      await gdb.detach();
      assert.equal(log.at(-1), 'D;1');
    });
  });

  void it('steps off a breakpoint before continuing, and interrupts a running target', async () => {
    // QEMU 7.2 sometimes answers the first step without executing it (rip unchanged), and under
    // kvm_pvm every time: the retry lifts the breakpoint for the step (z1, s, Z1).
    let steps = 0;
    const lazyStep: Script = (packet, socket) => {
      if (packet === 's') steps += 1;
      if (packet === 'g' && steps >= 2) reply(socket, REGS_AFTER_STEP);
      else qemuLike(packet, socket, []);
    };
    await withStub(lazyStep, async (port, log) => {
      const gdb = await GdbClient.connect({ port, ...fast });
      await gdb.insertBreakpoint('hardware', 0xffffffff81c00080n);
      const stop = await gdb.continue({ timeoutMs: 1000 });
      assert.equal(stop.kind, 'signal');
      assert.deepEqual(log.slice(-8), [
        'g',
        's',
        'g',
        'z1,ffffffff81c00080,1',
        's',
        'Z1,ffffffff81c00080,1',
        'g',
        'c',
      ]);
      assert.equal(gdb.stepRetries, 1);
      await gdb.removeBreakpoint('hardware', 0xffffffff81c00080n);
      gdb.close();
    });
    const hangs: Script = (packet, socket) =>
      packet === 'c' ? socket.write('+') : qemuLike(packet, socket, []);
    await withStub(hangs, async (port, log) => {
      const gdb = await GdbClient.connect({ port, ...fast });
      const running = gdb.continue({ timeoutMs: 5000 });
      await new Promise((resolve) => setTimeout(resolve, 30));
      assert.equal(gdb.running, true);
      await assert.rejects(gdb.readRegisters(), (e: unknown) =>
        isVmsightError(e, 'CONNECTOR_ERROR'),
      );
      const stop = await gdb.interrupt();
      assert.ok(stop.kind === 'signal' && stop.signal === 2);
      assert.equal((await running).kind, 'signal');
      assert.ok(log.includes('^C'));
      // Paused: interrupt answers from the last stop without `?` (which clears QEMU's breakpoints).
      assert.equal((await gdb.interrupt()).kind, 'signal');
      gdb.close();
    });
  });

  void it('interrupts and throws TIMEOUT when a continue outlives its deadline', async () => {
    const hangs: Script = (packet, socket) =>
      packet === 'c' ? socket.write('+') : qemuLike(packet, socket, []);
    await withStub(hangs, async (port, log) => {
      const gdb = await GdbClient.connect({ port, ...fast });
      await assert.rejects(gdb.continue({ timeoutMs: 50 }), (e: unknown) =>
        isVmsightError(e, 'TIMEOUT'),
      );
      assert.ok(log.includes('^C'));
      assert.equal(gdb.running, false);
      gdb.close();
    });
  });

  void it('drains stale stop packets sent on connect', async () => {
    await withStub(
      qemuLike,
      async (port) => {
        const gdb = await GdbClient.connect({ port, ...fast });
        assert.equal((await gdb.readRegisters()).cr3, 0x2a10000n);
        gdb.close();
      },
      (socket) => {
        socket.write(encodeGdbPacket('T05thread:p01.01;'));
        socket.write(encodeGdbPacket('T05thread:p01.01;'));
      },
    );
  });

  void it('asks again after a bad checksum and resends its packet after a -', async () => {
    let corruptOnce = true;
    let nackOnce = true;
    const flaky: Script = (packet, socket, log) => {
      if (packet === 'g' && nackOnce) {
        nackOnce = false;
        socket.write('-');
        return;
      }
      if (packet === 'g' && corruptOnce) {
        corruptOnce = false;
        // Corrupted in transit: what the stub resends on `-` is the good reply.
        socket.write('+$OK#00');
        lastSent.set(socket, encodeGdbPacket(REGS));
        return;
      }
      qemuLike(packet, socket, log);
    };
    await withStub(flaky, async (port, log) => {
      const gdb = await GdbClient.connect({ port, ...fast });
      assert.equal((await gdb.readRegisters()).cr3, 0x2a10000n);
      assert.equal(log.filter((p) => p === 'g').length, 2);
      gdb.close();
    });
  });

  void it('fails, never hangs, on silence, endless bad checksums, truncation, garbage and errors', async () => {
    const cases: { script: Script; code: string }[] = [
      { script: (p, s) => (p === 'g' ? s.write('+') : qemuLike(p, s, [])), code: 'TIMEOUT' },
      {
        script: (p, s) => {
          if (p !== 'g') return qemuLike(p, s, []);
          s.write('+');
          send(s, Buffer.from('$OK#00')); // resent as corrupt as ever
        },
        code: 'CONNECTOR_ERROR',
      },
      {
        script: (p, s) => (p === 'g' ? s.end('+$0000') : qemuLike(p, s, [])),
        code: 'TRUNCATED_INPUT',
      },
      {
        script: (p, s) => (p === 'g' ? s.write(`+${'x'.repeat(5000)}`) : qemuLike(p, s, [])),
        code: 'CONNECTOR_ERROR',
      },
      {
        script: (p, s) => (p === 'g' ? reply(s, 'E14') : qemuLike(p, s, [])),
        code: 'CONNECTOR_ERROR',
      },
      {
        script: (p, s) => (p === 'g' ? reply(s, '0011') : qemuLike(p, s, [])),
        code: 'TRUNCATED_INPUT',
      },
    ];
    for (const { script, code } of cases) {
      await withStub(script, async (port) => {
        const gdb = await GdbClient.connect({ port, ...fast });
        const started = Date.now();
        await assert.rejects(
          gdb.readRegisters(),
          (e: unknown) => isVmsightError(e) && e.code === code,
          code,
        );
        assert.ok(Date.now() - started < 2000);
        gdb.close();
      });
    }
    await withStub(
      () => undefined,
      async (port) => {
        await assert.rejects(GdbClient.connect({ port, ...fast }), (e: unknown) =>
          isVmsightError(e, 'TIMEOUT'),
        );
      },
    );
    await assert.rejects(GdbClient.connect({ port: 1, ...fast }), (e: unknown) =>
      isVmsightError(e, 'CONNECTOR_ERROR'),
    );
  });
});
