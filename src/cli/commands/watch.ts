import { InvalidArgumentError, type Command } from 'commander';
import { OverflowPolicy, watchVm, type WatchStats, type WatchUpdate } from '../../app/index.js';
import { createLogger } from '../../core/index.js';

interface WatchCommandOptions {
  vm: string;
  model?: string;
  record?: string;
  json?: boolean;
  duration?: number;
  io: boolean;
  drop?: boolean;
  vmlinux?: string;
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

function render(update: WatchUpdate, json: boolean): string {
  if (json) return jsonLine(update);
  if (update.type === 'stats') return statsLine(update);
  const threshold = update.threshold === undefined ? '-' : update.threshold.toPrecision(4);
  return (
    `ALERT ${update.reason} ${update.vm} ${update.process.comm}[${update.process.pid}] ` +
    `program ${update.process.programKey} (model ${update.model}) ` +
    `score ${update.score.toPrecision(4)}, threshold ${threshold}\n` +
    `  calls: ${update.window.join(' ')}\n`
  );
}

/** `vmsight watch`: live syscalls and I/O of a TCG VM, scored online; exits 1 when it alerted. */
export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description('capture a TCG VM live (syscalls per process, I/O) and alert on anomalies')
    .requiredOption('--vm <name>', 'VM started with "vmsight lab up --tcg-sensor"')
    .option('--model <file>', 'model from "vmsight train" (per-program models score by program)')
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
