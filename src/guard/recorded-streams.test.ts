import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EscapeMatcher } from './escape-matcher.js';
import { IO_STRIDE } from './io-window.js';
import { RECORDED_ESCAPE_STREAM, loadRecordedStreams, recordedBatch } from './recorded-streams.js';
import { loadRules } from './rule-loader.js';

test('recorded streams: windows start at the attack; VM 99 replays it from round 2 and the rules block it', async () => {
  const streams = await loadRecordedStreams(64, {
    benign: RECORDED_ESCAPE_STREAM,
    escape: RECORDED_ESCAPE_STREAM,
  });
  // The escape windows begin with the first write to the floppy data FIFO.
  const first = streams.escape[0] as Float64Array;
  assert.equal(first[1], 0x3f5);
  assert.ok(streams.benign.length > streams.escape.length);

  const early = recordedBatch(streams, 0, 200, 1);
  assert.equal(early.escapes, 0);
  assert.equal(early.io.length, 200 * 64 * IO_STRIDE);
  const matcher = new EscapeMatcher(await loadRules());
  const hits: string[] = [];
  // Within the bench's default 12 rounds (10 attacking windows).
  for (let round = 2; round < 12; round += 1) {
    const batch = recordedBatch(streams, 99, 1, round);
    assert.equal(batch.escapes, 1);
    hits.push(...matcher.scan('vm99', batch.io).map((hit) => hit.ruleId));
  }
  assert.ok(hits.includes('venom-fdc-fifo-overrun'), hits.join(','));
});
