import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { VmsightError, type ProgressListener } from '../core/index.js';
import {
  DetectorKind,
  PerProgramModel,
  train,
  trainCalibrated,
  type TrainedModel,
} from '../detectors/index.js';
import { readGuestEvents } from '../events/index.js';
import { ArgumentModel } from './argument-model.js';
import { ioToken, IoVocabulary } from './io-tokens.js';
import { writeModelDirectory, type IoSequenceModel } from './model-directory.js';
import { ioWindow } from './model-monitor.js';
import { groupByProgram } from './model-training.js';
import { onlineThreshold } from './online-calibration.js';
import { SYSCALL_WINDOW } from './syscall-alerter.js';
import { loadTraces } from './trace-loading.js';
import { watchVm, type WatchOptions, type WatchUpdate } from './watch-service.js';

/** I/O tokens per training trace of the I/O model (and span of its online running score). */
export const IO_TRACE_LENGTH = 64;
/** Most I/O tokens learned from one input (4 bytes each); later ones are not trained on. */
export const MAX_IO_TRAINING_TOKENS = 8 * 1024 * 1024;
/** I/O training traces needed for a calibrated model (the cross-validation needs folds). */
const MIN_IO_TRACES = 10;

export interface TrainModelDirectoryOptions {
  /** A vmtrace recording (`vmsight watch --record`). */
  readonly input: string;
  /** Model directory to write. */
  readonly output: string;
  /** Detector of the per-program system-call models. Default `stide`. */
  readonly kind?: DetectorKind;
  /** False-alarm rate the thresholds are calibrated for (default 0.01). */
  readonly targetFalseAlarmRate?: number;
  readonly onProgress?: ProgressListener;
}

export interface ModelDirectorySummary {
  readonly output: string;
  readonly kind: DetectorKind;
  /** System-call traces (one per process and program image) trained on. */
  readonly traces: number;
  readonly calls: number;
  /** Programs with a model of their own. */
  readonly programs: readonly string[];
  readonly syscallThreshold: number | undefined;
  readonly ioTokens: number;
  readonly ioVocabulary: number;
  /** Threshold of the online I/O running mean (else the I/O model's trace threshold). */
  readonly ioThreshold: number | undefined;
  /** Per program, the threshold of the online running mean of its system calls. */
  readonly onlineThresholds: Readonly<Record<string, number>>;
  readonly seconds: number;
}

/**
 * Trains the models `vmsight watch --model` applies from a vmtrace recording and writes them as a
 * model directory: per-program system-call models, and a per-VM I/O-sequence model (STIDE and
 * Markov, combined as an ensemble) over the recording's I/O tokens. Every threshold is calibrated
 * on held-back folds of the training traces (cross-validation) for the target false-alarm rate.
 */
