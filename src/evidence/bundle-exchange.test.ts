import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isVmsightError } from '../core/index.js';
import type { EvidenceItem } from './evidence-records.js';
import type { EvidenceLocker } from './evidence-locker.js';
import type { KeyStore } from './key-store.js';
import type { SqliteEvidenceStore } from './sqlite-evidence-store.js';
import { fakeCapture, openTestLocker, scratchDir } from './_test-support.js';

/** Offsets of the sealed chunks in a bundle file: [start, end) of each length-prefixed record. */
function chunkRecords(bundle: Buffer): [number, number][] {
  let offset = 7 + bundle.readUInt16BE(5);
  const records: [number, number][] = [];
  while (offset < bundle.length) {
    const end = offset + 4 + bundle.readUInt32BE(offset) + 16;
    records.push([offset, end]);
    offset = end;
  }
  return records;
}

void describe('Bundles: export to an analyst, import on the analyst side', () => {
  const scratch = scratchDir('bundle');
  type Party = { locker: EvidenceLocker; store: SqliteEvidenceStore; keys: KeyStore };
  let provider: Party;
  let analyst: Party;
  let stranger: Party;
  let item: EvidenceItem;
  let bundlePath = '';
  // Incompressible, so the bundle spans several 1 MiB chunks.
  const image = randomBytes(3 << 20);

  before(async () => {
    provider = await openTestLocker(join(scratch.path, 'provider'), 'provider');
    analyst = await openTestLocker(join(scratch.path, 'analyst'), 'analyst');
    stranger = await openTestLocker(join(scratch.path, 'stranger'), 'stranger');
    item = await provider.locker.acquire({
      subject: 'tenant-vm-7',
      caseId: 'case-9',
      reason: 'tenant report',
      capture: fakeCapture(image),
    });
    bundlePath = join(scratch.path, 'item.vmsb');
    await provider.locker.export(item.id, {
      recipientKey: analyst.keys.identity.encryptionKey,
      output: bundlePath,
      reason: 'independent analysis',
    });
  });
  after(() => {
    for (const party of [provider, analyst, stranger]) party.store.close();
    scratch.remove();
  });

  void it('records the export in the provider log and leaves no partial file', async () => {
    const events = await provider.store.getEvents(item.id);
    assert.deepEqual(
      events.map((event) => event.action),
      ['acquired', 'stored', 'exported'],
    );
    assert.equal(existsSync(`${bundlePath}.part-${process.pid}`), false);
    // The tenant's memory is not in the bundle in the clear.
    assert.equal(readFileSync(bundlePath).includes(image.subarray(0, 64)), false);
  });

  void it('imports, verifies every hash and signature, and records the receipt', async () => {
    const result = await analyst.locker.import(bundlePath, { reason: 'received by courier' });
    assert.equal(result.itemId, item.id);
    assert.equal(result.subject, 'tenant-vm-7');
    assert.equal(result.sender.name, 'provider');
    const events = await analyst.store.getEvents(item.id);
    assert.deepEqual(
      events.map((event) => [event.action, event.actor.name]),
      [
        ['acquired', 'provider'],
        ['stored', 'provider'],
        ['exported', 'provider'],
        ['received', 'analyst'],
      ],
    );
    const report = await analyst.locker.verify(item.id);
    assert.equal(report.ok, true, JSON.stringify(report.problem));
    assert.deepEqual(
      report.signers.map((signer) => signer.name),
      ['provider', 'analyst'],
    );
    assert.equal((await analyst.store.getItem(item.id))?.imageSha256, item.imageSha256);
    await assert.rejects(analyst.locker.import(bundlePath), (error) =>
      isVmsightError(error, 'INVALID_ARGUMENT'),
    );
  });

  void it('cannot be opened by another analyst', async () => {
    await assert.rejects(stranger.locker.import(bundlePath), (error: Error) => {
      assert.ok(isVmsightError(error, 'INVALID_INPUT'));
      assert.match(error.message, /is encrypted to key [0-9a-f]{32}, not to this key store's key/);
      return true;
    });
    // A header rewritten to name the stranger still cannot be decrypted by the stranger.
    const bytes = readFileSync(bundlePath);
    const headerLength = bytes.readUInt16BE(5);
    const header = JSON.parse(bytes.subarray(7, 7 + headerLength).toString()) as Record<
      string,
      unknown
    >;
    header['recipient'] = stranger.keys.identity.encryptionKey;
    const json = Buffer.from(JSON.stringify(header));
    const prefix = Buffer.from(bytes.subarray(0, 7));
    prefix.writeUInt16BE(json.length, 5);
    const forged = join(scratch.path, 'forged.vmsb');
    writeFileSync(forged, Buffer.concat([prefix, json, bytes.subarray(7 + headerLength)]));
    await assert.rejects(stranger.locker.import(forged), /chunk 0 does not authenticate/);
    assert.equal(await stranger.store.getItem(item.id), undefined);
  });

  void it('fails clearly when truncated, reordered or altered, and accepts nothing', async () => {
    const second = await openTestLocker(join(scratch.path, 'analyst-2'), 'analyst 2');
    const intact = join(scratch.path, 'for-analyst-2.vmsb');
    await provider.locker.export(item.id, {
      recipientKey: second.keys.identity.encryptionKey,
      output: intact,
    });
    const bytes = readFileSync(intact);
    const records = chunkRecords(bytes);
    assert.ok(records.length >= 3, `expected several chunks, got ${records.length}`);
    const [first, next] = records as [[number, number], [number, number]];
    const flipped = Buffer.from(bytes);
    flipped[next[0] + 100]! ^= 0x80;
    const cases: [string, Buffer, RegExp, string][] = [
      [
        'truncated at a chunk boundary',
        bytes.subarray(0, next[1]),
        /is truncated: it ends after chunk 1, which is not its final chunk/,
        'TRUNCATED_INPUT',
      ],
      [
        'truncated inside a chunk',
        bytes.subarray(0, next[1] - 100),
        /is truncated inside chunk 1/,
        'TRUNCATED_INPUT',
      ],
      [
        'truncated after the header',
        bytes.subarray(0, first[0]),
        /is truncated/,
        'TRUNCATED_INPUT',
      ],
      [
        'two chunks swapped',
        Buffer.concat([
          bytes.subarray(0, first[0]),
          bytes.subarray(...next),
          bytes.subarray(...first),
          bytes.subarray(next[1]),
        ]),
        /chunk 0 does not authenticate/,
        'INVALID_INPUT',
      ],
      ['one byte flipped', flipped, /chunk 1 does not authenticate/, 'INVALID_INPUT'],
    ];
    try {
      for (const [what, content, message, code] of cases) {
        const path = join(scratch.path, 'damaged.vmsb');
        writeFileSync(path, content);
        await assert.rejects(second.locker.import(path), (error: Error) => {
          assert.match(error.message, message, what);
          assert.equal((error as { code?: string }).code, code, what);
          return true;
        });
        assert.equal(await second.store.getItem(item.id), undefined, what);
      }
      const result = await second.locker.import(intact);
      assert.equal(result.itemId, item.id);
      assert.equal((await second.locker.verify(item.id)).ok, true);
    } finally {
      second.store.close();
    }
  });

  void it('pseudonymises the tenant: subject and case replaced, identity withheld, still verifiable', async () => {
    const other = await provider.locker.acquire({
      subject: 'tenant-vm-7',
      caseId: 'case-9',
      capture: fakeCapture(image.subarray(0, 1 << 20)),
    });
    const path = join(scratch.path, 'pseudo.vmsb');
    const exported = await provider.locker.export(other.id, {
      recipientKey: analyst.keys.identity.encryptionKey,
      output: path,
      pseudonymise: true,
    });
    assert.deepEqual(exported.withheld, ['vm-identity']);
    const result = await analyst.locker.import(path);
    assert.match(result.subject, /^subject-[0-9a-f]{16}$/);
    assert.match(result.caseId, /^case-[0-9a-f]{16}$/);
    const blobs = await analyst.store.getBlobs(other.id);
    assert.deepEqual(
      blobs.map((blob) => blob.role),
      ['memory-image', 'vm-config'],
    );
    const report = await analyst.locker.verify(other.id);
    assert.equal(report.ok, true, JSON.stringify(report.problem));
    assert.deepEqual(report.withheld, ['vm-identity']);
  });
});
