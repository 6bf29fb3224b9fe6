import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { adfaLdDataset, byByte, collect, rejection } from './internal-test/test-support.js';
import { adfaLdLabel, parseAdfaLdTrace, readAdfaLd } from './adfa-ld-importer.js';
import { SyscallTable } from './syscall-table.js';

test('parses space-separated numbers with the trailing space and no newline', async () => {
  const calls = await parseAdfaLdTrace(['6 6 63 6 42 120 6 195 120 6 6 114 114 1 1 252 252 252 '], {
    source: 'UTD-0001.txt',
  });
  assert.deepEqual(
    [...calls],
    [6, 6, 63, 6, 42, 120, 6, 195, 120, 6, 6, 114, 114, 1, 1, 252, 252, 252],
  );
});

test('one byte per chunk gives the same calls, and newlines separate too', async () => {
  const text = '102 85 196 2\n3 3 104 265 \r\n168';
  const whole = await parseAdfaLdTrace([text]);
  assert.deepEqual([...(await parseAdfaLdTrace(byByte(text)))], [...whole]);
  assert.deepEqual([...whole], [102, 85, 196, 2, 3, 3, 104, 265, 168]);
});

test('a non-numeric call names file, line and column', async () => {
  const error = await rejection(
    parseAdfaLdTrace(['6 6 63 6 42 120 abc 6'], { source: 'UTD-0001.txt' }),
  );
  assert.ok(isVmsightError(error, 'INVALID_INPUT'));
  assert.equal(
    error.message,
    'Cannot parse "UTD-0001.txt" line 1 column 17: expected a system call number, found "abc"',
  );
  const mixed = await rejection(parseAdfaLdTrace(['1 2\n3 4x5'], { source: 't.txt' }));
  assert.match(
    String(mixed),
    /"t\.txt" line 2 column 4: expected a system call number, found "4x5"/,
  );
});

test('numbers too large to be calls and traces over the call limit are rejected', async () => {
  const big = await rejection(parseAdfaLdTrace(['1 99999999999999999999'], { source: 't.txt' }));
  assert.match(String(big), /column 3: expected a system call number up to 65535/);
  const long = await rejection(parseAdfaLdTrace(['1 2 3 4 5'], { maxCallsPerTrace: 4 }));
  assert.ok(isVmsightError(long, 'LIMIT_EXCEEDED'));
});

test('a single line just over maxLineBytes fails fast instead of buffering', async () => {
  const limit = 64 * 1024;
  let produced = 0;
  function* endless(): Generator<Uint8Array> {
    const chunk = Buffer.from('1 2 3 4 '.repeat(1024));
    for (;;) {
      produced += chunk.length;
      yield chunk;
    }
  }
  const error = await rejection(
    parseAdfaLdTrace(endless(), { maxLineBytes: limit, source: 'huge.txt' }),
  );
  assert.ok(isVmsightError(error, 'LIMIT_EXCEEDED'));
  assert.match(error.message, /"huge\.txt" line 1: it is longer than the limit of 65536 bytes/);
  assert.ok(produced <= limit + 8192, `read ${produced} bytes`);
});

test('labels come from the folder layout', () => {
  assert.deepEqual(adfaLdLabel('Training_Data_Master/UTD-0001.txt'), {
    kind: 'normal',
    split: 'training',
  });
  assert.deepEqual(adfaLdLabel('/x/Validation_Data_Master/UVD-0001.txt'), {
    kind: 'normal',
    split: 'validation',
  });
  assert.deepEqual(adfaLdLabel('Attack_Data_Master/Hydra_FTP_3/UAD-Hydra-FTP-3-1.txt'), {
    kind: 'attack',
    split: 'attack',
    attackType: 'Hydra_FTP',
  });
  assert.deepEqual(
    adfaLdLabel('Attack_Data_Master/Java_Meterpreter_10/UAD-x.txt')?.attackType,
    'Java_Meterpreter',
  );
  assert.equal(adfaLdLabel('elsewhere/trace.txt'), undefined);
});

