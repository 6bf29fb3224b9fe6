import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { readElfSection, readElfSummary } from './elf-sections.js';
import { buildTestElf } from './internal-test/elf-test-builder.js';

const dir = mkdtempSync(join(tmpdir(), 'vmsight-elf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

void describe('readElfSummary / readElfSection', () => {
  void it('lists section names and reads one section', async () => {
    const path = file(
      'k.elf',
      buildTestElf({ '.text': 'code', '.BTF': 'btf!', '.modinfo': 'depends=a,b\0license=GPL\0' }),
    );
    const summary = await readElfSummary(path);
    assert.deepEqual(
      summary.sections.map((s) => s.name),
      ['', '.text', '.BTF', '.modinfo', '.shstrtab'],
    );
    assert.equal(summary.hasInterpreter, false);
    assert.equal(Buffer.from((await readElfSection(path, '.BTF')) ?? []).toString(), 'btf!');
    assert.equal(await readElfSection(path, '.missing'), undefined);
  });

  void it('tells a dynamically linked binary by its PT_INTERP header', async () => {
    const path = file('dyn.elf', buildTestElf({ '.text': 'x' }, { interpreter: true }));
    assert.equal((await readElfSummary(path)).hasInterpreter, true);
  });

  void it('rejects non-ELF, 32-bit and truncated files with INVALID_INPUT', async () => {
    const bad = (error: unknown): boolean => isVmsightError(error, 'INVALID_INPUT');
    await assert.rejects(readElfSummary(file('text', Buffer.from('#!/bin/sh\necho hi\n'))), bad);
    const elf32 = buildTestElf({ '.text': 'x' });
    elf32[4] = 1;
    await assert.rejects(readElfSummary(file('elf32', elf32)), bad);
    const whole = buildTestElf({ '.text': 'x' });
    await assert.rejects(readElfSummary(file('cut', whole.subarray(0, whole.length - 10))), bad);
  });
});
