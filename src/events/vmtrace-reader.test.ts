import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { SAMPLE_EVENTS, byByte, collect, rejection } from './internal-test/test-support.js';
import { decodeVmtrace, readVmtrace } from './vmtrace-reader.js';
import { encodeVmtrace, writeVmtrace, type VmtraceHeader } from './vmtrace-writer.js';

const HEADER = '{"format":"vmsight-trace","version":1}';
const SYSCALL = '{"type":"syscall","vm":"lab","vcpu":0,"time":"0x10","abi":"i386","nr":3}';

async function decodeText(text: string, source = 'trace.vmtrace.jsonl'): Promise<unknown[]> {
  return collect(decodeVmtrace([text], { source }));
}

async function decodeError(text: string, source = 'trace.vmtrace.jsonl'): Promise<Error> {
  const error = await rejection(decodeText(text, source));
  assert.ok(isVmsightError(error), String(error));
  return error;
}

test('every event type survives a round trip through plain and zstd files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmsight-vmtrace-'));
  for (const name of ['t.vmtrace.jsonl', 't.vmtrace.jsonl.zst']) {
    const path = join(dir, name);
    const count = await writeVmtrace(SAMPLE_EVENTS, path, { meta: { vm: 'lab' } });
    assert.equal(count, SAMPLE_EVENTS.length);
    let header: VmtraceHeader | undefined;
    const events = await collect(readVmtrace(path, { onHeader: (h) => (header = h) }));
    assert.deepEqual(events, SAMPLE_EVENTS);
    assert.deepEqual(header, { format: 'vmsight-trace', version: 1, meta: { vm: 'lab' } });
  }
  const compressed = readFileSync(join(dir, 't.vmtrace.jsonl.zst'));
  assert.deepEqual([...compressed.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
});

test('a compressed trace under a plain name is still read (magic, not name)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmsight-vmtrace-'));
  const path = join(dir, 'misnamed.vmtrace.jsonl');
  await writeVmtrace(SAMPLE_EVENTS, path, { compress: true });
  assert.deepEqual(await collect(readVmtrace(path)), SAMPLE_EVENTS);
});

test('decoding one byte per chunk gives the same events', async () => {
  const text = (await collect(encodeVmtrace(SAMPLE_EVENTS))).join('');
  assert.deepEqual(await collect(decodeVmtrace(byByte(text))), SAMPLE_EVENTS);
});

test('a field of the wrong type names file, line and field', async () => {
  const error = await decodeError(
    `${HEADER}\n${SYSCALL}\n${SYSCALL.replace('"vcpu":0', '"vcpu":"x"')}\n`,
  );
  assert.equal(
    error.message,
    'Cannot parse "trace.vmtrace.jsonl" line 3 field "vcpu": expected an integer from 0 to 4294967295, found "x"',
  );
});

test('wrong shapes are rejected with the field named', async () => {
  const cases: [string, RegExp][] = [
    ['[1,2]', /line 2: expected a JSON object, found "\[1,2\]"/],
    ['{"type":"nope"}', /line 2 field "type": expected one of syscall, port-io/],
    [SYSCALL.replace('"nr":3', '"nr":-3'), /field "nr": expected an integer/],
    [SYSCALL.replace('"nr":3', '"nr":3.5'), /field "nr": expected an integer/],
    [SYSCALL.replace(',"nr":3', ''), /field "nr": expected this field to be present/],
    [SYSCALL.replace('"abi":"i386"', '"abi":"arm"'), /field "abi": expected one of x86-64, i386/],
    [SYSCALL.replace('"0x10"', '16'), /field "time": expected a "0x" hex string/],
    [SYSCALL.replace('"0x10"', '"0x10000000000000000"'), /field "time": expected a "0x" hex/],
    [SYSCALL.replace('}', ',"extra":1}'), /field "extra": expected no such field in vmtrace/],
    [SYSCALL.replace('}', ',"__proto__":{"x":1}}'), /field "__proto__": expected no such field/],
    [SYSCALL.replace('}', ',"args":["0x1","0x2","0x3","0x4","0x5","0x6","0x7"]}'), /"args"/],
    [
      SYSCALL.replace('}', ',"returnValue":"0x8000000000000000"}'),
      /"returnValue": expected a signed/,
    ],
    [
      SYSCALL.replace('}', ',"process":{"pid":1,"tgid":1,"comm":7,"programKey":"a"}}'),
      /field "process\.comm": expected a string/,
    ],
    [
      SYSCALL.replace('}', ',"process":{"pid":1,"tgid":1,"comm":"a"}}'),
      /field "process\.programKey": expected this field/,
    ],
    [
      '{"type":"port-io","vm":"a","vcpu":0,"time":null,"port":70000,"direction":"read","size":1,"value":0}',
      /field "port"/,
    ],
    [
      '{"type":"port-io","vm":"a","vcpu":0,"time":null,"port":1,"direction":"read","size":8,"value":0}',
      /field "size": expected one of 1, 2, 4/,
    ],
    ['{"type":"syscall",', /line 2: expected one JSON value per line/],
  ];
  for (const [line, pattern] of cases) {
    const error = await decodeError(`${HEADER}\n${line}\n`);
    assert.match(error.message, pattern, line);
    assert.equal((error as { code?: string }).code, 'INVALID_INPUT');
  }
});

