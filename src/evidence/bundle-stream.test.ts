import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { isVmsightError } from '../core/index.js';
import { openBundle } from './bundle-reader.js';
import { writeBundle } from './bundle-writer.js';
import { KeyStore } from './key-store.js';
import { scratchDir } from './_test-support.js';

/** Reads a whole bundle's plaintext, or throws what the reader throws. */
async function readAll(path: string, keys: KeyStore): Promise<Buffer> {
  const bundle = await openBundle(path, keys.identity.encryptionKey, (peer) => keys.agree(peer));
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of bundle.plaintext) chunks.push(chunk);
    return Buffer.concat(chunks);
  } finally {
    await bundle.close();
  }
}

void describe('bundle stream (AES-256-GCM chunks)', () => {
  const scratch = scratchDir('bundle-stream');
  after(() => scratch.remove());

  void it('round-trips any content over any chunk size, and rejects every truncation and bit flip', async () => {
    const keys = await KeyStore.init(join(scratch.path, 'keys'), { name: 'analyst' });
    const path = join(scratch.path, 'b.vmsb');
    const damaged = join(scratch.path, 'd.vmsb');
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 600 }),
        fc.integer({ min: 1, max: 97 }),
        fc.nat(),
        fc.nat(),
        async (blob, chunkSize, cut, flip) => {
          rmSync(path, { force: true });
          await writeBundle(
            path,
            keys.identity.encryptionKey,
            {
              manifest: '{"m":1}',
              signature: 'sig',
              parts: [{ size: blob.length, open: () => Promise.resolve([blob]) }],
            },
            { chunkSize },
          );
          const plaintext = await readAll(path, keys);
          assert.deepEqual(plaintext.subarray(plaintext.length - blob.length), Buffer.from(blob));
          const bytes = readFileSync(path);
          const codes = ['TRUNCATED_INPUT', 'INVALID_INPUT', 'LIMIT_EXCEEDED'] as const;
          writeFileSync(damaged, bytes.subarray(0, cut % bytes.length));
          await assert.rejects(readAll(damaged, keys), (error) =>
            codes.some((code) => isVmsightError(error, code)),
          );
          const flipped = Buffer.from(bytes);
          const at = flip % bytes.length;
          flipped[at] = (flipped[at] ?? 0) ^ (1 << (flip % 8));
          writeFileSync(damaged, flipped);
          await assert.rejects(readAll(damaged, keys), (error) =>
            codes.some((code) => isVmsightError(error, code)),
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  void it('uses a fresh key per bundle: the same content never gives the same bytes', async () => {
    const keys = await KeyStore.init(join(scratch.path, 'keys-2'), { name: 'analyst' });
    const content = randomBytes(1000);
    const files = ['x.vmsb', 'y.vmsb'].map((name) => join(scratch.path, name));
    for (const file of files) {
      await writeBundle(file, keys.identity.encryptionKey, {
        manifest: '{}',
        signature: '',
        parts: [{ size: content.length, open: () => Promise.resolve([content]) }],
      });
    }
    const [x, y] = files.map((file) => readFileSync(file));
    assert.notDeepEqual(x, y);
    assert.equal(x?.includes(content.subarray(0, 32)), false);
  });
});