export async function trainModelDirectory(
  options: TrainModelDirectoryOptions,
): Promise<ModelDirectorySummary> {
  const started = performance.now();
  const kind = options.kind ?? DetectorKind.stide;
  const calibration =
    options.targetFalseAlarmRate === undefined
      ? {}
      : { targetFalseAlarmRate: options.targetFalseAlarmRate };
  const traces = (
    await loadTraces('vmtrace', options.input, {
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    })
  ).filter((trace) => trace.abi === 'x86-64');
  options.onProgress?.({ label: 'training system-call models', done: 0, total: 2 });
  // A recording without system calls (the KVM sensor sees only I/O) gives an I/O-only set.
  const byProgram = groupByProgram(traces);
  const syscalls =
    traces.length === 0 ? undefined : PerProgramModel.train(kind, byProgram, { calibration });
  const online = new Map<string, number>();
  for (const program of syscalls?.programs ?? []) {
    const threshold = onlineThreshold(
      byProgram.get(program) ?? [],
      (training) => train(kind, training),
      SYSCALL_WINDOW,
    );
    if (threshold !== undefined) online.set(program, threshold);
  }
  options.onProgress?.({ label: 'training the I/O model', done: 1, total: 2 });
  const { io, tokens, argumentModel, ioOnline } = await learnFromEvents(options.input, calibration);
  if (syscalls === undefined && io === undefined) {
    throw new VmsightError(
      'INVALID_INPUT',
      `Cannot learn from "${options.input}": it holds no x86-64 system calls of guest processes and only ${tokens} I/O events (an I/O model needs ${MIN_IO_TRACES * IO_TRACE_LENGTH})`,
    );
  }
  await writeModelDirectory(options.output, {
    syscalls,
    io,
    online: { syscalls: online, io: ioOnline },
    arguments: argumentModel,
    source: options.input,
  });
  options.onProgress?.({ label: 'training the I/O model', done: 2, total: 2 });
  return {
    output: options.output,
    kind,
    traces: traces.length,
    calls: traces.reduce((sum, trace) => sum + trace.calls.length, 0),
    programs: syscalls?.programs ?? [],
    syscallThreshold: syscalls?.fallback.threshold,
    ioTokens: tokens,
    ioVocabulary: io?.vocabulary.tokens.length ?? 0,
    ioThreshold: ioOnline ?? io?.model.threshold,
    onlineThresholds: Object.fromEntries(online),
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * One pass over the recording: the arguments each program's calls named, and the I/O model. The
 * I/O tokens, in order, are cut into consecutive traces of `IO_TRACE_LENGTH` (not overlapping,
 * so that cross-validation holds back tokens no training fold saw).
 */
async function learnFromEvents(
  input: string,
  calibration: { targetFalseAlarmRate?: number },
): Promise<{
  io: IoSequenceModel | undefined;
  tokens: number;
  argumentModel: ArgumentModel;
  ioOnline: number | undefined;
}> {
  const vocabulary = new IoVocabulary();
  const argumentModel = ArgumentModel.empty();
  const ids = new Uint32Array(MAX_IO_TRAINING_TOKENS);
  let count = 0;
  for await (const event of readGuestEvents('vmtrace', input)) {
    if (event.type === 'syscall' && event.process !== undefined) {
      argumentModel.add(event.process.programKey, event);
      continue;
    }
    const token = ioToken(event);
    if (token === undefined) continue;
    if (count >= ids.length) break;
    ids[count] = vocabulary.id(token);
    count += 1;
  }
  vocabulary.freeze();
  const chunks: Uint32Array[] = [];
  for (let start = 0; start + IO_TRACE_LENGTH <= count; start += IO_TRACE_LENGTH) {
    chunks.push(ids.slice(start, start + IO_TRACE_LENGTH));
  }
  if (chunks.length < MIN_IO_TRACES) {
    return { io: undefined, tokens: count, argumentModel, ioOnline: undefined };
  }
  const detector = {
    members: [{ kind: DetectorKind.stide }, { kind: DetectorKind.markov }],
  } as const;
  const model: TrainedModel = trainCalibrated(DetectorKind.ensemble, chunks, {
    ...calibration,
    detector,
  });
  // Held-back stretches of the stream: each fold's chunks, in order, as one sequence.
  const folds = splitContiguous(chunks, IO_CALIBRATION_FOLDS);
  const ioOnline = onlineThreshold(
    folds.map((fold) => concat(fold)),
    (training) =>
      train(
        DetectorKind.ensemble,
        training.flatMap((part) => cut(part)),
        detector,
      ),
    ioWindow(IO_TRACE_LENGTH),
  );
  return {
    io: { model, vocabulary, traceLength: IO_TRACE_LENGTH },
    tokens: count,
    argumentModel,
    ioOnline,
  };
}

const IO_CALIBRATION_FOLDS = 10;

function splitContiguous<T>(items: readonly T[], parts: number): T[][] {
  const out: T[][] = [];
  for (let part = 0; part < parts; part += 1) {
    out.push(
      items.slice(
        Math.floor((part * items.length) / parts),
        Math.floor(((part + 1) * items.length) / parts),
      ),
    );
  }
  return out.filter((part) => part.length > 0);
}

function concat(parts: readonly Uint32Array[]): Uint32Array {
  const out = new Uint32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A held-back stretch back into training traces of `IO_TRACE_LENGTH`. */
function cut(stretch: Uint32Array): Uint32Array[] {
  const out: Uint32Array[] = [];
  for (let start = 0; start + IO_TRACE_LENGTH <= stretch.length; start += IO_TRACE_LENGTH) {
    out.push(stretch.subarray(start, start + IO_TRACE_LENGTH));
  }
  return out;
}

export interface LearnVmOptions extends Omit<WatchOptions, 'model' | 'record'> {
  /** Model directory to write; the capture is kept there as `learned.vmtrace.jsonl`. */
  readonly output: string;
  readonly kind?: DetectorKind;
  readonly targetFalseAlarmRate?: number;
  /** Sees the capture's stats as they come. */
  readonly onUpdate?: (update: WatchUpdate) => void;
}

/**
 * `vmsight watch --learn`: captures the VM for the duration (or until aborted), recording every
 * event into the model directory, then trains on that recording exactly as `vmsight train
 * --format vmtrace` would.
 */
export async function learnVmModels(options: LearnVmOptions): Promise<ModelDirectorySummary> {
  const { output, kind, targetFalseAlarmRate, onUpdate, ...watch } = options;
  await mkdir(output, { recursive: true });
  const record = join(output, 'learned.vmtrace.jsonl');
  for await (const update of watchVm({ ...watch, record })) onUpdate?.(update);
  return trainModelDirectory({
    input: record,
    output,
    ...(kind === undefined ? {} : { kind }),
    ...(targetFalseAlarmRate === undefined ? {} : { targetFalseAlarmRate }),
  });
}
