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
    assert.match(
      badFormat.stderr,
      /expected one of adfa, strace, auditd, vmtrace, drakvuf, got "csv"/,
    );

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

void describe('vmsight train / score --format drakvuf', () => {
  const fixture = resolve('src/events/fixtures', 'drakvuf-syscalls-sh-cat.jsonl');
  const drakvuf = (command: 'train' | 'score', input: string, ...rest: string[]) =>
    runVmsight([command, '--format', 'drakvuf', '--input', input, ...rest]);
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmsight-drakvuf-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('trains on DRAKVUF syscalls JSON and scores an altered run higher', () => {
    const model = join(dir, 'stide.json');
    const trained = drakvuf('train', fixture, '-o', model, '--model', 'stide', '--json');
    assert.equal(trained.status, 0, trained.stderr);
    const summary = JSON.parse(trained.stdout) as { traces: number; calls: number; abi: string };
    assert.deepEqual([summary.traces, summary.calls, summary.abi], [6, 322, 'x86-64']);

    // The second cat, right after its openat returns, opens a socket, connects and runs a shell.
    const lines = readFileSync(fixture, 'utf8').trim().split('\n');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const isCat = (record: Record<string, unknown>, plugin: string): boolean =>
      record['Plugin'] === plugin &&
      record['TID'] === 12803 &&
      record['ProcessName'] === '/usr/bin/cat';
    const template = records.find((record) => isCat(record, 'syscall'));
    const opened = records.findIndex(
      (record) => isCat(record, 'sysret') && record['Method'] === 'openat',
    );
    assert.ok(template !== undefined && opened > 0);
    const injected = Object.entries({ socket: 41, connect: 42, dup2: 33, execve: 59 }).map(
      ([Method, Syscall]) => JSON.stringify({ ...template, Method, Syscall }),
    );
    lines.splice(opened + 1, 0, ...injected);
    const attack = join(dir, 'attack.jsonl');
    writeFileSync(attack, lines.join('\n') + '\n');

    const score = (input: string) => {
      const scored = drakvuf('score', input, '--model', model, '--json');
      assert.ok(scored.status === 0 || scored.status === 1, scored.stderr);
      const { traces } = JSON.parse(scored.stdout) as {
        traces: { program: string; calls: number; score: number }[];
      };
      return traces;
    };
    const normal = score(fixture);
    assert.equal(normal.length, 6);
    assert.ok(
      normal.every((trace) => trace.score === 0),
      'the training run has no unseen sequence',
    );
    const cats = score(attack).filter((trace) => trace.program === '/usr/bin/cat');
    assert.deepEqual(
      cats.map((trace) => trace.calls),
      [117, 120],
    );
    assert.equal(cats[0]?.score, 0);
    assert.ok((cats[1]?.score ?? 0) > 0, 'the altered cat has sequences the model never saw');
  });

  void it('refuses a Windows record, naming the file and line', () => {
    const windows = join(dir, 'windows.jsonl');
    writeFileSync(
      windows,
      '{"Plugin":"syscall","TimeStamp":"1706000000.000000","PID":4567,"PPID":1000,"TID":4568,"UserId":0,"ProcessName":"notepad.exe","Method":"NtCreateFile","EventUID":"0x1","Module":"nt","vCPU":0,"CR3":"0x1a2b3c4d","Syscall":85,"NArgs":11,"PreviousMode":"User"}\n',
    );
    const refused = drakvuf('train', windows, '-o', join(dir, 'w.json'));
    assert.equal(refused.status, 3);
    assert.match(refused.stderr, /windows\.jsonl" line 1 field "Module": expected a Linux record/);
  });
});
