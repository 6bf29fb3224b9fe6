import { InvalidArgumentError, type Command } from 'commander';
import {
  OverflowPolicy,
  learnVmModels,
  watchVm,
  type ModelDirectorySummary,
  type WatchAlert,
  type WatchStats,
  type WatchUpdate,
} from '../../app/index.js';
import { VmsightError, createLogger } from '../../core/index.js';

interface WatchCommandOptions {
  vm: string;
  model?: string;
  record?: string;
  json?: boolean;
  duration?: number;
  io: boolean;
  drop?: boolean;
  vmlinux?: string;
  learn?: number;
  output?: string;
}

/** A duration such as `90`, `90s`, `5m` or `1h`, in seconds. */
function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(value.trim());
  const unit = match?.[2] === 'h' ? 3600 : match?.[2] === 'm' ? 60 : 1;
  const seconds = Number(match?.[1]) * unit;
  if (match === null || !Number.isFinite(seconds) || seconds <= 0) {
    throw new InvalidArgumentError('expected a duration such as 90, 90s, 5m or 1h');
  }
  return seconds;
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new InvalidArgumentError('expected a positive number of seconds');
  }
  return seconds;
}

/** JSON with bigint values as decimal strings, one object per line. */
function jsonLine(value: unknown): string {
  return `${JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item))}\n`;
}

function statsLine(stats: WatchStats): string {
  const top = stats.topProcesses
    .map((entry) => `${entry.process.comm}[${entry.process.pid}]:${entry.syscalls}`)
    .join(' ');
  return (
    `[${stats.elapsedSeconds.toFixed(1)} s] ${stats.eventsPerSecond.toFixed(0)} events/s, ` +
    `${stats.sensor.delivered} delivered, ${stats.sensor.dropped} dropped, ${stats.alerts} alerts` +
    (top === '' ? '' : `  top: ${top}`) +
    '\n'
  );
}

/** Two lines per alert: who and how far over the line, then the anomalous window. */
export function alertText(alert: WatchAlert): string {
  const threshold = alert.threshold === undefined ? '-' : alert.threshold.toPrecision(4);
  const who =
    alert.process === undefined
      ? 'no process'
      : `${alert.process.comm}[${alert.process.pid}] program ${alert.process.programKey}`;
  return (
    `ALERT ${alert.reason} ${alert.vm} ${who} (model ${alert.model}) ` +
    `score ${alert.score.toPrecision(4)}, threshold ${threshold}\n` +
    `  ${alert.reason === 'io-sequence' ? 'I/O' : 'calls'}: ${alert.window.join(' ')}\n`
  );
}

function render(update: WatchUpdate, json: boolean): string {
  if (json) return jsonLine(update);
  if (update.type === 'stats') return statsLine(update);
  return alertText(update);
}

function learnedText(summary: ModelDirectorySummary): string {
  const io =
    summary.ioThreshold === undefined && summary.ioVocabulary === 0
      ? 'no I/O model (too few I/O events)'
      : `I/O model over ${summary.ioTokens} tokens (${summary.ioVocabulary} distinct), threshold ${summary.ioThreshold?.toPrecision(4) ?? '-'}`;
  return (
    `Learned ${summary.kind} models for ${summary.programs.length} programs + fallback from ` +
    `${summary.traces} processes, ${summary.calls} calls; ${io}\n` +
    `Models written to ${summary.output}\n`
  );
}

/** `vmsight watch`: live syscalls and I/O of a TCG VM, scored online; exits 1 when it alerted. */
export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description('capture a TCG VM live (syscalls per process, I/O) and alert on anomalies')
    .requiredOption('--vm <name>', 'VM started with "vmsight lab up --tcg-sensor"')
    .option('--model <dir>', 'model directory from "--learn" or "vmsight train --format vmtrace"')
    .option(
      '--learn <duration>',
      'capture for this long (90s, 5m), then learn models',
      parseDuration,
    )
    .option('-o, --output <dir>', 'model directory written by --learn')
    .option('--record <file>', 'also record every event to a .vmtrace.jsonl[.zst] file')
    .option('--json', 'print alerts and stats as JSON lines')
    .option('--duration <seconds>', 'stop after this many seconds (default: Ctrl-C)', parseSeconds)
    .option('--no-io', 'do not capture I/O trace events')
    .option('--drop', 'keep the guest at full speed and count dropped events instead')
    .option('--vmlinux <file>', 'kernel image with BTF, for VMs that are not lab VMs')
    .action(async (options: WatchCommandOptions) => {
      const json = options.json === true || !process.stdout.isTTY;
      const abort = new AbortController();
      // Ctrl-C stops capture in QEMU (restoring the guest's speed) and ends the stream cleanly.
      const onSignal = (): void => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let alerts = 0;
      try {
        if (options.learn !== undefined) {
          if (options.output === undefined || options.model !== undefined) {
            throw new VmsightError('INVALID_ARGUMENT', '--learn needs -o MODEL_DIR and no --model');
          }
          const summary = await learnVmModels({
            vm: options.vm,
            output: options.output,
            durationSeconds: options.learn,
            io: options.io,
            signal: abort.signal,
            log: createLogger(),
            ...(options.drop === true ? { policy: OverflowPolicy.DROP } : {}),
            ...(options.vmlinux === undefined ? {} : { vmlinux: options.vmlinux }),
            onUpdate: (update) => process.stdout.write(render(update, json)),
          });
          process.stdout.write(
            json ? jsonLine({ type: 'learned', ...summary }) : learnedText(summary),
          );
          return;
        }
        for await (const update of watchVm({
          vm: options.vm,
          io: options.io,
          signal: abort.signal,
          log: createLogger(),
          ...(options.model === undefined ? {} : { model: options.model }),
          ...(options.record === undefined ? {} : { record: options.record }),
          ...(options.duration === undefined ? {} : { durationSeconds: options.duration }),
          ...(options.drop === true ? { policy: OverflowPolicy.DROP } : {}),
          ...(options.vmlinux === undefined ? {} : { vmlinux: options.vmlinux }),
        })) {
          if (update.type === 'alert') alerts += 1;
          process.stdout.write(render(update, json));
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      if (alerts > 0) process.exitCode = 1;
    });
}
