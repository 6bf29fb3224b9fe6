import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { isVmsightError } from '../core/index.js';
import { signCustodyEvent } from './custody-event.js';
import type { CustodyEvent } from './evidence-records.js';
import type { EvidenceStore } from './evidence-store.js';
import type { KeyStore } from './key-store.js';
import { MemoryEvidenceStore } from './memory-evidence-store.js';
import { SqliteEvidenceStore } from './sqlite-evidence-store.js';
import type { AnalysisRecord, ReportRecord } from './work-products.js';
import { newTestKeys, sampleBlob, sampleChain, sampleItem, scratchDir } from './_test-support.js';

/** The work-product part of the `EvidenceStore` contract, run against every implementation. */
function runWorkProductContract(name: string, newStore: (dir: string) => EvidenceStore): void {
  void describe(`EvidenceStore work products: ${name}`, () => {
    const scratch = scratchDir('store-products');
    let keys: KeyStore;
    let store: EvidenceStore;
    let last: CustodyEvent;
    const next = (action: 'analysed' | 'reported', prev = last): CustodyEvent =>
      signCustodyEvent(keys, {
        itemId: 'ev-1',
        seq: prev.seq + 1,
        prevHash: prev.hash,
        action,
        reason: '',
        host: 'h',
        details: {},
      });
    const analysis = (id: string, itemId = 'ev-1'): AnalysisRecord => ({
      id,
      itemId,
      runId: 'an-1',
      plugin: id,
      pluginVersion: '1.0.0',
      createdAt: '2026-11-22T04:00:00.000Z',
      resultSha256: 'c'.repeat(64),
      resultSize: 10,
      rowCount: 1,
    });
    const report: ReportRecord = {
      id: 'rp-1',
      itemId: 'ev-1',
      format: 'html',
      createdAt: '2026-11-22T04:01:00.000Z',
      sha256: 'd'.repeat(64),
      size: 5,
      signature: 's',
      signerKey: 'k',
    };

    before(async () => {
      keys = await newTestKeys(scratch.path);
      store = newStore(join(scratch.path, 'db'));
      await store.ensureCase({ id: 'case-1', createdAt: '2026-11-22T00:00:00.000Z' });
      const events = sampleChain(keys, 'ev-1', 2);
      await store.addCompleteItem(sampleItem('ev-1', { status: 'complete' }), [sampleBlob], events);
      last = events[1] as CustodyEvent;
    });
    after(() => {
      store.close();
      scratch.remove();
    });

    void it('records analyses with their event, and nothing when the event does not continue the log', async () => {
      await assert.rejects(
        store.recordAnalyses(
          'ev-1',
          [analysis('a')],
          next('analysed', { ...last, hash: 'f'.repeat(64) }),
        ),
        (error: unknown) => isVmsightError(error, 'INVALID_ARGUMENT'),
      );
      await assert.rejects(
        store.recordAnalyses('ev-1', [analysis('b', 'ev-other')], next('analysed')),
        (error: unknown) => isVmsightError(error, 'INVALID_ARGUMENT'),
      );
      assert.deepEqual(await store.listAnalyses('ev-1'), []);
      assert.equal((await store.getEvents('ev-1')).length, 2);
      const event = next('analysed');
      await store.recordAnalyses(
        'ev-1',
        [analysis('linux.pslist'), analysis('linux.psaux')],
        event,
      );
      last = event;
      assert.deepEqual(
        (await store.listAnalyses('ev-1')).map((r) => r.id),
        ['linux.pslist', 'linux.psaux'],
      );
      assert.deepEqual(await store.listAnalyses('ev-1'), [
        analysis('linux.pslist'),
        analysis('linux.psaux'),
      ]);
    });

    void it('records a report with its event; both are referenced blobs', async () => {
      const event = next('reported');
      await store.recordReport(report, event);
      assert.deepEqual(await store.listReports('ev-1'), [report]);
      assert.equal((await store.getEvents('ev-1')).at(-1)?.action, 'reported');
      const referenced = await store.referencedBlobs();
      assert.ok(referenced.has(report.sha256) && referenced.has('c'.repeat(64)));
      await assert.rejects(store.recordReport({ ...report, id: 'rp-2' }, event));
      assert.equal((await store.listReports('ev-1')).length, 1);
    });
  });
}

runWorkProductContract('in memory', () => new MemoryEvidenceStore());
runWorkProductContract('SQLite', (dir) => SqliteEvidenceStore.open(`${dir}.db`));
