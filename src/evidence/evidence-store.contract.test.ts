import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { isVmsightError } from '../core/index.js';
import type { EvidenceStore } from './evidence-store.js';
import type { KeyStore } from './key-store.js';
import { MemoryEvidenceStore } from './memory-evidence-store.js';
import { SqliteEvidenceStore } from './sqlite-evidence-store.js';
import { newTestKeys, sampleBlob, sampleChain, sampleItem, scratchDir } from './_test-support.js';

/** The `EvidenceStore` contract (evidence-store.ts), run against every implementation. */
function runStoreContract(name: string, newStore: (dir: string) => EvidenceStore): void {
  void describe(`EvidenceStore contract: ${name}`, () => {
    const scratch = scratchDir('store');
    let keys: KeyStore;
    let n = 0;
    const fresh = async (): Promise<EvidenceStore> => {
      n += 1;
      const store = newStore(join(scratch.path, `db-${n}`));
      await store.ensureCase({ id: 'case-1', createdAt: '2026-11-22T00:00:00.000Z' });
      return store;
    };
    before(async () => {
      keys = await newTestKeys(scratch.path);
    });
    after(() => scratch.remove());

    void it('records cases once', async () => {
      const store = await fresh();
      await store.ensureCase({ id: 'case-1', createdAt: 'later' });
      assert.equal((await store.getCase('case-1'))?.createdAt, '2026-11-22T00:00:00.000Z');
      assert.equal(await store.getCase('nope'), undefined);
      store.close();
    });

    void it('completes an acquiring item with its blobs and events atomically', async () => {
      const store = await fresh();
      await store.beginItem(sampleItem('ev-1'));
      assert.equal((await store.getItem('ev-1'))?.status, 'acquiring');
      assert.deepEqual(await store.getEvents('ev-1'), []);
      const events = sampleChain(keys, 'ev-1', 2);
      await store.completeItem({
        itemId: 'ev-1',
        completedAt: '2026-11-22T03:01:00.000Z',
        imageSha256: sampleBlob.contentSha256,
        imageSize: 100,
        blobs: [sampleBlob],
        events,
      });
      const item = await store.getItem('ev-1');
      assert.equal(item?.status, 'complete');
      assert.equal(item?.imageSize, 100);
      assert.deepEqual(await store.getBlobs('ev-1'), [sampleBlob]);
      assert.deepEqual(await store.getEvents('ev-1'), events);
      assert.deepEqual([...(await store.referencedBlobs())], [sampleBlob.sha256]);
      store.close();
    });

    void it('leaves an item acquiring when its completion is refused', async () => {
      const store = await fresh();
      await store.beginItem(sampleItem('ev-2'));
      const events = sampleChain(keys, 'ev-2', 2);
      await assert.rejects(
        store.completeItem({
          itemId: 'ev-2',
          completedAt: 'x',
          imageSha256: 'x',
          imageSize: 1,
          blobs: [sampleBlob],
          events: [events[1]!],
        }),
        (error) => isVmsightError(error, 'INVALID_ARGUMENT'),
      );
      assert.equal((await store.getItem('ev-2'))?.status, 'acquiring');
      assert.deepEqual(await store.getBlobs('ev-2'), []);
      assert.deepEqual(await store.getEvents('ev-2'), []);
      store.close();
    });

    void it('refuses duplicate ids, unknown cases and completing twice', async () => {
      const store = await fresh();
      await store.beginItem(sampleItem('ev-3'));
      await assert.rejects(store.beginItem(sampleItem('ev-3')), (e) =>
        isVmsightError(e, 'INVALID_ARGUMENT'),
      );
      await assert.rejects(store.beginItem(sampleItem('ev-4', { caseId: 'nope' })), (e) =>
        isVmsightError(e, 'NOT_FOUND'),
      );
      await store.failItem('ev-3', 'disk full');
      const failed = await store.getItem('ev-3');
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.failure, 'disk full');
      await assert.rejects(
        store.completeItem({
          itemId: 'ev-3',
          completedAt: 'x',
          imageSha256: 'x',
          imageSize: 1,
          blobs: [],
          events: sampleChain(keys, 'ev-3', 1),
        }),
        (e) => isVmsightError(e, 'INVALID_ARGUMENT'),
      );
      await assert.rejects(store.failItem('missing', 'x'), (e) => isVmsightError(e, 'NOT_FOUND'));
      store.close();
    });

    void it('appends only events that continue the chain of a complete item', async () => {
      const store = await fresh();
      const events = sampleChain(keys, 'ev-5', 2);
      await store.addCompleteItem(sampleItem('ev-5'), [sampleBlob], events);
      const next = sampleChain(keys, 'ev-5', 1, events[1]);
      const gap = sampleChain(keys, 'ev-5', 2, events[1])[1]!;
      const fork = sampleChain(keys, 'ev-5', 1, events[0])[0]!;
      const foreign = sampleChain(keys, 'ev-x', 1, events[1])[0]!;
      for (const bad of [gap, fork, foreign]) {
        await assert.rejects(store.appendEvents('ev-5', [bad]), (e) =>
          isVmsightError(e, 'INVALID_ARGUMENT'),
        );
      }
      await store.appendEvents('ev-5', next);
      assert.equal((await store.getEvents('ev-5')).length, 3);
      await store.beginItem(sampleItem('ev-6'));
      await assert.rejects(store.appendEvents('ev-6', sampleChain(keys, 'ev-6', 1)), (e) =>
        isVmsightError(e, 'INVALID_ARGUMENT'),
      );
      store.close();
    });

    void it('fails abandoned acquisitions and keeps live ones', async () => {
      const store = await fresh();
      await store.beginItem(sampleItem('ev-7', { ownerPid: 1 }));
      await store.beginItem(sampleItem('ev-8', { ownerPid: 2 }));
      const failed = await store.failAbandoned((item) => item.ownerPid === 1);
      assert.deepEqual(failed, ['ev-8']);
      assert.equal((await store.getItem('ev-7'))?.status, 'acquiring');
      assert.match((await store.getItem('ev-8'))?.failure ?? '', /abandoned/);
      store.close();
    });

    void it('lists items by case and status, oldest first, as copies', async () => {
      const store = await fresh();
      await store.ensureCase({ id: 'case-2', createdAt: 'x' });
      await store.beginItem(sampleItem('ev-b', { createdAt: '2026-11-22T03:00:02.000Z' }));
      await store.beginItem(sampleItem('ev-a', { createdAt: '2026-11-22T03:00:01.000Z' }));
      await store.beginItem(sampleItem('ev-c', { caseId: 'case-2' }));
      assert.deepEqual(
        (await store.listItems({ caseId: 'case-1' })).map((item) => item.id),
        ['ev-a', 'ev-b'],
      );
      assert.equal((await store.listItems({ status: 'complete' })).length, 0);
      const [first] = await store.listItems();
      (first as { subject: string }).subject = 'changed';
      assert.notEqual((await store.listItems())[0]?.subject, 'changed');
      store.close();
    });
  });
}

runStoreContract('in memory', () => new MemoryEvidenceStore());
runStoreContract('SQLite', (dir) => SqliteEvidenceStore.open(`${dir}.db`));
