import type { ProgressListener } from '../core/index.js';
import {
  PerProgramModel,
  trainCalibrated,
  writeModelFile,
  type DetectorKind,
  type StoredModel,
} from '../detectors/index.js';
import { UNKNOWN_PROGRAM, type SyscallTrace, type TraceFormat } from '../events/index.js';
import { abiOf, loadTraces, syscallTokenSpace } from './trace-loading.js';

export interface TrainModelOptions {
  readonly format: TraceFormat;
  readonly input: string;
  readonly output: string;
  readonly kind: DetectorKind;
  /** One model per program (default: when the traces name more than one program). */
  readonly perProgram?: boolean;
  /** False-alarm rate the stored alarm threshold is calibrated for (default 0.01). */
  readonly targetFalseAlarmRate?: number;
  readonly onProgress?: ProgressListener;
}

export interface TrainingSummary {
  readonly model: string;
  readonly kind: DetectorKind;
  readonly perProgram: boolean;
  readonly abi: string;
  readonly traces: number;
  readonly calls: number;
  /** Programs with a model of their own (per-program models only). */
  readonly programs: readonly string[];
  /** Attack-labelled traces in the input, left out of training. */
  readonly skippedAttackTraces: number;
  readonly threshold: number | undefined;
  readonly seconds: number;
}

/**
 * Trains a detector on the normal traces of a file or dataset folder, calibrates its alarm
 * threshold on held-out folds of the same traces, and writes the model file. Traces labelled as
 * attacks (ADFA-LD's Attack_Data_Master) are never trained on.
 */
export async function trainModel(options: TrainModelOptions): Promise<TrainingSummary> {
  const started = performance.now();
  const all = await loadTraces(options.format, options.input, {
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  const normal = all.filter((trace) => trace.label?.kind !== 'attack');
  const abi = abiOf(normal, options.input);
  const byProgram = groupByProgram(normal);
  const perProgram =
    options.perProgram ?? [...byProgram.keys()].filter((key) => key !== UNKNOWN_PROGRAM).length > 1;
  const calibration =
    options.targetFalseAlarmRate === undefined
      ? {}
      : { targetFalseAlarmRate: options.targetFalseAlarmRate };
  options.onProgress?.({ label: `training ${options.kind}`, done: 0, total: 1 });
  const model: StoredModel = perProgram
    ? PerProgramModel.train(options.kind, byProgram, { calibration })
    : trainCalibrated(
        options.kind,
        normal.map((trace) => trace.calls),
        calibration,
      );
  await writeModelFile(options.output, model, syscallTokenSpace(abi));
  options.onProgress?.({ label: `training ${options.kind}`, done: 1, total: 1 });
  return {
    model: options.output,
    kind: options.kind,
    perProgram,
    abi,
    traces: normal.length,
    calls: normal.reduce((sum, trace) => sum + trace.calls.length, 0),
    programs: model instanceof PerProgramModel ? model.programs : [],
    skippedAttackTraces: all.length - normal.length,
    threshold: model instanceof PerProgramModel ? model.fallback.threshold : model.threshold,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Traces' calls by program key, in input order. */
export function groupByProgram(traces: readonly SyscallTrace[]): Map<string, Uint32Array[]> {
  const byProgram = new Map<string, Uint32Array[]>();
  for (const trace of traces) {
    const list = byProgram.get(trace.programKey) ?? [];
    list.push(trace.calls);
    byProgram.set(trace.programKey, list);
  }
  return byProgram;
}
