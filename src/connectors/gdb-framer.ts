import { VmsightError } from '../core/index.js';
import {
  ACK,
  CHECKSUM_MARK,
  NACK,
  NOTIFICATION_START,
  PACKET_START,
  decodeGdbPayload,
  gdbChecksum,
} from './gdb-packet.js';

/** What the byte stream from a stub is made of. */
export type GdbFrame =
  | { readonly type: 'ack' }
  | { readonly type: 'nack' }
  /** A packet with a good checksum, its payload decoded. */
  | { readonly type: 'packet'; readonly payload: Uint8Array }
  /** An asynchronous notification (`%…#cc`, non-stop mode). */
  | { readonly type: 'notification'; readonly payload: Uint8Array }
  /** A packet whose checksum did not match: answer `-` so the stub sends it again. */
  | { readonly type: 'bad-checksum'; readonly expected: number; readonly actual: number };

export interface GdbFramerOptions {
  /** Longest packet body accepted (as sent). Default 1 MiB; QEMU's PacketSize is 4 KiB. */
  readonly maxPacketBytes?: number;
  /** Stray bytes tolerated between frames before the stream counts as garbage. Default 4,096. */
  readonly maxGarbageBytes?: number;
}

const enum State {
  Idle,
  Body,
  Checksum1,
  Checksum2,
}

const HEX = /^[0-9a-fA-F]$/;

/**
 * Splits the stub's byte stream into frames, whatever the chunking (tested byte at a time). Keeps
 * "need more bytes" (state carried to the next `push`) apart from "malformed" (a thrown
 * `VmsightError`): an oversized packet, a non-hex checksum or a flood of stray bytes.
 */
export class GdbFramer {
  readonly #maxPacketBytes: number;
  readonly #maxGarbageBytes: number;
  #state = State.Idle;
  #kind: 'packet' | 'notification' = 'packet';
  #body: number[] = [];
  #checksumText = '';
  #garbage = 0;

  constructor(options: GdbFramerOptions = {}) {
    this.#maxPacketBytes = options.maxPacketBytes ?? 1024 * 1024;
    this.#maxGarbageBytes = options.maxGarbageBytes ?? 4096;
  }

  /** True when a packet has started and not ended: a connection closing now cut it short. */
  get inPacket(): boolean {
    return this.#state !== State.Idle;
  }

  push(chunk: Uint8Array): GdbFrame[] {
    const frames: GdbFrame[] = [];
    for (const byte of chunk) {
      switch (this.#state) {
        case State.Idle:
          if (byte === ACK) {
            frames.push({ type: 'ack' });
          } else if (byte === NACK) {
            frames.push({ type: 'nack' });
          } else if (byte === PACKET_START || byte === NOTIFICATION_START) {
            this.#kind = byte === PACKET_START ? 'packet' : 'notification';
            this.#state = State.Body;
            this.#body = [];
            this.#garbage = 0;
          } else {
            this.#garbage += 1;
            if (this.#garbage > this.#maxGarbageBytes) {
              throw new VmsightError(
                'INVALID_INPUT',
                `GDB stub sent more than ${this.#maxGarbageBytes} bytes outside any packet`,
              );
            }
          }
          break;
        case State.Body:
          if (byte === CHECKSUM_MARK) {
            this.#state = State.Checksum1;
            this.#checksumText = '';
          } else if (byte === PACKET_START) {
            // A `$` cannot occur unescaped in a body: the previous packet was cut; start over.
            this.#body = [];
          } else {
            if (this.#body.length >= this.#maxPacketBytes) {
              throw new VmsightError(
                'LIMIT_EXCEEDED',
                `GDB packet is longer than ${this.#maxPacketBytes} bytes`,
              );
            }
            this.#body.push(byte);
          }
          break;
        case State.Checksum1:
        case State.Checksum2: {
          const char = String.fromCharCode(byte);
          if (!HEX.test(char)) {
            this.#state = State.Idle;
            this.#body = [];
            throw new VmsightError(
              'INVALID_INPUT',
              `GDB packet checksum holds the non-hex byte 0x${byte.toString(16)}`,
            );
          }
          this.#checksumText += char;
          if (this.#state === State.Checksum1) {
            this.#state = State.Checksum2;
            break;
          }
          this.#state = State.Idle;
          const body = Uint8Array.from(this.#body);
          const expected = Number.parseInt(this.#checksumText, 16);
          this.#checksumText = '';
          this.#body = [];
          const actual = gdbChecksum(body);
          if (expected !== actual) {
            frames.push({ type: 'bad-checksum', expected, actual });
          } else {
            frames.push({ type: this.#kind, payload: decodeGdbPayload(body) });
          }
          break;
        }
      }
    }
    return frames;
  }
}
