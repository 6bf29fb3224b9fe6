import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isVmsightError, type ErrorCode } from '../core/index.js';
import { QmpClient } from './qmp-client.js';
import { QmpTestPeer, defaultResponse, type PeerCommand } from './qmp-test-peer.js';

const peers: QmpTestPeer[] = [];
const clients: QmpClient[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(peers.map((p) => p.close()));
});

async function peer(options: Parameters<typeof QmpTestPeer.start>[0] = {}): Promise<QmpTestPeer> {
  const started = await QmpTestPeer.start(options);
  peers.push(started);
  return started;
}

async function connect(
  path: string,
  options: Parameters<typeof QmpClient.connect>[1] = {},
): Promise<QmpClient> {
  const client = await QmpClient.connect(path, {
    connectTimeoutMs: 2000,
    commandTimeoutMs: 2000,
    ...options,
  });
  clients.push(client);
  return client;
}

function hasCode(code: ErrorCode, pattern?: RegExp): (error: unknown) => boolean {
  return (error) =>
    isVmsightError(error, code) && (pattern === undefined || pattern.test(error.message));
}

const event = (name: string, data: object = {}): string =>
  `${JSON.stringify({ timestamp: { seconds: 1795312723, microseconds: 5 }, event: name, data })}\r\n`;

