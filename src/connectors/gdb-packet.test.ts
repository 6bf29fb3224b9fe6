import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VmsightError, isVmsightError } from '../core/index.js';
import { decodeGdbPayload, encodeGdbPacket, gdbChecksum } from './gdb-packet.js';
import { GdbFramer, type GdbFrame } from './gdb-framer.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const body = (packet: Uint8Array): Uint8Array => packet.subarray(1, packet.length - 3);

void describe('GDB packet coding', () => {
  void it('frames with the modulo-256 checksum (GDB manual examples)', () => {
    assert.equal(text(encodeGdbPacket('g')), '$g#67');
    assert.equal(text(encodeGdbPacket('?')), '$?#3f');
    assert.equal(text(encodeGdbPacket('')), '$#00');
    assert.equal(gdbChecksum(Buffer.from('OK')), 0x9a);
  });

  void it('escapes $ # } * so that binary payloads survive', () => {
    const payload = Uint8Array.of(0x24, 0x23, 0x7d, 0x2a, 0x00, 0xff);
    const packet = encodeGdbPacket(payload);
    assert.equal(text(packet).slice(0, 9), '$}\x04}\x03}]}\x0a');
    assert.deepEqual(decodeGdbPayload(body(packet)), payload);
  });

  void it('decodes run lengths: X*N repeats X (N - 29) more times', () => {
    assert.equal(text(decodeGdbPayload(Buffer.from('0* '))), '0000');
    assert.equal(text(decodeGdbPayload(Buffer.from('a*"b'))), 'aaaaaab');
    assert.throws(
      () => decodeGdbPayload(Buffer.from('*"')),
      (e: unknown) => isVmsightError(e, 'INVALID_INPUT'),
    );
    assert.throws(
      () => decodeGdbPayload(Buffer.from('a*')),
      (e: unknown) => isVmsightError(e, 'INVALID_INPUT'),
    );
    assert.throws(
      () => decodeGdbPayload(Buffer.from('a}')),
      (e: unknown) => isVmsightError(e, 'INVALID_INPUT'),
    );
    assert.throws(
      () => decodeGdbPayload(Buffer.from('0*~'.repeat(20)), 100),
      (e: unknown) => isVmsightError(e, 'LIMIT_EXCEEDED'),
    );
  });

  void it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (payload) => {
        assert.deepEqual(decodeGdbPayload(body(encodeGdbPacket(payload))), payload);
      }),
    );
  });
});

void describe('GdbFramer', () => {
  const stream = Buffer.concat([
    Buffer.from('+'),
    encodeGdbPacket('T05thread:p01.01;'),
    Buffer.from('-'),
    encodeGdbPacket(Uint8Array.of(0x23, 0x24, 0x7d, 0x2a, 0)),
    Buffer.from('$0* #'),
    Buffer.from(gdbChecksum(Buffer.from('0* ')).toString(16).padStart(2, '0')),
    Buffer.from('%Stop:T05#'),
    Buffer.from(gdbChecksum(Buffer.from('Stop:T05')).toString(16).padStart(2, '0')),
  ]);
  const expected: GdbFrame[] = [
    { type: 'ack' },
    { type: 'packet', payload: Buffer.from('T05thread:p01.01;') },
    { type: 'nack' },
    { type: 'packet', payload: Uint8Array.of(0x23, 0x24, 0x7d, 0x2a, 0) },
    { type: 'packet', payload: Buffer.from('0000') },
    { type: 'notification', payload: Buffer.from('Stop:T05') },
  ];
  const normalise = (frames: GdbFrame[]): unknown[] =>
    frames.map((f) => ('payload' in f ? { ...f, payload: [...f.payload] } : f));

  void it('gives the same frames byte at a time as in one chunk', () => {
    const whole = new GdbFramer().push(stream);
    const framer = new GdbFramer();
    const byByte = [...stream].flatMap((byte) => framer.push(Uint8Array.of(byte)));
    assert.deepEqual(normalise(whole), normalise(expected));
    assert.deepEqual(normalise(byByte), normalise(expected));
  });

  void it('gives the same frames for any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 10 }),
        (cuts) => {
          const framer = new GdbFramer();
          const points = [...new Set(cuts)].sort((a, b) => a - b);
          const frames: GdbFrame[] = [];
          let start = 0;
          for (const point of [...points, stream.length]) {
            frames.push(...framer.push(stream.subarray(start, point)));
            start = point;
          }
          assert.deepEqual(normalise(frames), normalise(expected));
        },
      ),
    );
  });

  void it('reports a bad checksum as a frame, and need-more-bytes as state', () => {
    const framer = new GdbFramer();
    assert.deepEqual(framer.push(Buffer.from('$OK#00')), [
      { type: 'bad-checksum', expected: 0, actual: 0x9a },
    ]);
    assert.deepEqual(framer.push(Buffer.from('$O')), []);
    assert.equal(framer.inPacket, true);
    assert.deepEqual(normalise(framer.push(Buffer.from('K#9a'))), [
      { type: 'packet', payload: [0x4f, 0x4b] },
    ]);
    assert.equal(framer.inPacket, false);
  });

  void it('throws on garbage floods, oversized packets and non-hex checksums', () => {
    assert.throws(
      () => new GdbFramer({ maxGarbageBytes: 10 }).push(Buffer.alloc(11, 0x41)),
      (e: unknown) => isVmsightError(e, 'INVALID_INPUT'),
    );
    assert.throws(
      () => new GdbFramer({ maxPacketBytes: 10 }).push(Buffer.from(`$${'a'.repeat(11)}`)),
      (e: unknown) => isVmsightError(e, 'LIMIT_EXCEEDED'),
    );
    assert.throws(
      () => new GdbFramer().push(Buffer.from('$OK#zz')),
      (e: unknown) => isVmsightError(e, 'INVALID_INPUT'),
    );
  });

  void it('never throws anything but VmsightError on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), (bytes) => {
        try {
          new GdbFramer().push(bytes);
        } catch (error) {
          assert.ok(error instanceof VmsightError, String(error));
        }
      }),
      { numRuns: 500 },
    );
  });
});
