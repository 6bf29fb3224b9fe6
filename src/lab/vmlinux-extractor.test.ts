import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isVmsightError } from '../core/index.js';
import { buildTestElf } from '../layers/internal.js';
import { extractVmlinux, findBzImagePayload } from './vmlinux-extractor.js';

const dir = mkdtempSync(join(tmpdir(), 'vmsight-bz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A bzImage-shaped file: 2 setup sectors (setup_sects = 1), then the payload at payload_offset 16. */
function bzImage(compressed: Uint8Array, decompressedSize: number): Buffer {
  const setup = Buffer.alloc(1024);
  setup[0x1f1] = 1;
  setup.write('HdrS', 0x202, 'latin1');
  setup.writeUInt16LE(0x020f, 0x206);
  setup.writeUInt32LE(16, 0x248);
  setup.writeUInt32LE(compressed.length + 4, 0x24c);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(decompressedSize);
  return Buffer.concat([setup, Buffer.alloc(16), compressed, size, Buffer.alloc(100)]);
}

void describe('vmlinux extraction', () => {
  const vmlinux = buildTestElf({ '.text': 'kernel', '.BTF': 'types' });

  void it('finds the payload from the setup header and decompresses it with the host tool', async () => {
    const image = bzImage(gzipSync(vmlinux), vmlinux.length);
    const payload = findBzImagePayload(image);
    assert.equal(payload.format.name, 'gzip');
    assert.equal(payload.decompressedSize, vmlinux.length);
    const path = join(dir, 'bzImage');
    writeFileSync(path, image);
    const sections = await extractVmlinux(path, join(dir, 'vmlinux'));
    assert.ok(sections.includes('.BTF'));
    assert.deepEqual(readFileSync(join(dir, 'vmlinux')), vmlinux);
  });

  void it('rejects a payload whose size disagrees with the trailer', async () => {
    const path = join(dir, 'bzImage-bad-size');
    writeFileSync(path, bzImage(gzipSync(vmlinux), vmlinux.length + 1));
    await assert.rejects(extractVmlinux(path, join(dir, 'out')), (e) =>
      isVmsightError(e, 'INVALID_INPUT'),
    );
  });

  void it('rejects files without a boot header, unknown compression and out-of-range payloads', () => {
    const bad = (e: unknown): boolean => isVmsightError(e, 'INVALID_INPUT');
    assert.throws(() => findBzImagePayload(Buffer.alloc(2048)), bad);
    assert.throws(
      () => findBzImagePayload(bzImage(Buffer.from('BZh91AY&SY'), 10)),
      /unsupported payload compression/,
    );
    const truncated = bzImage(gzipSync(vmlinux), vmlinux.length);
    truncated.writeUInt32LE(1 << 30, 0x24c);
    assert.throws(() => findBzImagePayload(truncated), bad);
    assert.throws(() => findBzImagePayload(Buffer.alloc(100)), bad);
  });
});
