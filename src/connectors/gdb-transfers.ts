import { VmsightError, hex } from '../core/index.js';
import { checkHexReply, expectOkReply } from './gdb-replies.js';

/** What a transfer in pieces needs from the client: one exchange, and the stub's packet size. */
export interface GdbTransferChannel {
  request(payload: string): Promise<string>;
  readonly endpoint: string;
  readonly packetSize: number;
}

/** Bound on a target description document: QEMU's x86-64 ones are a few KiB. */
const MAX_FEATURE_DOCUMENT_CHARS = 1024 * 1024;

/**
 * `m addr,length` in pieces that fit the stub's packet (two hex digits per byte). A short reply is
 * TRUNCATED_INPUT naming the address: the stub could not read all of it.
 */
export async function readMemoryInPieces(
  channel: GdbTransferChannel,
  address: bigint,
  length: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  const chunk = Math.max(1, Math.floor((channel.packetSize - 8) / 2));
  for (let done = 0; done < length;) {
    const count = Math.min(chunk, length - done);
    const at = address + BigInt(done);
    const reply = checkHexReply(
      await channel.request(`m${at.toString(16)},${count.toString(16)}`),
      'm',
      channel.endpoint,
    );
    if (reply.length !== count * 2) {
      throw new VmsightError(
        'TRUNCATED_INPUT',
        `GDB stub returned ${reply.length / 2} of ${count} bytes at ${hex(at)}`,
      );
    }
    out.set(Buffer.from(reply, 'hex'), done);
    done += count;
  }
  return out;
}

/** `M addr,length:XX…` in pieces that fit the stub's packet, each acknowledged with `OK`. */
export async function writeMemoryInPieces(
  channel: GdbTransferChannel,
  address: bigint,
  bytes: Uint8Array,
): Promise<void> {
  const chunk = Math.max(1, Math.floor((channel.packetSize - 40) / 2));
  for (let done = 0; done < bytes.length; done += chunk) {
    const part = bytes.subarray(done, done + chunk);
    const at = address + BigInt(done);
    expectOkReply(
      await channel.request(
        `M${at.toString(16)},${part.length.toString(16)}:${Buffer.from(part).toString('hex')}`,
      ),
      `write memory at ${hex(at)}`,
      channel.endpoint,
    );
  }
}

/**
 * A target description document (`qXfer:features:read:ANNEX:offset,length`, GDB remote protocol
 * "qXfer"), read in pieces until the stub answers `l` (last). Bounded to 1 MiB.
 */
export async function readFeatureDocument(
  channel: GdbTransferChannel,
  annex: string,
): Promise<string> {
  let text = '';
  const piece = Math.max(64, channel.packetSize - 16);
  for (;;) {
    const reply = await channel.request(
      `qXfer:features:read:${annex}:${text.length.toString(16)},${piece.toString(16)}`,
    );
    if (reply[0] !== 'm' && reply[0] !== 'l') {
      throw new VmsightError(
        'INVALID_INPUT',
        `GDB stub at ${channel.endpoint} answered qXfer for "${annex}" with "${reply.slice(0, 40)}"`,
      );
    }
    text += reply.slice(1);
    if (reply[0] === 'l') return text;
    if (text.length > MAX_FEATURE_DOCUMENT_CHARS || reply.length === 1) {
      throw new VmsightError(
        'LIMIT_EXCEEDED',
        `GDB target description "${annex}" is longer than 1 MiB`,
      );
    }
  }
}
