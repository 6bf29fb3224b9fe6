import { VmsightError } from '../core/index.js';

/**
 * `O` + hex bytes is console output (e.g. from `qRcmd`), which a stub may send before the real
 * reply (GDB remote protocol, "Stop Reply Packets", `O XX…`); `OK` is a reply, not output.
 */
export function isConsoleOutput(reply: string): boolean {
  return reply !== 'OK' && /^O([0-9a-fA-F]{2})+$/.test(reply);
}

/** `Exx`: the stub refused the request (GDB remote protocol, "Standard Replies"). */
export function isErrorReply(reply: string): boolean {
  return /^E[0-9a-fA-F]{2}$/.test(reply);
}

/** The reply of `m`, `g` or `p`: non-empty hex bytes, else INVALID_INPUT naming the packet. */
export function checkHexReply(reply: string, packet: string, endpoint: string): string {
  if (!/^([0-9a-fA-F]{2})*$/.test(reply) || reply === '') {
    throw new VmsightError(
      'INVALID_INPUT',
      `GDB stub at ${endpoint} answered "${packet}" with "${reply.slice(0, 40)}", not hex bytes`,
    );
  }
  return reply;
}

/** `OK`, else CONNECTOR_ERROR: empty means unsupported (GDB remote protocol, "Overview"). */
export function expectOkReply(reply: string, what: string, endpoint: string): void {
  if (reply === 'OK') return;
  throw new VmsightError(
    'CONNECTOR_ERROR',
    reply === ''
      ? `GDB stub at ${endpoint} does not support the request to ${what}`
      : `GDB stub at ${endpoint} refused to ${what}: "${reply.slice(0, 40)}"`,
  );
}
