import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compress } from 'zstd-napi';
import { isVmsightError } from '../core/index.js';
import { byByte, collect, rejection } from './internal-test/test-support.js';
import { decompressIfZstd, isZstdFrame, readTraceFile } from './trace-file.js';

const text = 'line one\nline two\n'.repeat(1000);

async function readAll(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  return Buffer.concat(await collect(chunks)).toString('utf8');
}

test('isZstdFrame checks the RFC 8878 magic', () => {
  assert.equal(isZstdFrame(compress(Buffer.from('x'))), true);
  assert.equal(isZstdFrame(Buffer.from('{"format"')), false);
  assert.equal(isZstdFrame(new Uint8Array([0x28, 0xb5])), false);
});

test('plain input passes through, also when shorter than the magic', async () => {
  assert.equal(await readAll(decompressIfZstd(byByte(text), 'plain')), text);
  assert.equal(await readAll(decompressIfZstd(byByte('ab'), 'short')), 'ab');
  assert.equal(await readAll(decompressIfZstd(byByte(''), 'empty')), '');
});

test('zstd input is detected by content and decompressed, one byte per chunk', async () => {
  const packed = compress(Buffer.from(text));
  assert.equal(await readAll(decompressIfZstd(byByte(packed), 'packed')), text);
});

test('a file is detected as zstd whatever its name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmsight-trace-file-'));
  const path = join(dir, 'renamed.txt');
  writeFileSync(path, compress(Buffer.from(text)));
  assert.equal(await readAll(readTraceFile(path, { chunkBytes: 7 })), text);
});

test('truncated zstd data is INVALID_INPUT naming the source', async () => {
  const packed = compress(Buffer.from(text));
  const error = await rejection(
    readAll(decompressIfZstd(byByte(packed.subarray(0, packed.length - 5)), 'cut.zst')),
  );
  assert.ok(isVmsightError(error, 'INVALID_INPUT'), String(error));
  assert.match(error.message, /^Cannot decompress "cut\.zst": /);
});

test('a missing file is NOT_FOUND and a folder is IO_ERROR', async () => {
  const missing = await rejection(readAll(readTraceFile('/nonexistent/trace.jsonl')));
  assert.ok(isVmsightError(missing, 'NOT_FOUND'));
  assert.equal(missing.message, 'Cannot read "/nonexistent/trace.jsonl": no such file');
  const folder = await rejection(readAll(readTraceFile(tmpdir())));
  assert.ok(isVmsightError(folder, 'IO_ERROR'));
});
