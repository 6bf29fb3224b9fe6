import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runVmsight } from '../internal-test/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vmsight-symbols-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const pointer = { kind: 'int', size: 8, signed: false, endian: 'little' };

void describe('vmsight symbols check', () => {
  void it('accepts a valid ISF and exits 0', () => {
    const file = join(dir, 'good.json');
    // A 64-bit address as JSON writes it: an integer literal past 2^53.
    const text = JSON.stringify({
      metadata: { format: '6.2.0', producer: { name: 't', version: '1.0.0' } },
      base_types: { pointer },
      user_types: {},
      enums: {},
      symbols: { init_task: { address: 0 } },
    });
    writeFileSync(file, text.replace('"address":0', '"address":18446744071606725184'));
    const result = runVmsight(['symbols', 'check', file]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /valid Volatility 3 ISF/);
  });

  void it('names the JSON path of each problem and exits 1', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        metadata: { format: '6.2.0' },
        base_types: { pointer: { ...pointer, endian: 'middle' } },
        user_types: {
          t: { kind: 'struct', size: 8, fields: { p: { offset: 0, type: { kind: 'rope' } } } },
        },
        enums: {},
        symbols: {},
      }),
    );
    const result = runVmsight(['symbols', 'check', '--json', file]);
    assert.equal(result.status, 1, result.stderr);
    const parsed = JSON.parse(result.stdout) as { valid: boolean; problems: { path: string }[] };
    assert.equal(parsed.valid, false);
    assert.deepEqual(
      parsed.problems.map((p) => p.path),
      ['$.base_types.pointer.endian', '$.user_types.t.fields.p.type.kind'],
    );
  });
});
