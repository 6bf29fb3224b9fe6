import assert from 'node:assert/strict';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adfaLdDataset } from '../../app/internal.js';
import { runVmsight } from '../internal-test/run-cli.js';

const STRACE_FIXTURE = 'strace-f-tt-T.txt';
const { root: ADFA_LD, skip: missing } = adfaLdDataset();

/**
 * A small copy of ADFA-LD with its real folder layout and real traces (every 8th training and
 * validation trace, three attack folders), so the commands run end to end in seconds.
 */
function makeSubset(root: string): void {
  for (const part of ['Training_Data_Master', 'Validation_Data_Master']) {
    mkdirSync(join(root, part), { recursive: true });
    readdirSync(join(ADFA_LD, part))
      .sort()
      .filter((_name, index) => index % 8 === 0)
      .forEach((name) => cpSync(join(ADFA_LD, part, name), join(root, part, name)));
  }
  for (const folder of ['Adduser_1', 'Hydra_FTP_1', 'Web_Shell_1']) {
    cpSync(join(ADFA_LD, 'Attack_Data_Master', folder), join(root, 'Attack_Data_Master', folder), {
      recursive: true,
    });
  }
}

void describe('vmsight train / score / eval on ADFA-LD', { skip: missing }, () => {
  let dir = '';
  let subset = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmsight-cli-'));
    subset = join(dir, 'adfa-ld');
    makeSubset(subset);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('trains a model, then scores attacks with alarms and exit status 1', () => {
    const model = join(dir, 'stide.json');
    const trained = runVmsight([
      'train',
      '--format',
      'adfa',
      '--input',
      join(subset, 'Training_Data_Master'),
      '-o',
      model,
      '--model',
      'stide',
      '--json',
    ]);
    assert.equal(trained.status, 0, trained.stderr);
    const summary = JSON.parse(trained.stdout) as {
      traces: number;
      abi: string;
      threshold: number;
    };
    assert.equal(summary.traces, 105);
    assert.equal(summary.abi, 'i386');
    assert.ok(summary.threshold > 0);

    const scored = runVmsight([
      'score',
      '--model',
      model,
      '--format',
      'adfa',
      '--input',
      join(subset, 'Attack_Data_Master'),
      '--json',
      '--windows',
    ]);
    assert.equal(scored.status, 1, `any alarm exits 1: ${scored.stderr}`);
    const result = JSON.parse(scored.stdout) as {
      alarms: number;
      traces: { id: string; calls: number; score: number; alarm: boolean; windows: unknown[] }[];
    };
    assert.ok(result.alarms > 0);
    assert.equal(result.alarms, result.traces.filter((trace) => trace.alarm).length);
    for (const trace of result.traces) assert.equal(trace.windows.length, trace.calls);

    const normal = runVmsight([
      'score',
      '--model',
      model,
      '--format',
      'adfa',
      '--input',
      join(
        subset,
        'Training_Data_Master',
        readdirSync(join(subset, 'Training_Data_Master'))[0] ?? '',
      ),
    ]);
    assert.equal(normal.status, 0, 'a trace from the training set does not alarm');
    assert.match(normal.stdout, /1 traces scored, 0 alarms/);
  });

  void it('eval --json reports the issue contract fields and writes a ROC plot', () => {
    const plot = join(dir, 'roc.svg');
    const evaluated = runVmsight([
      'eval',
      '--dataset',
      'adfa-ld',
      subset,
      '--model',
      'stide,markov',
      '--json',
      '--plot',
      plot,
    ]);
    assert.equal(evaluated.status, 0, evaluated.stderr);
    const result = JSON.parse(evaluated.stdout) as Record<string, unknown> & {
      auc: number;
      dr_at_far: Record<string, number>;
      per_attack: Record<string, { traces: number }>;
      models: { model: string; auc: number; parameters: { chosenBy: string }[] }[];
      traces: { training: number; validation: number; attack: number };
    };
    assert.deepEqual(Object.keys(result.dr_at_far).sort(), ['0.01', '0.05', '0.1']);
    assert.ok(result.auc > 0.5 && result.auc <= 1, `AUC ${result.auc}`);
    assert.deepEqual(Object.keys(result.per_attack).sort(), ['Adduser', 'Hydra_FTP', 'Web_Shell']);
    assert.equal(typeof result['train_seconds'], 'number');
    assert.ok((result['score_events_per_second'] as number) > 0);
    assert.deepEqual(
      result.models.map((model) => model.model),
      ['stide', 'markov'],
    );
    assert.equal(result.auc, result.models[0]?.auc);
    for (const model of result.models) assert.ok(model.parameters.length > 0);
    assert.equal(result.traces.training, 105);
    assert.match(readFileSync(plot, 'utf8'), /<svg[\s\S]*stide \(AUC [\s\S]*markov \(AUC/);
  });

  void it('names what was wrong, with the documented exit status', () => {
    const badFormat = runVmsight(['train', '--format', 'csv', '--input', subset, '-o', 'x']);
    assert.equal(badFormat.status, 2);
    assert.match(badFormat.stderr, /expected one of adfa, strace, auditd, vmtrace, got "csv"/);

    const noInput = runVmsight([
      'score',
      '--model',
      join(dir, 'none.json'),
      '--format',
      'adfa',
      '--input',
      subset,
    ]);
    assert.equal(noInput.status, 4);
    assert.match(noInput.stderr, /none\.json/);

    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(
      corrupt,
      '{"format":"vmsight-model","version":1,"sha256":"00","model":{"kind":"stide"}}',
    );
    const badModel = runVmsight([
      'score',
      '--model',
      corrupt,
      '--format',
      'adfa',
      '--input',
      subset,
      '--json',
    ]);
    assert.equal(badModel.status, 5);
    assert.equal(
      (JSON.parse(badModel.stdout) as { error: { code: string } }).error.code,
      'MODEL_INVALID',
    );

    const badTrace = join(dir, 'bad-trace.txt');
    writeFileSync(badTrace, '6 6 63 abc 5 ');
    const model = join(dir, 'stide.json');
    const parseError = runVmsight([
      'score',
      '--model',
      model,
      '--format',
      'adfa',
      '--input',
      badTrace,
    ]);
    assert.equal(parseError.status, 3);
    assert.match(parseError.stderr, /bad-trace\.txt.*line 1/);

    const strace = resolve('src/events/fixtures', STRACE_FIXTURE);
    const otherAbi = runVmsight([
      'score',
      '--model',
      model,
      '--format',
      'strace',
      '--input',
      strace,
    ]);
    assert.equal(otherAbi.status, 3);
    assert.match(otherAbi.stderr, /trained on syscall:i386 tokens, the trace is syscall:x86-64/);

    const notDataset = runVmsight([
      'eval',
      '--dataset',
      'adfa-ld',
      join(subset, 'Attack_Data_Master'),
    ]);
    assert.equal(notDataset.status, 3);
    assert.match(notDataset.stderr, /no traces found under Training_Data_Master/);
  });
});
