// Property tests over all five parsers: whatever the bytes, a parser either yields events or throws
// a VmsightError with an input code. Never a TypeError, RangeError or hang (STYLE.md habit 7).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isVmsightError } from '../core/index.js';
import { collect, fixture } from './internal-test/test-support.js';
import { parseAdfaLdTrace } from './adfa-ld-importer.js';
import { parseAuditLog } from './auditd-importer.js';
import { parseDrakvuf } from './drakvuf-importer.js';
import { parseStrace } from './strace-importer.js';
import { decodeVmtrace } from './vmtrace-reader.js';
import { readFileSync } from 'node:fs';

const INPUT_CODES = new Set(['INVALID_INPUT', 'TRUNCATED_INPUT', 'LIMIT_EXCEEDED']);

async function survives(run: () => Promise<unknown>): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (error) {
    return isVmsightError(error) && INPUT_CODES.has(error.code);
  }
}

const parsers: Record<string, (text: string) => Promise<unknown>> = {
  adfa: (text) => parseAdfaLdTrace([text], { maxLineBytes: 4096 }),
  strace: (text) => collect(parseStrace([text], { maxLineBytes: 4096 })),
  auditd: (text) => collect(parseAuditLog([text], { maxLineBytes: 4096 })),
  drakvuf: (text) => collect(parseDrakvuf([text], { maxLineBytes: 4096 })),
  vmtrace: (text) =>
    collect(
      decodeVmtrace([`{"format":"vmsight-trace","version":1}\n${text}`], { maxLineBytes: 4096 }),
    ),
};

/** Real lines to mutate, so the fuzzer reaches deep into each format rather than failing early. */
const seeds: Record<string, string[]> = {
  adfa: ['6 6 63 6 42 120 ', '252 252 1 '],
  strace: readFileSync(fixture('strace-f-ttt.txt'), 'utf8').split('\n').slice(45, 60),
  auditd: readFileSync(fixture('auditd-cat.log'), 'utf8').split('\n').slice(0, 12),
  drakvuf: readFileSync(fixture('drakvuf-syscalls-sh-cat.jsonl'), 'utf8').split('\n').slice(0, 12),
  vmtrace: [
    '{"type":"syscall","vm":"lab","vcpu":0,"time":"0x10","abi":"i386","nr":3}',
    '{"type":"process-exit","vm":"a","vcpu":null,"time":null,"process":{"pid":1,"tgid":1,"comm":"sh","programKey":"/bin/sh"},"exitCode":0}',
  ],
};

const mutated = (lines: string[]) =>
  fc
    .tuple(
      fc.array(fc.constantFrom(...lines), { minLength: 1, maxLength: 6 }),
      fc.nat(),
      fc.nat(),
      fc.string({ maxLength: 8 }),
    )
    .map(([picked, at, cut, insert]) => {
      const text = picked.join('\n');
      const start = at % (text.length + 1);
      return text.slice(0, start) + insert + text.slice(start + (cut % 6));
    });

for (const [name, parse] of Object.entries(parsers)) {
  test(`${name}: arbitrary and mutated input never escapes the error taxonomy`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ maxLength: 300 }), mutated(seeds[name] ?? [''])),
        (text) => survives(() => parse(text)),
      ),
      { numRuns: 400 },
    );
    assert.ok(true);
  });
}
