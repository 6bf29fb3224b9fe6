import { createServer } from 'node:net';
import { VmsightError } from './errors.js';

/**
 * Asks the kernel for a free loopback TCP port: listen on port 0 (ip(7): "an ephemeral port is
 * allocated"), read the port back, close. Another process may take the port before the caller
 * binds it; callers that hand it to QEMU see QEMU's own error in that case.
 */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string')
    throw new VmsightError('IO_ERROR', 'Cannot find a free TCP port on 127.0.0.1');
  return address.port;
}