void describe('QmpClient against a scripted peer', () => {
  void it('negotiates capabilities, then runs commands with distinct ids', async () => {
    const server = await peer({
      respond: (command) =>
        command.execute === 'query-status'
          ? `${JSON.stringify({ return: { status: 'running', running: true }, id: command.id })}\r\n`
          : defaultResponse(command),
    });
    const qmp = await connect(server.path);
    assert.equal(qmp.greeting.version.major, 7);
    const [a, b] = await Promise.all([qmp.execute('query-status'), qmp.execute('query-status')]);
    assert.equal(a.status, 'running');
    assert.deepEqual(a, b);
    assert.equal(server.received[0]?.execute, 'qmp_capabilities');
    const ids = server.received.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length);
  });

  void it('surfaces a QMP error reply with its class and desc', async () => {
    const server = await peer({
      respond: (command) =>
        command.execute === 'dump-guest-memory'
          ? `${JSON.stringify({ error: { class: 'GenericError', desc: 'kdump-lzo is not available now' }, id: command.id })}\n`
          : defaultResponse(command),
    });
    const qmp = await connect(server.path);
    await assert.rejects(
      qmp.execute('dump-guest-memory', {
        paging: false,
        protocol: 'file:/dev/null',
        format: 'kdump-lzo',
      }),
      (error) =>
        isVmsightError(error, 'CONNECTOR_ERROR') &&
        error.details['class'] === 'GenericError' &&
        /dump-guest-memory.*GenericError: kdump-lzo is not available now/.test(error.message),
    );
    assert.ok(qmp.isOpen, 'an error reply does not end the connection');
    await qmp.execute('cont');
  });

  void it('times out a command that gets no reply, naming it, and stays usable', async () => {
    const server = await peer({
      respond: (c) => (c.execute === 'stop' ? undefined : defaultResponse(c)),
    });
    const qmp = await connect(server.path);
    await assert.rejects(qmp.execute('stop', {}, { timeoutMs: 50 }), hasCode('TIMEOUT', /"stop"/));
    await qmp.execute('cont');
  });

  void it('delivers events, including unknown ones, to every subscriber', async () => {
    const server = await peer({
      respond: (command) =>
        command.execute === 'stop'
          ? event('STOP') + event('VMSIGHT_UNKNOWN', { n: 1 }) + defaultResponse(command)
          : defaultResponse(command),
    });
    const qmp = await connect(server.path);
    const first = qmp.events();
    const second = qmp.events();
    await qmp.execute('stop');
    for (const stream of [first, second]) {
      const names: string[] = [];
      for await (const e of stream) {
        names.push(e.name);
        if (names.length === 2) break;
      }
      assert.deepEqual(names, ['STOP', 'VMSIGHT_UNKNOWN']);
    }
  });

  void it('frames messages delivered one byte at a time', async () => {
    const server = await peer({
      byteAtATime: true,
      respond: (c) =>
        event('RESUME') + `${JSON.stringify({ return: { status: 'ok' }, id: c.id })}\r\n`,
    });
    const qmp = await connect(server.path);
    const events = qmp.events();
    assert.deepEqual(await qmp.execute('cont'), { status: 'ok' });
    const next = await events.next();
    assert.equal(next.done === false && next.value.name, 'RESUME');
  });

  void it('rejects a pending command when the peer closes mid-command', async () => {
    const server = await peer({
      respond: (c: PeerCommand, socket) => {
        if (c.execute === 'quit') {
          socket.end('{"return": {}, "id"');
          return undefined;
        }
        return defaultResponse(c);
      },
    });
    const qmp = await connect(server.path);
    const events = qmp.events();
    await assert.rejects(
      qmp.execute('quit'),
      hasCode('CONNECTOR_ERROR', /"quit".*did not complete/),
    );
    assert.equal(qmp.isOpen, false);
    await assert.rejects(events.next(), hasCode('CONNECTOR_ERROR'));
    await assert.rejects(qmp.execute('cont'), hasCode('CONNECTOR_ERROR'));
  });

  const malformed: ReadonlyArray<readonly [string, (c: PeerCommand) => string]> = [
    ['truncated JSON', (c) => `{"return": {}, "id": "${c.id ?? ''}"\r\n`],
    ['a reply without id', () => '{"return": {}}\r\n'],
    ['an event with no timestamp', (c) => `{"event": "STOP"}\r\n${defaultResponse(c)}`],
    [
      'a second greeting',
      () =>
        '{"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}}, "capabilities": []}}\n',
    ],
  ];
  for (const [name, reply] of malformed) {
    void it(`fails pending commands on ${name}`, async () => {
      const server = await peer({
        respond: (c) => (c.execute === 'query-status' ? reply(c) : defaultResponse(c)),
      });
      const qmp = await connect(server.path);
      await assert.rejects(
        qmp.execute('query-status'),
        hasCode('CONNECTOR_ERROR', /did not complete/),
      );
      assert.equal(qmp.isOpen, false);
    });
  }

  void it('fails on an oversized line as soon as it crosses the limit', async () => {
    const server = await peer({
      respond: (c) =>
        c.execute === 'query-status' ? `{"return": "${'x'.repeat(4096)}` : defaultResponse(c),
    });
    const qmp = await connect(server.path, { maxLineBytes: 1024 });
    await assert.rejects(qmp.execute('query-status'), (error) => {
      return (
        isVmsightError(error, 'CONNECTOR_ERROR') &&
        /longer than the limit of 1024 bytes/.test(error.message)
      );
    });
  });

  void it('rejects a bad greeting at connect', async () => {
    const server = await peer({ greeting: '{"QMP": {"version": "7.2"}}\n' });
    await assert.rejects(connect(server.path), hasCode('CONNECTOR_ERROR', /greeting/));
    const text = await peer({ greeting: 'Welcome to QEMU monitor\n' });
    await assert.rejects(connect(text.path), hasCode('CONNECTOR_ERROR', /not valid JSON/));
  });

  void it('times out at connect when no greeting comes', async () => {
    const server = await peer({ greeting: '' });
    await assert.rejects(
      connect(server.path, { connectTimeoutMs: 100 }),
      hasCode('TIMEOUT', /no greeting/),
    );
  });

  void it('fails at connect when capabilities negotiation is refused', async () => {
    const server = await peer({
      respond: (c) =>
        `${JSON.stringify({ error: { class: 'CommandNotFound', desc: 'no' }, id: c.id })}\n`,
    });
    await assert.rejects(connect(server.path), hasCode('CONNECTOR_ERROR', /qmp_capabilities/));
  });

  void it('names the socket path when it is missing, refused or not a socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmsight-qmp-'));
    try {
      const missing = join(dir, 'missing.sock');
      await assert.rejects(
        connect(missing),
        hasCode('CONNECTOR_ERROR', new RegExp(`"${missing}".*does not exist`)),
      );
      const file = join(dir, 'file');
      writeFileSync(file, '');
      await assert.rejects(connect(file), hasCode('CONNECTOR_ERROR', new RegExp(`"${file}"`)));
      const server = await peer();
      const path = server.path;
      await server.close();
      // The socket file of a dead server stays behind: connecting is refused, or it is gone.
      await assert.rejects(connect(path), hasCode('CONNECTOR_ERROR', new RegExp(`"${path}"`)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it('close() ends event streams, rejects later commands and is idempotent', async () => {
    const server = await peer({
      respond: (c) => (c.execute === 'stop' ? undefined : defaultResponse(c)),
    });
    const qmp = await connect(server.path);
    const events = qmp.events();
    const pending = assert.rejects(qmp.execute('stop'), hasCode('CONNECTOR_ERROR', /closed/));
    await qmp.close();
    await qmp.close();
    await pending;
    assert.deepEqual(await events.next(), { value: undefined, done: true });
    await assert.rejects(qmp.execute('cont'), hasCode('CONNECTOR_ERROR', /closed/));
  });

  void it('fails a subscriber that falls too far behind instead of buffering without bound', async () => {
    const server = await peer();
    const qmp = await connect(server.path, { maxQueuedEvents: 3 });
    const events = qmp.events();
    server.send(event('A') + event('B') + event('C') + event('D'));
    await qmp.execute('cont'); // the events above arrive before this reply
    const names: string[] = [];
    await assert.rejects(async () => {
      for await (const e of events) names.push(e.name);
    }, hasCode('LIMIT_EXCEEDED'));
    assert.deepEqual(names, ['A', 'B', 'C']);
  });
});
