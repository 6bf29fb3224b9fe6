import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVmsightError, type ErrorCode } from '../core/index.js';
import { seededRandom, normalTraces } from './_synthetic-traces.js';
import { decodeModelFile, encodeModelFile, readModelFile, writeModelFile } from './model-file.js';
import { train } from './registry.js';

const model = train('markov', normalTraces(12, 4), { order: 2 });
const text = encodeModelFile(model);

function rejects(code: ErrorCode, pattern: RegExp): (error: unknown) => boolean {
  return (error) => isVmsightError(error, code) && pattern.test(error.message);
}

function edited(
  edit: (file: { model: Record<string, unknown> } & Record<string, unknown>) => void,
): string {
  const file = JSON.parse(text) as { model: Record<string, unknown> } & Record<string, unknown>;
  edit(file);
  return resealed(file);
}

/** The file with its checksum recomputed, so validation past the checksum is exercised. */
function resealed(file: { model: unknown; tokens?: string }): string {
  const sha256 = createHash('sha256')
    .update(JSON.stringify([file.tokens ?? null, file.model]))
    .digest('hex');
  return JSON.stringify({ ...file, sha256 });
}

test('a model survives writing and reading a file unchanged', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'vmsight-model-'));
  try {
    const path = join(directory, 'markov.json');
    await writeModelFile(path, model, 'syscall:i386');
    const loaded = await readModelFile(path);
    assert.equal(JSON.stringify(loaded.model), JSON.stringify(model));
    assert.equal(loaded.tokens, 'syscall:i386');
    assert.equal(decodeModelFile(encodeModelFile(model)).tokens, undefined);
    const relabelled = encodeModelFile(model, 'syscall:i386').replace(
      'syscall:i386',
      'syscall:x86-64',
    );
    assert.throws(() => decodeModelFile(relabelled), rejects('MODEL_INVALID', /SHA-256/));
    await assert.rejects(
      readModelFile(join(directory, 'absent.json')),
      rejects('NOT_FOUND', /absent\.json/),
    );
    await writeFile(join(directory, 'big.json'), text);
    await assert.rejects(
      readModelFile(join(directory, 'big.json'), { maxBytes: 100 }),
      rejects('LIMIT_EXCEEDED', /big\.json.*larger than 100 bytes/),
    );
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});

test('another format version fails with MODEL_VERSION naming the file', () => {
  const v2 = edited((file) => (file['version'] = 2));
  assert.throws(
    () => decodeModelFile(v2, { source: 'm.json' }),
    rejects('MODEL_VERSION', /"m\.json".*version 2/),
  );
});

test('a changed digit is caught by the checksum', () => {
  const tampered = text.replace(/"rareProbability":0\.001/, '"rareProbability":0.002');
  assert.notEqual(tampered, text);
  assert.throws(
    () => decodeModelFile(tampered, { source: 't.json' }),
    rejects('MODEL_INVALID', /"t\.json".*SHA-256/),
  );
});

test('a truncated or foreign file fails with MODEL_INVALID naming the file', () => {
  assert.throws(
    () => decodeModelFile(text.slice(0, text.length / 2), { source: 'cut.json' }),
    rejects('MODEL_INVALID', /"cut\.json".*not valid JSON/),
  );
  assert.throws(
    () => decodeModelFile('{"format":"other","version":1}', { source: 'o.json' }),
    rejects('MODEL_INVALID', /format is "other"/),
  );
  assert.throws(() => decodeModelFile('[]'), rejects('MODEL_INVALID', /must be an object/));
});

test('every field of the model is validated', () => {
  const cases: Array<[string, (file: { model: Record<string, unknown> }) => void, RegExp]> = [
    ['kind', (f) => (f.model['kind'] = 'lstm'), /"kind" must be one of/],
    [
      'grams',
      (f) => ((f.model['table'] as Record<string, unknown>)['grams'] = 'AAA*'),
      /"table\.grams" is not valid base64/,
    ],
    [
      'grams length',
      (f) => ((f.model['table'] as Record<string, unknown>)['grams'] = 'AAAAAA=='),
      /must hold \d+ n-grams/,
    ],
    [
      'n',
      (f) => ((f.model['table'] as Record<string, unknown>)['n'] = 99),
      /"table\.n" must be from 1 to 16/,
    ],
    [
      'counts',
      (f) => ((f.model['table'] as Record<string, unknown>)['counts'] = 7),
      /"table\.counts" must be a base64 string/,
    ],
    ['threshold', (f) => (f.model['threshold'] = 'high'), /"threshold" must be a finite number/],
    ['rareProbability', (f) => (f.model['rareProbability'] = 2), /"rareProbability" must be from/],
    [
      'parameters',
      (f) => (f.model['parameters'] = [{ name: 'x', value: {}, chosenBy: 'y' }]),
      /"parameters\[0\]\.value" must be a string/,
    ],
  ];
  for (const [what, edit, pattern] of cases) {
    assert.throws(
      () => decodeModelFile(edited(edit), { source: 'bad.json' }),
      rejects('MODEL_INVALID', pattern),
      what,
    );
  }
});

test('n-gram tables must be canonical and within the size limit', () => {
  const stide = JSON.parse(
    encodeModelFile(train('stide', [Uint32Array.of(1, 2, 3)], { n: 2 })),
  ) as {
    model: { table: { grams: string; counts: string } };
  };
  const table = stide.model.table;
  const reversed = (base64: string, size: number): string => {
    const bytes = Buffer.from(base64, 'base64');
    const chunks = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    return Buffer.concat(chunks.reverse()).toString('base64');
  };
  const unsorted = {
    ...stide,
    model: {
      ...stide.model,
      table: { ...table, grams: reversed(table.grams, 8), counts: reversed(table.counts, 4) },
    },
  };
  assert.throws(
    () => decodeModelFile(resealed(unsorted)),
    rejects('MODEL_INVALID', /strictly ascending/),
  );
  const zero = {
    ...stide,
    model: { ...stide.model, table: { ...table, counts: Buffer.alloc(12).toString('base64') } },
  };
  assert.throws(() => decodeModelFile(resealed(zero)), rejects('MODEL_INVALID', /zero count/));
  assert.throws(
    () => decodeModelFile(resealed(stide), { maxNgrams: 2 }),
    rejects('MODEL_INVALID', /more than 2 values/),
  );
});

test('random damage to a model file never escapes as anything but a model error', () => {
  const random = seededRandom(77);
  for (let round = 0; round < 300; round++) {
    const chars = [...text];
    const edits = 1 + Math.floor(random() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(random() * chars.length);
      const roll = random();
      if (roll < 0.4) chars[at] = String.fromCharCode(32 + Math.floor(random() * 95));
      else if (roll < 0.7) chars.splice(at, 1);
      else chars.length = at;
    }
    try {
      decodeModelFile(chars.join(''));
    } catch (error) {
      assert.ok(
        isVmsightError(error, 'MODEL_INVALID') || isVmsightError(error, 'MODEL_VERSION'),
        `round ${round}: ${String(error)}`,
      );
    }
  }
});
