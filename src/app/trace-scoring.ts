import { VmsightError, type ProgressListener } from '../core/index.js';
import {
  PerProgramModel,
  readModelFile,
  type StoredModel,
  type TrainedModel,
} from '../detectors/index.js';
import { readGuestEvents, readSyscallTraces, type TraceFormat } from '../events/index.js';
import { ModelMonitor, type WatchAlert } from './model-monitor.js';
import { syscallTokenSpace } from './trace-loading.js';
import { loadModelSet } from './watch-service.js';

export interface ScoreTracesOptions {
  readonly model: string;
  readonly format: TraceFormat;
  readonly input: string;
  /** Also report every window's score (one per call). */
  readonly windows?: boolean;
  readonly onProgress?: ProgressListener;
}

export interface WindowResult {
  readonly index: number;
  readonly score: number;
  readonly anomalous: boolean;
}

export interface TraceResult {
  readonly id: string;
  readonly program: string;
  readonly pid: number | undefined;
  readonly calls: number;
  readonly score: number;
  readonly threshold: number | undefined;
  readonly alarm: boolean;
  readonly anomalousWindows: number;
  readonly windows?: readonly WindowResult[];
}

/**
 * Scores each trace of the input with a stored model, streaming: one trace is in memory at a time.
 * A trace alarms when its score is above the threshold stored with the model that scored it (its
 * program's model, or the fallback).
 */
export async function* scoreTraces(options: ScoreTracesOptions): AsyncGenerator<TraceResult> {
  const { model: stored, tokens } = await readModelFile(options.model);
  let done = 0;
  for await (const trace of readSyscallTraces(options.format, options.input)) {
    const traceTokens = syscallTokenSpace(trace.abi);
    if (tokens !== undefined && tokens !== traceTokens) {
      throw new VmsightError(
        'INVALID_INPUT',
        `Cannot score "${trace.id}" with model "${options.model}": the model was trained on ${tokens} tokens, the trace is ${traceTokens}`,
        { details: { model: options.model, trace: trace.id, modelTokens: tokens, traceTokens } },
      );
    }
    const model = modelFor(stored, trace.programKey);
    const result = options.windows === true ? scoreByWindow(model, trace.calls) : undefined;
    const summary = result?.summary ?? model.scoreTrace(trace.calls);
    done += 1;
    options.onProgress?.({ label: 'scoring', done });
    yield {
      id: trace.id,
      program: trace.programKey,
      pid: trace.pid,
      calls: trace.calls.length,
      score: summary.score,
      threshold: model.threshold,
      alarm: model.threshold !== undefined && summary.score > model.threshold,
      anomalousWindows: summary.anomalousWindows,
      ...(result === undefined ? {} : { windows: result.windows }),
    };
  }
}

function modelFor(stored: StoredModel, program: string): TrainedModel {
  return stored instanceof PerProgramModel ? stored.modelFor(program) : stored;
}

function scoreByWindow(
  model: TrainedModel,
  calls: Uint32Array,
): { summary: ReturnType<TrainedModel['scoreTrace']>; windows: WindowResult[] } {
  const stream = model.openStream();
  const windows: WindowResult[] = [];
  for (const call of calls) windows.push(stream.push(call));
  return { summary: stream.summary(), windows };
}

export interface ReplayAlertsOptions {
  /** A model directory, or a system-call model file. */
  readonly model: string;
  /** A vmtrace recording (`vmsight watch --record`). */
  readonly input: string;
}

/**
 * Replays a recording through the same online monitor `vmsight watch --model` runs, event by
 * event in recorded order, so it raises the alerts the live run raised (same windows, same
 * scores).
 */
export async function* replayAlerts(options: ReplayAlertsOptions): AsyncGenerator<WatchAlert> {
  const monitor = new ModelMonitor(await loadModelSet(options.model));
  for await (const event of readGuestEvents('vmtrace', options.input)) {
    const alert = monitor.push(event);
    if (alert !== undefined) yield alert;
    yield* monitor.takeReleased();
  }
  yield* monitor.flush();
}
