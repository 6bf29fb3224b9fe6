import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { freeTcpPort } from './free-tcp-port.js';

describe('freeTcpPort', () => {
  it('returns a loopback port that a server can then bind', async () => {
    const port = await freeTcpPort();
    assert.ok(Number.isInteger(port) && port > 0 && port < 65_536, `port ${port}`);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
