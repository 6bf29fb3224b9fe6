import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ByteReader } from './byte-reader.js';

test('reads each width in the byte order its name says', () => {
  const bytes = new Uint8Array([
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
  ]);
  const reader = new ByteReader(bytes);
  assert.equal(reader.u8(), 0x01);
  assert.equal(reader.u16le(), 0x0302);
  assert.equal(reader.u8(), 0x04);
  assert.equal(reader.u32be(), 0x05060708);
  assert.equal(reader.u64le(), 0x100f0e0d0c0b0a09n);
  assert.equal(reader.remaining, 0);
  reader.seek(0);
  assert.equal(reader.u64be(), 0x0102030405060708n);
  reader.seek(0);
  assert.equal(reader.u16be(), 0x0102);
  assert.equal(reader.u32le(), 0x06050403);
});

test('64-bit values keep every bit of kernel addresses', () => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, 0xffffffff82a1aa40n, true);
  assert.equal(new ByteReader(bytes).u64le(), 0xffffffff82a1aa40n);
  new DataView(bytes.buffer).setBigInt64(0, -2n, true);
  assert.equal(new ByteReader(bytes).i64le(), -2n);
});

test('reading past the end throws RangeError and does not move the cursor', () => {
  const reader = new ByteReader(new Uint8Array([1, 2, 3]));
  reader.u16le();
  assert.throws(() => reader.u16le(), RangeError);
  assert.equal(reader.offset, 2);
  assert.throws(() => reader.bytesView(2), /only 1 remain/);
  assert.throws(() => reader.seek(4), RangeError);
  assert.throws(() => reader.skip(-1), RangeError);
});

test('respects the view of a subarray rather than its whole buffer', () => {
  const backing = new Uint8Array([0xaa, 0x01, 0x00, 0xbb]);
  const reader = new ByteReader(backing.subarray(1, 3));
  assert.equal(reader.u16le(), 1);
  assert.throws(() => reader.u8(), RangeError);
});

test('cstring stops at NUL and refuses an unterminated string', () => {
  const reader = new ByteReader(new TextEncoder().encode('swapper/0\0rest'));
  assert.equal(reader.cstring(16), 'swapper/0');
  assert.equal(reader.offset, 10);
  assert.throws(() => reader.cstring(16), /no NUL terminator within 4 bytes/);
  const long = new ByteReader(new Uint8Array(64).fill(0x41));
  assert.throws(() => long.cstring(16), /within 16 bytes/);
});

test('any sequence of reads either succeeds within bounds or throws RangeError', () => {
  const widths = [1, 2, 4, 8] as const;
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 64 }),
      fc.array(fc.constantFrom(...widths), { maxLength: 40 }),
      (bytes, reads) => {
        const reader = new ByteReader(bytes);
        for (const width of reads) {
          const before = reader.offset;
          try {
            if (width === 1) reader.u8();
            else if (width === 2) reader.u16le();
            else if (width === 4) reader.u32be();
            else reader.u64le();
            assert.equal(reader.offset, before + width);
          } catch (error) {
            assert.ok(error instanceof RangeError);
            assert.ok(before + width > bytes.length);
            assert.equal(reader.offset, before);
          }
        }
      },
    ),
  );
});
