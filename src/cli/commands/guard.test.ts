import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runVmsight } from '../internal-test/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vmsight-guard-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const RECORDED = fileURLToPath(
  new URL('../../guard/fixtures/kvm-venom-bootsector.vmtrace.jsonl.zst', import.meta.url),
);

function port(port: number, direction: 'read' | 'write', value: number): string {
  return JSON.stringify({
    type: 'port-io',
    vm: 'g1',
    vcpu: 0,
    time: null,
    port,
    direction,
    size: 1,
    value,
  });
}

describe('vmsight guard', () => {
  it('rules: lists at least 10 CVEs with the QEMU sources they were checked against', () => {
    const result = runVmsight(['guard', 'rules', '--json']);
    assert.equal(result.status, 0, result.stderr);
    const rules = JSON.parse(result.stdout) as {
      id: string;
      cves: string[];
      checkedAgainst: string[];
    }[];
    assert.ok(new Set(rules.flatMap((rule) => rule.cves)).size >= 10);
    const venom = rules.find((rule) => rule.id === 'venom-fdc-fifo-overrun');
    assert.deepEqual(venom?.cves, ['CVE-2015-3456']);
    assert.ok(venom?.checkedAgainst[0]?.startsWith('hw/block/fdc.c'));
    const table = runVmsight(['guard', 'rules']);
    assert.match(table.stdout, /cirrus-backward-blit\s+CVE-2017-2615/);
  });

  it('rules: a malformed rule file is rejected with its file, line and reason (exit 3)', () => {
    const rules = join(dir, 'bad-rules');
    mkdirSync(rules, { recursive: true });
    const good = readFileSync(
      fileURLToPath(new URL('../../guard/rules/venom-fdc-fifo-overrun.yaml', import.meta.url)),
      'utf8',
    );
    const broken = good.replace('severity: critical', 'severity: loud');
    const line = broken.split('\n').findIndex((text) => text.startsWith('severity:')) + 1;
    writeFileSync(join(rules, 'broken.yaml'), broken);
    const result = runVmsight(['guard', 'rules', '--rules', rules]);
    assert.equal(result.status, 3);
    assert.ok(
      result.stderr.includes(
        `Cannot load rule file "broken.yaml" line ${line}: severity must be one of`,
      ),
      result.stderr,
    );
    assert.ok(result.stderr.includes('not "loud"'));
  });

  it('test: a trace with the VENOM write loop exits 1 and names the rule, CVE and trigger', () => {
    const trace = join(dir, 'venom.vmtrace.jsonl');
    const lines = [
      JSON.stringify({ format: 'vmsight-trace', version: 1 }),
      port(0x3f8, 'write', 0x41),
      port(0x3f5, 'write', 0x8e),
      ...Array.from({ length: 600 }, () => port(0x3f5, 'write', 0x42)),
    ];
    writeFileSync(trace, `${lines.join('\n')}\n`);
    const result = runVmsight(['guard', 'test', '--trace', trace]);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stdout, /g1\s+18\s+venom-fdc-long-command\s+CVE-2015-3456\s+alert/);
    assert.match(
      result.stdout,
      /g1\s+513\s+venom-fdc-fifo-overrun\s+CVE-2015-3456\s+block\s+port write 0x3f5 = 0x42/,
    );
  });

  it('test: a benign trace exits 0', () => {
    const trace = join(dir, 'benign.vmtrace.jsonl');
    const lines = [
      JSON.stringify({ format: 'vmsight-trace', version: 1 }),
      ...Array.from({ length: 50 }, (_, i) => port(0x3f8, 'write', 0x30 + (i % 10))),
    ];
    writeFileSync(trace, `${lines.join('\n')}\n`);
    const result = runVmsight(['guard', 'test', '--trace', trace]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /50 I\/O events from 1 VM\(s\), 0 rule hit\(s\)/);
  });

  it(
    'test: the trace recorded from the KVM boot sector (SeaBIOS, then VENOM writes) blocks once',
    { skip: existsSync(RECORDED) ? false : 'recorded fixture absent' },
    () => {
      const result = runVmsight(['guard', 'test', '--trace', RECORDED, '--json']);
      assert.equal(result.status, 1, result.stderr);
      const report = JSON.parse(result.stdout) as { hits: { ruleId: string; action: string }[] };
      assert.deepEqual(
        report.hits.map((hit) => hit.ruleId),
        ['venom-fdc-long-command', 'venom-fdc-fifo-overrun'],
      );
    },
  );
});
