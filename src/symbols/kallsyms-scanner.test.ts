import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BytesLayer } from '../layers/index.js';
import { decodeKallsyms } from './kallsyms-decoder.js';
import { scanKallsymsTables } from './kallsyms-scanner.js';

const RELATIVE_BASE = 0xffff_ffff_8100_0000n;
const token = (i: number): string => `t${i}`;
const align8 = (n: number): number => (n + 7) & ~7;

/**
 * Synthetic kallsyms tables laid out as scripts/kallsyms.c of 6.1 writes them (each label aligned
 * to 8), at `at` in a zeroed buffer; with `seqs`, a kallsyms_seqs_of_names table (3 bytes per
 * symbol) sits between the markers and the token table, as in Debian's 6.1.
 */
function tables(count: number, seqs: boolean, at = 0x1000) {
  const bytes = Buffer.alloc(at + count * 16 + 64 * 1024);
  let position = at;
  const offsets = position;
  for (let k = 0; k < count; k += 1) bytes.writeInt32LE(-(16 * k + 1), offsets + 4 * k);
  position = align8(offsets + 4 * count);
  const relativeBase = position;
  bytes.writeBigUInt64LE(RELATIVE_BASE, relativeBase);
  bytes.writeUInt32LE(count, relativeBase + 8);
  const names = relativeBase + 16;
  position = names;
  const markers: number[] = [];
  for (let k = 0; k < count; k += 1) {
    if (k % 256 === 0) markers.push(position - names);
    bytes[position] = 2;
    bytes[position + 1] = k % 256;
    bytes[position + 2] = (k * 7) % 256;
    position += 3;
  }
  position = align8(position);
  const markerStart = position;
  markers.forEach((m, i) => bytes.writeUInt32LE(m, markerStart + 4 * i));
  position = align8(markerStart + 4 * markers.length);
  if (seqs) position = align8(position + 3 * count);
  const tokenTable = position;
  const index: number[] = [];
  for (let i = 0; i < 256; i += 1) {
    index.push(position - tokenTable);
    position += bytes.write(token(i), position, 'latin1') + 1;
  }
  const tokenIndex = align8(position);
  index.forEach((v, i) => bytes.writeUInt16LE(v, tokenIndex + 2 * i));
  const expected = Array.from({ length: count }, (_, k) => {
    const text = token(k % 256) + token((k * 7) % 256);
    return { name: text.slice(1), type: text[0], address: RELATIVE_BASE + 16n * BigInt(k) };
  });
  const where = { offsets, relativeBase, numSyms: relativeBase + 8, names, tokenTable, tokenIndex };
  return { bytes, expected, where, markerStart };
}

void describe('scanKallsymsTables', () => {
  for (const seqs of [false, true]) {
    void it(`finds the tables by structure${seqs ? ' past kallsyms_seqs_of_names' : ''}`, () => {
      const { bytes, expected, where } = tables(1000, seqs);
      const layer = new BytesLayer(bytes, 0x100_0000n);
      const found = scanKallsymsTables(layer);
      assert.ok(found !== undefined);
      assert.equal(found.numSyms, 1000);
      const base = 0x100_0000n;
      assert.deepEqual(found.tables, {
        names: base + BigInt(where.names),
        numSyms: base + BigInt(where.numSyms),
        tokenTable: base + BigInt(where.tokenTable),
        tokenIndex: base + BigInt(where.tokenIndex),
        offsets: base + BigInt(where.offsets),
        relativeBase: base + BigInt(where.relativeBase),
      });
      const decoded = decodeKallsyms((pa, n) => layer.read(pa, n), found.tables);
      assert.deepEqual(decoded, expected);
    });
  }

  void it('rejects tables whose markers do not match the names, without throwing', () => {
    const { bytes, markerStart } = tables(1000, false);
    bytes.writeUInt32LE(bytes.readUInt32LE(markerStart + 4) + 8, markerStart + 4);
    assert.equal(scanKallsymsTables(new BytesLayer(bytes)), undefined);
  });

  void it('examines at most maxCandidates token tables', () => {
    const broken = tables(1000, false);
    broken.bytes.writeUInt32LE(12345, broken.markerStart + 4);
    const both = Buffer.concat([broken.bytes, tables(1000, false).bytes]);
    assert.ok(scanKallsymsTables(new BytesLayer(both)) !== undefined);
    assert.equal(scanKallsymsTables(new BytesLayer(both), { maxCandidates: 1 }), undefined);
  });

  void it('stays bounded on memory full of index-like runs and on absurd counts', () => {
    // Every 8 bytes a plausible kallsyms_token_index start: 0, 2, 4, ... with no table behind it.
    const bytes = Buffer.alloc(4 * 1024 * 1024);
    for (let at = 0; at + 8 <= bytes.length; at += 8) {
      bytes.writeUInt16LE(0, at);
      bytes.writeUInt16LE(2, at + 2);
      bytes.writeUInt16LE(4, at + 4);
      bytes.writeUInt16LE(6, at + 6);
    }
    const started = Date.now();
    assert.equal(scanKallsymsTables(new BytesLayer(bytes)), undefined);
    assert.ok(Date.now() - started < 20_000, `${Date.now() - started} ms`);
    // A kallsyms_num_syms past what the markers allow is no match.
    const { bytes: tampered, where } = tables(1000, false);
    tampered.writeUInt32LE(0x7fff_ffff, where.numSyms);
    assert.equal(scanKallsymsTables(new BytesLayer(tampered)), undefined);
  });
});
