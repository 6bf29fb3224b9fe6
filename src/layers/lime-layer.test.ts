import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVmsightError } from '../core/index.js';
import { LIME_MAGIC, openLimeLayer } from './lime-layer.js';

function limeRange(start: bigint, bytes: Uint8Array, magic = LIME_MAGIC): Buffer {
  const header = Buffer.alloc(32);
  header.writeUInt32LE(magic, 0);
  header.writeUInt32LE(1, 4);
  header.writeBigUInt64LE(start, 8);
  header.writeBigUInt64LE(start + BigInt(bytes.length) - 1n, 16);
  return Buffer.concat([header, bytes]);
}

void describe('openLimeLayer', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmsight-lime-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const a = Uint8Array.from({ length: 0x1000 }, (_, i) => i & 0xff);
  const b = Uint8Array.from({ length: 0x800 }, (_, i) => 0xff - (i & 0xff));
  const file = (): Buffer => Buffer.concat([limeRange(0n, a), limeRange(0x100000n, b)]);

  void it('maps each range header to its bytes (inclusive end address)', () => {
    const path = join(dir, 'ok.lime');
    writeFileSync(path, file());
    const layer = openLimeLayer(path);
    assert.deepEqual(
      layer.ranges.map((r) => [r.start, r.length, r.fileOffset]),
      [
        [0n, 0x1000n, 32n],
        [0x100000n, 0x800n, 32n + 0x1000n + 32n],
      ],
    );
    assert.deepEqual(layer.read(0xffen, 2), a.slice(0xffe));
    assert.deepEqual(layer.read(0x1007fen, 2), b.slice(0x7fe));
    assert.throws(
      () => layer.read(0x1000n, 1),
      (e: unknown) => isVmsightError(e, 'INVALID_ADDRESS'),
    );
    layer.close();
  });

  void it('rejects a bad magic, a truncated header and a range past the end', () => {
    const bad = join(dir, 'bad.lime');
    writeFileSync(bad, Buffer.concat([limeRange(0n, a), limeRange(0x100000n, b, 0x12345678)]));
    assert.throws(
      () => openLimeLayer(bad),
      (e: unknown) => isVmsightError(e, 'INVALID_INPUT') && /0x12345678/.test((e as Error).message),
    );
    const cutHeader = join(dir, 'cut-header.lime');
    writeFileSync(cutHeader, file().subarray(0, 0x1000 + 32 + 10));
    assert.throws(
      () => openLimeLayer(cutHeader),
      (e: unknown) => isVmsightError(e, 'TRUNCATED_INPUT'),
    );
    const cutData = join(dir, 'cut-data.lime');
    writeFileSync(cutData, file().subarray(0, file().length - 1));
    assert.throws(
      () => openLimeLayer(cutData),
      (e: unknown) => isVmsightError(e, 'TRUNCATED_INPUT'),
    );
  });
});
