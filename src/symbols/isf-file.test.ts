import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVmsightError } from '../core/index.js';
import { readIsfFile, writeIsfFile } from './isf-file.js';
import { parseIsfJson, stringifyIsfJson } from './isf-json.js';
import type { IsfDocument } from './isf-types.js';

const doc: IsfDocument = {
  metadata: { format: '6.2.0', producer: { name: 'vmsight', version: '0.1.0' } },
  base_types: {
    int: { kind: 'int', size: 4, signed: true, endian: 'little' },
    pointer: { kind: 'int', size: 8, signed: false, endian: 'little' },
  },
  user_types: {
    list_head: { kind: 'struct', size: 16, fields: {} },
    task_struct: { kind: 'struct', size: 9792, fields: {} },
  },
  enums: {},
  symbols: {
    init_task: { address: 0xffffffff82a1aa40n, type: { kind: 'struct', name: 'task_struct' } },
    current_task: { address: 0x1fb80n },
  },
};

void describe('ISF JSON', () => {
  void it('keeps 64-bit addresses exact through text (past 2^53)', () => {
    const text = stringifyIsfJson(doc);
    assert.match(text, /"address":18446744071606217280/);
    assert.deepEqual({ ...parseIsfJson(text).symbols }, doc.symbols);
  });

  void it('rejects non-JSON, missing sections and non-6.x formats', () => {
    assert.throws(
      () => parseIsfJson('{'),
      (e) => isVmsightError(e, 'INVALID_INPUT'),
    );
    assert.throws(
      () => parseIsfJson('{"metadata":{}}'),
      (e) => isVmsightError(e, 'INVALID_INPUT'),
    );
    const old = stringifyIsfJson({ ...doc, metadata: { ...doc.metadata, format: '4.0.0' } });
    assert.throws(
      () => parseIsfJson(old),
      (e) => isVmsightError(e, 'INVALID_INPUT'),
    );
  });

  void it('writes and reads .json and .json.xz files, and caps decompressed size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmsight-isf-'));
    try {
      for (const name of ['t.json', 't.json.xz']) {
        const path = join(dir, name);
        await writeIsfFile(path, doc);
        assert.deepEqual({ ...(await readIsfFile(path)).symbols }, doc.symbols);
      }
      await assert.rejects(readIsfFile(join(dir, 't.json.xz'), { maxBytes: 10 }), (e) =>
        isVmsightError(e, 'LIMIT_EXCEEDED'),
      );
      writeFileSync(join(dir, 'bad.json.xz'), 'not xz');
      await assert.rejects(readIsfFile(join(dir, 'bad.json.xz')), (e) =>
        isVmsightError(e, 'INVALID_INPUT'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