test('a folder is read in sorted order with relative ids; a file on its own too', async () => {
  const root = mkdtempSync(join(tmpdir(), 'vmsight-adfa-'));
  mkdirSync(join(root, 'Training_Data_Master'));
  mkdirSync(join(root, 'Attack_Data_Master', 'Web_Shell_2'), { recursive: true });
  writeFileSync(join(root, 'Training_Data_Master', 'UTD-0002.txt'), '2 2 ');
  writeFileSync(join(root, 'Training_Data_Master', 'UTD-0001.txt'), '1 ');
  writeFileSync(join(root, 'Attack_Data_Master', 'Web_Shell_2', 'UAD-WS2-1.txt'), '11 3 ');
  writeFileSync(join(root, 'README.md'), 'not a trace');
  const traces = await collect(readAdfaLd(root, { concurrency: 2 }));
  assert.deepEqual(
    traces.map((trace) => [
      trace.id,
      [...trace.calls],
      trace.label?.attackType ?? trace.label?.split,
    ]),
    [
      ['Attack_Data_Master/Web_Shell_2/UAD-WS2-1.txt', [11, 3], 'Web_Shell'],
      ['Training_Data_Master/UTD-0001.txt', [1], 'training'],
      ['Training_Data_Master/UTD-0002.txt', [2, 2], 'training'],
    ],
  );
  assert.ok(traces.every((trace) => trace.abi === 'i386' && trace.programKey === '(unknown)'));
  const [single] = await collect(readAdfaLd(join(root, 'Training_Data_Master', 'UTD-0002.txt')));
  assert.equal(single?.id, 'UTD-0002.txt');
  assert.deepEqual(single?.label, { kind: 'normal', split: 'training' });
});

test('a bad file inside a folder names that file; a missing path is NOT_FOUND', async () => {
  const root = mkdtempSync(join(tmpdir(), 'vmsight-adfa-'));
  writeFileSync(join(root, 'a.txt'), '1 2 ');
  writeFileSync(join(root, 'b.txt'), '1 two ');
  const error = await rejection(collect(readAdfaLd(root)));
  assert.match(
    String(error),
    /b\.txt" line 1 column 3: expected a system call number, found "two"/,
  );
  const missing = await rejection(collect(readAdfaLd(join(root, 'nope'))));
  assert.ok(isVmsightError(missing, 'NOT_FOUND'));
});

const dataset = adfaLdDataset();

test('the real ADFA-LD dataset has the published counts', { skip: dataset.skip }, async () => {
  const bySplit = new Map<string, { traces: number; calls: number }>();
  const attackTypes = new Map<string, number>();
  const i386 = SyscallTable.for('i386');
  const unknown = new Set<number>();
  const ids: string[] = [];
  for await (const trace of readAdfaLd(dataset.root)) {
    const split = trace.label?.split ?? 'none';
    const entry = bySplit.get(split) ?? { traces: 0, calls: 0 };
    entry.traces += 1;
    entry.calls += trace.calls.length;
    bySplit.set(split, entry);
    if (trace.label?.attackType !== undefined) {
      attackTypes.set(trace.label.attackType, (attackTypes.get(trace.label.attackType) ?? 0) + 1);
    }
    for (const nr of trace.calls) if (i386.name(nr) === undefined) unknown.add(nr);
    ids.push(trace.id);
  }
  assert.deepEqual(bySplit.get('training'), { traces: 833, calls: 308_077 });
  assert.deepEqual(bySplit.get('validation'), { traces: 4372, calls: 2_122_085 });
  assert.deepEqual(bySplit.get('attack'), { traces: 746, calls: 317_388 });
  assert.equal(bySplit.has('none'), false);
  assert.deepEqual(Object.fromEntries([...attackTypes].sort()), {
    Adduser: 91,
    Hydra_FTP: 162,
    Hydra_SSH: 176,
    Java_Meterpreter: 124,
    Meterpreter: 75,
    Web_Shell: 118,
  });
  // Every call number in the dataset is an i386 system call (the README's ABI inference).
  assert.deepEqual([...unknown], []);
  assert.deepEqual(ids, [...ids].sort(), 'traces come in sorted order');
});
