import type { Command } from 'commander';
import {
  trainModel,
  trainModelDirectory,
  type DetectorKind,
  type TraceFormat,
} from '../../app/index.js';
import { parseDetectorKind, parseRate, parseTraceFormat } from '../option-parsers.js';
import { printJson } from '../output.js';
import { ProgressBar } from '../progress.js';

interface TrainOptions {
  format: TraceFormat;
  input: string;
  output: string;
  model?: DetectorKind;
  perProgram?: boolean;
  far?: number;
  json?: boolean;
}

/** `vmsight train`: learn normal behaviour from traces and write a model file. */
export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('learn normal system-call sequences from traces and write a model file')
    .requiredOption(
      '--format <format>',
      'adfa, strace, auditd, vmtrace or drakvuf',
      parseTraceFormat,
    )
    .requiredOption('--input <path>', 'trace file, or ADFA-LD folder')
    .requiredOption('-o, --output <model>', 'model file (vmtrace: model directory) to write')
    .option(
      '--model <kind>',
      'stide, tstide, markov or ensemble (vmtrace default: stide)',
      parseDetectorKind,
    )
    .option('--per-program', 'one model per program (default: when traces name several programs)')
    .option('--no-per-program', 'one model for all programs')
    .option('--far <rate>', 'false-alarm rate the alarm threshold is calibrated for', parseRate)
    .option('--json', 'print the training summary as JSON')
    .action(async (options: TrainOptions) => {
      const progress = new ProgressBar({ enabled: options.json !== true });
      if (options.format === 'vmtrace') {
        // A recorded watch trains what `vmsight watch --model` applies: a model directory.
        const learned = await trainModelDirectory({
          input: options.input,
          output: options.output,
          ...(options.model === undefined ? {} : { kind: options.model }),
          ...(options.far === undefined ? {} : { targetFalseAlarmRate: options.far }),
          onProgress: (report) => progress.update(report),
        });
        progress.finish();
        if (options.json === true) printJson(learned);
        else
          process.stdout.write(
            `Trained ${learned.kind} models for ${learned.programs.length} programs + fallback on ${learned.traces} processes, ${learned.calls} calls; ` +
              `I/O model: ${learned.ioVocabulary} tokens, threshold ${learned.ioThreshold?.toPrecision(4) ?? '-'}\n` +
              `Model directory written to ${learned.output}\n`,
          );
        return;
      }
      const summary = await trainModel({
        format: options.format,
        input: options.input,
        output: options.output,
        kind: options.model ?? 'ensemble',
        ...(options.perProgram === undefined ? {} : { perProgram: options.perProgram }),
        ...(options.far === undefined ? {} : { targetFalseAlarmRate: options.far }),
        onProgress: (report) => progress.update(report),
      });
      progress.finish();
      if (options.json === true) {
        printJson(summary);
        return;
      }
      const scope = summary.perProgram
        ? `${summary.programs.length} programs + fallback`
        : 'one model for all programs';
      process.stdout.write(
        `Trained ${summary.kind} (${scope}) on ${summary.traces} traces, ${summary.calls} calls (${summary.abi}) in ${summary.seconds.toFixed(1)} s\n` +
          `Alarm threshold ${summary.threshold?.toPrecision(6) ?? 'none'}; model written to ${summary.model}\n` +
          (summary.skippedAttackTraces > 0
            ? `Left out ${summary.skippedAttackTraces} traces labelled as attacks\n`
            : ''),
      );
    });
}
