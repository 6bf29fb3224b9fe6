// One conformance suite for every PhysicalLayer (STYLE.md habit 4): the same guest memory (two
// ranges with a hole between) served by each implementation must read the same.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { isVmsightError } from '../core/index.js';
import { buildElfCore } from './_elf-core-builder.js';
import { BytesLayer } from './bytes-layer.js';
import { openElfCore } from './elf-core-layer.js';
import { InvalidAddressError } from './invalid-address-error.js';
import { LIME_MAGIC, openLimeLayer } from './lime-layer.js';
import type { PhysicalLayer } from './physical-layer.js';
import { openRawLayer } from './raw-layer.js';
import { SegmentedLayer } from './segmented-layer.js';
import { FileSource } from './file-source.js';

const LOW = {
  start: 0x1000n,
  bytes: Uint8Array.from({ length: 0x3000 }, (_, i) => (i * 13) & 0xff),
};
const HIGH = {
  start: 0x8000n,
  bytes: Uint8Array.from({ length: 0x2000 }, (_, i) => (i * 7 + 1) & 0xff),
};
const END = 0xa000n;

/** The expected byte at `address`, or undefined in a hole. */
function expected(address: bigint): number | undefined {
  for (const range of [LOW, HIGH]) {
    if (address >= range.start && address < range.start + BigInt(range.bytes.length)) {
      return range.bytes[Number(address - range.start)];
    }
  }
  return undefined;
}

function limeFile(): Buffer {
  return Buffer.concat(
    [LOW, HIGH].map((range) => {
      const header = Buffer.alloc(32);
      header.writeUInt32LE(LIME_MAGIC, 0);
      header.writeUInt32LE(1, 4);
      header.writeBigUInt64LE(range.start, 8);
      header.writeBigUInt64LE(range.start + BigInt(range.bytes.length) - 1n, 16);
      return Buffer.concat([header, range.bytes]);
    }),
  );
}

type Factory = (dir: string) => PhysicalLayer;

const IMPLEMENTATIONS: Record<string, Factory> = {
  'elf-core': (dir) => {
    const path = join(dir, 'c.elf');
    writeFileSync(
      path,
      buildElfCore({ loads: [LOW, HIGH].map((r) => ({ paddr: r.start, bytes: r.bytes })) }),
    );
    return openElfCore(path, { cache: { blockSize: 4096, maxBlocks: 2 } }).layer;
  },
  lime: (dir) => {
    const path = join(dir, 'c.lime');
    writeFileSync(path, limeFile());
    return openLimeLayer(path);
  },
  'segmented raw file': (dir) => {
    // A raw image with the hole as zeros, restricted to the two ranges by segments.
    const path = join(dir, 'c.raw');
    const flat = new Uint8Array(Number(END));
    flat.set(LOW.bytes, Number(LOW.start));
    flat.set(HIGH.bytes, Number(HIGH.start));
    writeFileSync(path, flat);
    return new SegmentedLayer('raw', new FileSource(path, { cache: false }), [
      { start: LOW.start, length: BigInt(LOW.bytes.length), fileOffset: LOW.start },
      { start: HIGH.start, length: BigInt(HIGH.bytes.length), fileOffset: HIGH.start },
    ]);
  },
};

for (const [name, open] of Object.entries(IMPLEMENTATIONS)) {
  void describe(`PhysicalLayer contract: ${name}`, () => {
    let dir = '';
    let layer: PhysicalLayer;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'vmsight-contract-'));
      layer = open(dir);
    });
    after(() => {
      layer.close();
      rmSync(dir, { recursive: true, force: true });
    });

    void it('lists its ranges sorted and without overlap', () => {
      assert.deepEqual(
        layer.ranges.map((r) => [r.start, r.length]),
        [
          [LOW.start, BigInt(LOW.bytes.length)],
          [HIGH.start, BigInt(HIGH.bytes.length)],
        ],
      );
    });

    void it('reads what was stored, throws INVALID_ADDRESS naming the first hole byte, or fills it', () => {
      fc.assert(
        fc.property(
          fc.bigInt({ min: 0n, max: END }),
          fc.integer({ min: 0, max: 0x2100 }),
          (address, length) => {
            const want = Array.from({ length }, (_, i) => expected(address + BigInt(i)));
            const firstHole = want.findIndex((b) => b === undefined);
            assert.equal(layer.isValid(address, length), firstHole < 0);
            const filled = layer.read(address, length, { fillHoles: true });
            assert.deepEqual(
              [...filled],
              want.map((b) => b ?? 0),
            );
            if (firstHole < 0) {
              assert.deepEqual([...layer.read(address, length)], want);
            } else {
              assert.throws(
                () => layer.read(address, length),
                (error: unknown) =>
                  error instanceof InvalidAddressError &&
                  isVmsightError(error, 'INVALID_ADDRESS') &&
                  error.address === address + BigInt(firstHole),
              );
            }
          },
        ),
        { numRuns: 200 },
      );
    });
  });
}

void describe('PhysicalLayer contract: raw (flat file) and bytes', () => {
  void it('serve a flat image, holes only past the end', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmsight-contract-'));
    try {
      const flat = Uint8Array.from({ length: 0x3000 }, (_, i) => i & 0xff);
      writeFileSync(join(dir, 'flat.raw'), flat);
      for (const layer of [openRawLayer(join(dir, 'flat.raw')), new BytesLayer(flat)]) {
        assert.deepEqual(layer.read(0xff0n, 0x20), flat.slice(0xff0, 0x1010));
        assert.throws(
          () => layer.read(0x2ff0n, 0x20),
          (e: unknown) => e instanceof InvalidAddressError && e.address === 0x3000n,
        );
        assert.deepEqual([...layer.read(0x2ffen, 4, { fillHoles: true })], [0xfe, 0xff, 0, 0]);
        layer.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
