import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { loadRules, parseRuleFile } from './rule-loader.js';

const GOOD = `id: t
title: T
cve: [CVE-2015-3456]
device: isa-fdc
severity: critical
action: block
space: port
base: 0x3f0
span: 8
checked_against:
  - { file: hw/block/fdc.c, facts: x }
benign_tested: [x]
match:
  run:
    count: { offset: 5, dir: write }
    reset: [{ offset: 4, dir: read }]
    at_least: 512
`;

test('every shipped rule file loads, with at least 10 distinct CVEs and sources named', async () => {
  const rules = await loadRules();
  const cves = new Set(rules.flatMap((rule) => rule.cves));
  assert.ok(cves.size >= 10, `only ${cves.size} CVEs`);
  for (const cve of [
    'CVE-2015-3456',
    'CVE-2015-5165',
    'CVE-2015-7504',
    'CVE-2016-3710',
    'CVE-2017-2615',
    'CVE-2020-14364',
    'CVE-2021-3929',
  ]) {
    assert.ok(cves.has(cve), cve);
  }
  for (const rule of rules.filter((r) => r.action !== 'pass')) {
    assert.ok(
      rule.checkedAgainst.some((check) => check.file.startsWith('hw/')),
      rule.id,
    );
    assert.ok(rule.benignTested.length > 0, rule.id);
  }
});

test('a well-formed rule parses into a run matcher', () => {
  const rule = parseRuleFile('t.yaml', GOOD);
  assert.equal(rule.match.kind, 'run');
  assert.equal(rule.base, 0x3f0);
});

const cases: [string, string, number, RegExp][] = [
  [
    'unknown key',
    GOOD.replace('severity: critical', 'severty: critical'),
    5,
    /unknown key "severty"/,
  ],
  ['bad action', GOOD.replace('action: block', 'action: explode'), 6, /action must be one of/],
  [
    'offset outside span',
    GOOD.replace('offset: 5, dir: write', 'offset: 9, dir: write'),
    15,
    /between 0 and 7/,
  ],
  ['bad CVE id', GOOD.replace('CVE-2015-3456', 'VENOM'), 3, /not a CVE id/],
  ['YAML syntax', GOOD.replace('  run:', '  run: [').concat(''), 14, /.+/],
  ['missing match', GOOD.slice(0, GOOD.indexOf('match:')), 1, /missing "match"/],
];
for (const [name, text, line, reason] of cases) {
  test(`a malformed rule file is rejected with file, line and reason: ${name}`, () => {
    assert.throws(
      () => parseRuleFile('/x/bad.yaml', text),
      (error: unknown) => {
        assert.ok(isVmsightError(error, 'INVALID_INPUT'));
        assert.match(error.message, /^Cannot load rule file "bad\.yaml" line \d+: /);
        assert.match(error.message, reason);
        if (name !== 'YAML syntax') assert.equal(error.details['line'], line, error.message);
        assert.equal(error.details['file'], '/x/bad.yaml');
        return true;
      },
    );
  });
}