test('a __proto__ key in header metadata does not pollute prototypes', async () => {
  let header: VmtraceHeader | undefined;
  const text = '{"format":"vmsight-trace","version":1,"meta":{"__proto__":"x","vm":"a"}}\n';
  await collect(decodeVmtrace([text], { onHeader: (h) => (header = h) }));
  assert.equal(Object.getPrototypeOf(header?.meta), Object.prototype);
  assert.equal(header?.meta?.['vm'], 'a');
  assert.equal(({} as Record<string, unknown>)['x'], undefined);
});

test('the header is required and its version checked', async () => {
  const empty = await decodeError('');
  assert.equal((empty as { code?: string }).code, 'TRUNCATED_INPUT');
  assert.match(empty.message, /expected a "vmsight-trace" header line/);
  assert.match((await decodeError(`${SYSCALL}\n`)).message, /line 1: expected a header line/);
  assert.match(
    (await decodeError('{"format":"vmsight-trace","version":2}\n')).message,
    /line 1 field "version": expected version 1 \(this vmsight reads no other\), found "2"/,
  );
});

test('a line just over maxLineBytes is LIMIT_EXCEEDED without reading further', async () => {
  const limit = 1024;
  function* stream(): Generator<string> {
    yield `${HEADER}\n`;
    yield `{"type":"syscall","vm":"${'a'.repeat(limit)}`;
    throw new Error('read past the limit');
  }
  const error = await rejection(
    collect(decodeVmtrace(stream(), { maxLineBytes: limit, source: 'big' })),
  );
  assert.ok(isVmsightError(error, 'LIMIT_EXCEEDED'), String(error));
  assert.match(error.message, /"big" line 2: it is longer than the limit of 1024 bytes/);
});

test('strings longer than maxStringLength are rejected', async () => {
  const line = SYSCALL.replace('"vm":"lab"', `"vm":"${'v'.repeat(50)}"`);
  const error = await rejection(
    collect(decodeVmtrace([`${HEADER}\n${line}`], { maxStringLength: 10 })),
  );
  assert.ok(isVmsightError(error, 'INVALID_INPUT'));
  assert.match(error.message, /field "vm": expected a string of at most 10 characters/);
});

test('blank lines are ignored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmsight-vmtrace-'));
  const path = join(dir, 'blank.vmtrace.jsonl');
  writeFileSync(path, `${HEADER}\n\n${SYSCALL}\n\n`);
  assert.equal((await collect(readVmtrace(path))).length, 1);
});

test('stopping early closes a compressed file without hanging', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmsight-vmtrace-'));
  const path = join(dir, 'long.vmtrace.jsonl.zst');
  const many = Array.from({ length: 50_000 }, (_, index) => ({
    ...SAMPLE_EVENTS[2],
    value: index & 0xff,
  })) as typeof SAMPLE_EVENTS;
  await writeVmtrace(many, path);
  let seen = 0;
  for await (const event of readVmtrace(path)) {
    assert.equal(event.type, 'port-io');
    seen += 1;
    if (seen === 3) break;
  }
  assert.equal(seen, 3);
});
