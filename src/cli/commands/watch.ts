import { InvalidArgumentError, type Command } from 'commander';
import {
  OverflowPolicy,
  WATCH_SENSORS,
  learnVmModels,
  parseWatchSensorKind,
  watchSensorCapture,
  watchVm,
  type EscapeAlertUpdate,
  type EscapeEvidenceUpdate,
  type ModelDirectorySummary,
  type WatchAlert,
  type WatchStats,
  type WatchSensorKind,
  type WatchUpdate,
} from '../../app/index.js';
import { VmsightError, createLogger } from '../../core/index.js';

interface WatchCommandOptions {
  vm: string;
  sensor: WatchSensorKind;
  model?: string;
  record?: string;
  json?: boolean;
  duration?: number;
  io: boolean;
  guard?: boolean;
  seize: boolean;
  home?: string;
  drop?: boolean;
  vmlinux?: string;
  fastCapture?: boolean;
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

function parseSensor(value: string): WatchSensorKind {
  try {
    return parseWatchSensorKind(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
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

/** An escape verdict: VM, rule, CVEs and whether the VM is paused, then the matching accesses. */
export function escapeText(alert: EscapeAlertUpdate): string {
  const state = alert.paused
    ? `VM PAUSED (resume with QMP "cont" when cleared)${alert.triggerToStoppedMs === undefined ? '' : `, ${alert.triggerToStoppedMs.toFixed(1)} ms after the trigger`}`
    : alert.pauseError === undefined
      ? 'VM left running'
      : `pause FAILED: ${alert.pauseError}`;
  const shown = alert.events.slice(-8);
  const accesses = shown
    .map((e) => `${e.direction} 0x${e.address.toString(16)}=0x${e.value.toString(16)}`)
    .join(' ');
  return (
    `ESCAPE ${alert.action.toUpperCase()} ${alert.vm} rule ${alert.ruleId} ` +
    `(${alert.cves.join(', ')}) ${alert.severity} on ${alert.device}: ${state}\n` +
    `  accesses (${alert.events.length === shown.length ? '' : `last ${shown.length} of `}${alert.events.length}): ${accesses}\n`
  );
}

function evidenceText(update: EscapeEvidenceUpdate): string {
  return update.itemId === undefined
    ? `EVIDENCE FAILED ${update.vm} (${update.ruleId}): ${update.error ?? 'unknown error'}\n`
    : update.alreadyAcquired === true
      ? `EVIDENCE ${update.vm} item ${update.itemId} (acquired after this trigger) covers: ${update.reason}\n`
      : `EVIDENCE ${update.vm} item ${update.itemId} acquired: ${update.reason}\n`;
}

function render(update: WatchUpdate, json: boolean): string {
  if (json) return jsonLine(update);
  switch (update.type) {
    case 'stats':
      return statsLine(update);
    case 'escape':
      return escapeText(update);
    case 'evidence':
      return evidenceText(update);
    case 'alert':
      return alertText(update);
  }
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

/** `vmsight watch`: live syscalls and/or I/O of a VM, scored online; exits 1 when it alerted. */
export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description('capture a VM live (syscalls per process, I/O) and alert on anomalies')
    .requiredOption(
      '--vm <name>',
      'VM to watch: "vmsight lab up --tcg-sensor" (tcg), "vmsight vm add --pid" of a KVM QEMU (kvm), "vmsight lab up --gdb" (gdb)',
    )
    .option(
      '--sensor <name>',
      `${WATCH_SENSORS.join('|')}: tcg = syscalls per process + I/O (TCG VMs); kvm = port I/O and MMIO of a KVM VM, no processes; gdb = syscalls per process through the gdbstub, ~130-230 calls/s (short captures)`,
      parseSensor,
      'tcg',
    )
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
    .option('--guard', 'run the VM-escape guard over the I/O events (default: on with I/O capture)')
    .option('--no-guard', 'do not run the VM-escape guard')
    .option('--no-seize', 'do not acquire evidence when the guard pauses the VM')
    .option(
      '--home <dir>',
      'vmsight home of the evidence store (default $VMSIGHT_HOME or .vmsight)',
    )
    .option('--drop', 'keep the guest at full speed and count dropped events instead')
    .option('--vmlinux <file>', 'kernel image with BTF, for VMs that are not lab VMs')
    .option(
      '--fast-capture',
      'tcg: keep the 64 KiB pipe: a syscall-heavy guest slows less, but names and arguments of short-lived processes may be missing',
    )
    .action(async (options: WatchCommandOptions) => {
      const json = options.json === true || !process.stdout.isTTY;
      const abort = new AbortController();
      // Ctrl-C stops capture in QEMU (restoring the guest's speed) and ends the stream cleanly.
      const onSignal = (): void => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let alerts = 0;
      const show = (update: WatchUpdate): void => {
        if (update.type === 'alert' || update.type === 'escape') alerts += 1;
        process.stdout.write(render(update, json));
      };
      // Capture, guard and evidence options, the same for learning and watching.
      const capture = {
        vm: options.vm,
        sensor: options.sensor,
        io: options.io,
        // On whenever the sensor captures I/O, unless --no-guard; --guard without I/O is refused.
        guard: options.guard ?? watchSensorCapture(options.sensor, options.io).io,
        seize: options.seize,
        signal: abort.signal,
        log: createLogger(),
        ...(options.drop === true ? { policy: OverflowPolicy.DROP } : {}),
        ...(options.vmlinux === undefined ? {} : { vmlinux: options.vmlinux }),
        ...(options.fastCapture === true ? { fastCapture: true } : {}),
        ...(options.home === undefined ? {} : { home: options.home }),
      };
      try {
        if (options.learn !== undefined) {
          if (options.output === undefined || options.model !== undefined) {
            throw new VmsightError('INVALID_ARGUMENT', '--learn needs -o MODEL_DIR and no --model');
          }
          const summary = await learnVmModels({
            ...capture,
            output: options.output,
            durationSeconds: options.learn,
            onUpdate: show,
          });
          process.stdout.write(
            json ? jsonLine({ type: 'learned', ...summary }) : learnedText(summary),
          );
        } else {
          for await (const update of watchVm({
            ...capture,
            ...(options.model === undefined ? {} : { model: options.model }),
            ...(options.record === undefined ? {} : { record: options.record }),
            ...(options.duration === undefined ? {} : { durationSeconds: options.duration }),
          })) {
            show(update);
          }
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      if (alerts > 0) process.exitCode = 1;
    });
}
