import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { SAMPLE_EVENTS, collect, rejection } from './internal-test/test-support.js';
import { encodeVmtrace, writeVmtrace } from './vmtrace-writer.js';

const HEADER = '{"format":"vmsight-trace","version":1}';

test('bigints are 0x hex strings on disk, negative ones with a sign', async () => {
  const lines = await collect(encodeVmtrace(SAMPLE_EVENTS.slice(0, 1)));
  assert.equal(lines[0], `${HEADER}\n`);
  const event = JSON.parse(lines[1] as string) as Record<string, unknown>;
  assert.equal(event['time'], '0x17979cfe362a0000');
  assert.equal(event['returnValue'], '-0x2');
  assert.deepEqual(event['args'], ['0xffffff9c', '0x7ffd00001000', '0x0', '0x0']);
});

test('writing to an unwritable path is IO_ERROR', async () => {
  const error = await rejection(writeVmtrace(SAMPLE_EVENTS, '/nonexistent/dir/t.vmtrace.jsonl'));
  assert.ok(isVmsightError(error, 'IO_ERROR'), String(error));
});

test('the header carries generator, created and meta when given', async () => {
  const options = {
    generator: 'vmsight 0.1.0',
    created: '2026-11-22T00:00:00Z',
    meta: { vm: 'a' },
  };
  const [header] = await collect(encodeVmtrace([], options));
  assert.deepEqual(JSON.parse(header ?? ''), { format: 'vmsight-trace', version: 1, ...options });
});

test('writing to a stream sends plain lines and counts events', async () => {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  assert.equal(await writeVmtrace(SAMPLE_EVENTS, sink), SAMPLE_EVENTS.length);
  const lines = Buffer.concat(chunks).toString('utf8').trimEnd().split('\n');
  assert.equal(lines.length, SAMPLE_EVENTS.length + 1);
  assert.equal(lines[0], HEADER);
});
