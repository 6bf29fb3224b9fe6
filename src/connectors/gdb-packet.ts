import { VmsightError } from '../core/index.js';

/**
 * GDB remote serial protocol packet coding (GDB manual, "Overview" of the Remote Protocol):
 * `$payload#cc`, where `cc` is the modulo-256 sum of the payload bytes as sent, in two lowercase hex
 * digits. Inside a payload `}` escapes the next byte (sent XOR 0x20), and `*` run-length encodes the
 * previous byte: `X*N` is X repeated (N - 29) more times.
 */
export const PACKET_START = 0x24; // $
export const CHECKSUM_MARK = 0x23; // #
export const ESCAPE = 0x7d; // }
export const RUN_LENGTH = 0x2a; // *
export const NOTIFICATION_START = 0x25; // %
export const ACK = 0x2b; // +
export const NACK = 0x2d; // -
export const INTERRUPT = 0x03; // ^C

/** Modulo-256 sum of the bytes, as the protocol checksums them. */
export function gdbChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const byte of bytes) sum = (sum + byte) & 0xff;
  return sum;
}

/**
 * Frames a payload as `$…#cc`, escaping `$`, `#`, `}` and `*` so that binary data (the `X` packet)
 * survives. Strings are taken as latin1, one byte per character.
 *
 * @example
 * ```ts
 * import { encodeGdbPacket } from './gdb-packet.js';
 * Buffer.from(encodeGdbPacket('g')).toString(); // '$g#67'
 * ```
 */
export function encodeGdbPacket(payload: Uint8Array | string): Uint8Array {
  const raw = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const body: number[] = [];
  for (const byte of raw) {
    if (byte === PACKET_START || byte === CHECKSUM_MARK || byte === ESCAPE || byte === RUN_LENGTH) {
      body.push(ESCAPE, byte ^ 0x20);
    } else {
      body.push(byte);
    }
  }
  const bytes = Uint8Array.from(body);
  const checksum = gdbChecksum(bytes).toString(16).padStart(2, '0');
  return Buffer.concat([Buffer.of(PACKET_START), bytes, Buffer.from(`#${checksum}`, 'latin1')]);
}

/**
 * Decodes the body of a received packet (between `$` and `#`): escapes and run lengths. The
 * expanded size is bounded: a hostile stub's `0*~` repeated cannot make us allocate without limit.
 */
export function decodeGdbPayload(body: Uint8Array, maxBytes = 16 * 1024 * 1024): Uint8Array {
  const out = new Uint8Array(Math.min(maxBytes, body.length * 98));
  let length = 0;
  const push = (byte: number): void => {
    if (length >= maxBytes) {
      throw new VmsightError('LIMIT_EXCEEDED', `GDB packet expands past ${maxBytes} bytes`);
    }
    out[length] = byte;
    length += 1;
  };
  for (let i = 0; i < body.length; i += 1) {
    const byte = body[i] ?? 0;
    if (byte === ESCAPE) {
      i += 1;
      if (i >= body.length) {
        throw new VmsightError('INVALID_INPUT', 'GDB packet ends inside an escape sequence');
      }
      push((body[i] ?? 0) ^ 0x20);
    } else if (byte === RUN_LENGTH) {
      i += 1;
      if (i >= body.length || length === 0) {
        throw new VmsightError(
          'INVALID_INPUT',
          'GDB packet has a run length without a byte to repeat',
        );
      }
      // "the repeat count is the character's value minus 29" (printable characters only).
      const count = (body[i] ?? 0) - 29;
      if (count < 3 || count > 97) {
        throw new VmsightError('INVALID_INPUT', `GDB packet has an invalid run length ${count}`);
      }
      const previous = out[length - 1] ?? 0;
      for (let n = 0; n < count; n += 1) push(previous);
    } else {
      push(byte);
    }
  }
  return out.slice(0, length);
}
