import { thresholdForFalseAlarmRate, type TrainedModel } from '../detectors/index.js';
import { RunningWindow, type RunningWindowOptions } from './running-window.js';

/** Folds of the held-back calibration (fewer when there are fewer traces). */
const CALIBRATION_FOLDS = 5;

/**
 * The alarm threshold of the statistic the online alerter actually compares: the running mean
 * of window scores over `scoreSpan` tokens, at the tokens whose own window is anomalous, after
 * the warm-up. A trace threshold (mean over a whole trace) is far too tight for a 32-call mean:
 * one reordered pair of calls — a signal arriving a little earlier — makes several windows new.
 * So each trace is held back in turn (k folds), scored with a model trained without it, and the
 * largest such running mean it reaches is its score; the threshold leaves at most
 * `targetFalseAlarmRate` of held-back traces above it. The default rate is 0 (the largest
 * held-back peak): the rate counts processes, and a watched VM starts hundreds of them a minute,
 * so even 1 % would be several false alarms a minute. Undefined with fewer than 2 traces.
 */
export function onlineThreshold(
  traces: readonly Uint32Array[],
  fit: (training: readonly Uint32Array[]) => TrainedModel,
  window: RunningWindowOptions,
  targetFalseAlarmRate = 0,
): number | undefined {
  const folds = Math.min(CALIBRATION_FOLDS, traces.length);
  if (folds < 2) return undefined;
  const peaks: number[] = [];
  for (let fold = 0; fold < folds; fold += 1) {
    // Contiguous folds: traces next to each other (one program's runs, one stretch of I/O) are
    // held back together, as new behaviour arrives in the live stream.
    const start = Math.floor((fold * traces.length) / folds);
    const end = Math.floor(((fold + 1) * traces.length) / folds);
    const model = fit([...traces.slice(0, start), ...traces.slice(end)]);
    for (const trace of traces.slice(start, end)) peaks.push(peakRunningMean(model, trace, window));
  }
  return thresholdForFalseAlarmRate(Float64Array.from(peaks), targetFalseAlarmRate);
}

function peakRunningMean(
  model: TrainedModel,
  trace: Uint32Array,
  options: RunningWindowOptions,
): number {
  // No quiet period: every anomalous window counts towards the trace's peak.
  const window = new RunningWindow(model.openStream(), { ...options, quietTokens: 0 });
  let peak = 0;
  for (const token of trace) {
    const { candidate, mean } = window.push(token, '');
    if (candidate) peak = Math.max(peak, mean);
  }
  return peak;
}
