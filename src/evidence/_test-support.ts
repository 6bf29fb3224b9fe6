import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from './blob-store.js';
import { signCustodyEvent } from './custody-event.js';
import { EvidenceLocker, type AcquireOptions } from './evidence-locker.js';
import type { CustodyEvent, EvidenceItem, ItemBlob } from './evidence-records.js';
import { KeyStore } from './key-store.js';
import { SqliteEvidenceStore } from './sqlite-evidence-store.js';

/** A temporary directory removed by `remove()`; tests call it in `after`. */
export function scratchDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `vmsight-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function newTestKeys(dir: string, name = 'tester'): Promise<KeyStore> {
  return KeyStore.init(join(dir, 'keys'), { name });
}

export function sampleItem(id: string, overrides: Partial<EvidenceItem> = {}): EvidenceItem {
  return {
    id,
    caseId: 'case-1',
    kind: 'memory',
    status: 'acquiring',
    origin: 'acquired',
    subject: 'vm-a',
    createdAt: '2026-11-22T03:00:00.000Z',
    ownerPid: 4242,
    ownerHost: 'hv1',
    ...overrides,
  };
}

export const sampleBlob: ItemBlob = {
  role: 'memory-image',
  sha256: 'a'.repeat(64),
  size: 10,
  encoding: 'zstd',
  contentSha256: 'b'.repeat(64),
  contentSize: 100,
};

/** A valid chain of `count` events for `itemId`, the first `acquired`, the second `stored`. */
export function sampleChain(
  keys: KeyStore,
  itemId: string,
  count: number,
  from: CustodyEvent | undefined = undefined,
): CustodyEvent[] {
  const events: CustodyEvent[] = [];
  let last = from;
  const actions = ['acquired', 'stored', 'verified'] as const;
  for (let i = 0; i < count; i++) {
    const seq = (last?.seq ?? 0) + 1;
    const event = signCustodyEvent(keys, {
      itemId,
      seq,
      prevHash: last?.hash ?? '0'.repeat(64),
      action: actions[Math.min(seq - 1, 2)] ?? 'verified',
      reason: 'test',
      host: 'hv1',
      details: seq === 2 ? { blobs: [{ ...sampleBlob }] } : { n: seq },
    });
    events.push(event);
    last = event;
  }
  return events;
}

/** A locker on disk (SQLite + blobs + keys) under `dir`, with a deterministic fake image source. */
export async function openTestLocker(
  dir: string,
  name: string,
): Promise<{ locker: EvidenceLocker; store: SqliteEvidenceStore; keys: KeyStore; dbPath: string }> {
  const keys = await KeyStore.init(join(dir, 'keys'), { name });
  const dbPath = join(dir, 'evidence.db');
  const store = SqliteEvidenceStore.open(dbPath);
  const locker = new EvidenceLocker({
    store,
    blobs: new BlobStore(join(dir, 'blobs')),
    keys,
    tool: { name: 'vmsight', version: 'test' },
    host: 'hv-test',
  });
  return { locker, store, keys, dbPath };
}

/** `bytes` of image: the first half random (incompressible), the rest zeros, in 64 KiB chunks. */
export function fakeImage(bytes: number): Buffer {
  const image = Buffer.alloc(bytes);
  randomFillSync(image, 0, Math.floor(bytes / 2));
  return image;
}

/** A capture function that streams `image` like the QMP capture does. */
export function fakeCapture(image: Buffer): AcquireOptions['capture'] {
  return async (sink) => {
    const chunks = function* (): Generator<Buffer> {
      for (let offset = 0; offset < image.length; offset += 65536) {
        yield image.subarray(offset, offset + 65536);
      }
    };
    const startedAt = new Date().toISOString();
    await sink(chunks(), image.length);
    return {
      identity: { vm: 'vm-a', 'query-uuid': { UUID: '0000-1111' } },
      config: { 'query-version': { qemu: { major: 7, minor: 2, micro: 22 } } },
      method: { command: 'fake' },
      startedAt,
      finishedAt: new Date().toISOString(),
    };
  };
}
