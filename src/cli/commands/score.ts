import type { Command } from 'commander';
import {
  isModelDirectory,
  replayAlerts,
  scoreTraces,
  type TraceFormat,
  type TraceResult,
  type WatchAlert,
} from '../../app/index.js';
import { VmsightError } from '../../core/index.js';
import { alertText } from './watch.js';
import { parseTraceFormat } from '../option-parsers.js';
import { printJson, printTable, type Column } from '../output.js';

interface ScoreOptions {
  model: string;
  format: TraceFormat;
  input: string;
  windows?: boolean;
  json?: boolean;
}

const COLUMNS: readonly Column<TraceResult>[] = [
  { header: 'TRACE', value: (row) => row.id },
  { header: 'PROGRAM', value: (row) => row.program },
  { header: 'CALLS', value: (row) => row.calls, align: 'right' },
  { header: 'SCORE', value: (row) => row.score.toPrecision(6), align: 'right' },
  { header: 'THRESHOLD', value: (row) => row.threshold?.toPrecision(6) ?? '-', align: 'right' },
  { header: 'ALARM', value: (row) => (row.alarm ? 'ALARM' : '-') },
];

/** `vmsight score`: score traces with a model; exit status 1 when any trace alarms. */
export function registerScoreCommand(program: Command): void {
  program
    .command('score')
    .description('score traces with a model; exits 1 when any trace raises an alarm')
    .requiredOption('--model <model>', 'model file, or model directory (vmtrace: replays alerts)')
    .requiredOption(
      '--format <format>',
      'adfa, strace, auditd, vmtrace or drakvuf',
      parseTraceFormat,
    )
    .requiredOption('--input <path>', 'trace file, or ADFA-LD folder')
    .option('--windows', 'also report window scores (anomalous ones in the table, all in --json)')
    .option('--json', 'print one JSON object with every trace')
    .action(async (options: ScoreOptions) => {
      if (await isModelDirectory(options.model)) {
        await replay(options);
        return;
      }
      const results: TraceResult[] = [];
      for await (const result of scoreTraces({
        model: options.model,
        format: options.format,
        input: options.input,
        windows: options.windows === true,
      })) {
        results.push(result);
      }
      const alarms = results.filter((result) => result.alarm).length;
      if (options.json === true) {
        printJson({ traces: results, alarms });
      } else {
        printTable(results, COLUMNS);
        if (options.windows === true) results.forEach(writeAnomalousWindows);
        process.stdout.write(`${results.length} traces scored, ${alarms} alarms\n`);
      }
      if (alarms > 0) process.exitCode = 1;
    });
}

/** In table mode only the anomalous windows are listed; `--json` carries every window. */
function writeAnomalousWindows(result: TraceResult): void {
  const anomalous = (result.windows ?? []).filter((window) => window.anomalous);
  if (anomalous.length === 0) return;
  process.stdout.write(`${result.id}: anomalous windows ending at calls\n`);
  for (const window of anomalous) {
    process.stdout.write(`  ${window.index}  score ${window.score.toPrecision(6)}\n`);
  }
}

/**
 * A model directory applies the models online, as `vmsight watch --model` does, to a recorded
 * watch: the same alerts the live run raised, in order.
 */
async function replay(options: ScoreOptions): Promise<void> {
  if (options.format !== 'vmtrace') {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `A model directory scores vmtrace recordings only, got --format ${options.format}`,
    );
  }
  const alerts: WatchAlert[] = [];
  for await (const alert of replayAlerts({ model: options.model, input: options.input })) {
    alerts.push(alert);
    if (options.json !== true) process.stdout.write(alertText(alert));
  }
  if (options.json === true) {
    printJson({ alerts, count: alerts.length });
  } else {
    process.stdout.write(`${alerts.length} alerts\n`);
  }
  if (alerts.length > 0) process.exitCode = 1;
}
