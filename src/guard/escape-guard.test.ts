import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AnalysisEngine } from './analysis-engine.js';
import { EscapeGuard } from './escape-guard.js';
import type { GuardAlert } from './guard-alert.js';
import { inb, outb } from './internal-test/io-events.js';
import { loadRules } from './rule-loader.js';

const serial = [inb(0x3fd), outb(0x3f8, 0x41), inb(0x3fd), outb(0x3f8, 0x42)];
const unknownDevice = [outb(0x2f8, 1), inb(0x2fd)];

test('the worker decides known escapes, benign-known and cached windows; only unknown ones reach the engine; every fate is counted', async () => {
  let engineCalls = 0;
  const engine: AnalysisEngine = {
    analyse: () => {
      engineCalls += 1;
      return Promise.resolve({ anomalous: false, score: 0.5 });
    },
  };
  const alerts: GuardAlert[] = [];
  const paused: string[] = [];
  const evidence: string[] = [];
  const guard = EscapeGuard.start({
    rules: await loadRules(),
    engine,
    controller: { pause: (vm) => Promise.resolve(void paused.push(vm)) },
    evidence: { acquire: (alert) => Promise.resolve(void evidence.push(alert.ruleId)) },
    onAlert: (alert) => alerts.push(alert),
  });
  try {
    const first = await guard.scan([
      { vm: 'a', events: serial },
      { vm: 'b', events: unknownDevice },
      {
        vm: 'c',
        events: [outb(0x3f5, 0x8e), ...Array.from({ length: 600 }, () => outb(0x3f5, 0x42))],
      },
    ]);
    assert.deepEqual(
      first.map((v) => [v.fate, v.verdict]),
      [
        ['rule', 'pass'],
        ['engine', 'pass'],
        ['rule', 'block'],
      ],
    );
    assert.deepEqual(paused, ['c']);
    assert.deepEqual(evidence, ['venom-fdc-fifo-overrun']);
    const block = alerts.find((a) => a.action === 'block');
    assert.ok(block !== undefined && block.cves.includes('CVE-2015-3456'));
    assert.ok(block.events.length > 0 && block.events.every((e) => e.address === 0x3f5));
    const second = await guard.scan([
      { vm: 'a2', events: [inb(0x3fd), outb(0x3f8, 0x5a), inb(0x3fd), outb(0x3f8, 0x5b)] },
      { vm: 'b2', events: unknownDevice },
    ]);
    assert.deepEqual(
      second.map((v) => v.fate),
      ['cache-hit', 'cache-hit'],
      'normalised signatures repeat across VMs and values',
    );
    assert.equal(engineCalls, 1);
    const c = guard.counters;
    assert.equal(c.requests, 5);
    assert.equal(
      c.cacheHits + c.ruleBlock + c.ruleAlert + c.rulePass + c.engineNormal + c.engineAnomalous,
      5,
    );
  } finally {
    await guard.close();
  }
});

test('a full engine queue sheds with a reason instead of growing, and the shed is counted', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const engine: AnalysisEngine = {
    analyse: async () => (await gate, { anomalous: false, score: 0 }),
  };
  const guard = EscapeGuard.start({
    rules: await loadRules(),
    engine,
    queueCapacity: 2,
    engineConcurrency: 1,
  });
  try {
    const windows = Array.from({ length: 6 }, (_, i) => ({
      vm: `v${i}`,
      events: [outb(0x2f8 + (i % 8), i)],
    }));
    const pending = guard.scan(windows);
    setTimeout(release, 50);
    const verdicts = await pending;
    assert.equal(verdicts.filter((v) => v.fate === 'shed').length, 3);
    assert.ok(
      verdicts.filter((v) => v.fate === 'shed').every((v) => v.shedReason === 'queue-full'),
    );
    assert.equal(guard.counters.shed['queue-full'], 3);
    assert.equal(guard.counters.engineNormal, 3);
  } finally {
    await guard.close();
  }
});
