import { VmsightError, type ProgressListener } from '../core/index.js';
import {
  evaluateDetector,
  type DetectorKind,
  type Evaluation,
  type ParameterChoice,
  type RocPoint,
} from '../detectors/index.js';
import type { SyscallTrace } from '../events/index.js';
import { loadTraces } from './trace-loading.js';

/** Detection of one attack family at each false-alarm rate. */
export interface AttackTypeDetection {
  readonly traces: number;
  /** Fraction of this family's traces over the threshold for each false-alarm rate. */
  readonly detectionRate: Readonly<Record<string, number>>;
}

/** One detector's result under the ADFA-LD protocol. */
export interface ModelEvaluation {
  readonly kind: DetectorKind;
  readonly auc: number;
  /** Detection rate at each false-alarm rate, keyed "0.01", "0.05", "0.1". */
  readonly drAtFar: Readonly<Record<string, number>>;
  readonly perAttack: Readonly<Record<string, AttackTypeDetection>>;
  readonly trainSeconds: number;
  readonly scoreSeconds: number;
  readonly scoreEventsPerSecond: number;
  readonly parameters: readonly ParameterChoice[];
  readonly roc: readonly RocPoint[];
}

export interface AdfaLdEvaluation {
  readonly dataset: 'adfa-ld';
  readonly path: string;
  readonly protocol: string;
  readonly traces: {
    readonly training: number;
    readonly validation: number;
    readonly attack: number;
  };
  readonly models: readonly ModelEvaluation[];
}

export interface AdfaLdEvaluationOptions {
  readonly kinds: readonly DetectorKind[];
  readonly onProgress?: ProgressListener;
}

const PROTOCOL =
  'Creech & Hu 2013 standard protocol: train on the 833 Training_Data_Master traces only; score ' +
  'the Validation_Data_Master traces as normal and every Attack_Data_Master trace as an attack; ' +
  'trace score = the detector trace-level score. Parameters are fixed in advance or chosen by ' +
  'cross-validation on the training traces alone (see each model parameters).';

/**
 * Runs the standard ADFA-LD protocol for each detector kind. The test traces are scored only after
 * training has finished, and nothing computed from them reaches a model.
 */
export async function evaluateAdfaLd(
  path: string,
  options: AdfaLdEvaluationOptions,
): Promise<AdfaLdEvaluation> {
  const traces = await loadTraces('adfa', path, {
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    progressLabel: 'reading ADFA-LD',
  });
  const training = traces.filter((trace) => trace.label?.split === 'training');
  const validation = traces.filter((trace) => trace.label?.split === 'validation');
  const attacks = traces.filter((trace) => trace.label?.kind === 'attack');
  for (const [name, part] of [
    ['Training_Data_Master', training],
    ['Validation_Data_Master', validation],
    ['Attack_Data_Master', attacks],
  ] as const) {
    if (part.length === 0) {
      throw new VmsightError(
        'INVALID_INPUT',
        `Cannot evaluate on "${path}": no traces found under ${name} (is this the ADFA-LD folder?)`,
        { details: { path, folder: name } },
      );
    }
  }
  const data = {
    train: training.map((trace) => trace.calls),
    normal: validation.map((trace) => trace.calls),
    attack: attacks.map((trace) => trace.calls),
  };
  const models = options.kinds.map((kind, index) => {
    options.onProgress?.({ label: `evaluating ${kind}`, done: index, total: options.kinds.length });
    return summarise(evaluateDetector(kind, data), attacks);
  });
  options.onProgress?.({
    label: 'evaluating',
    done: options.kinds.length,
    total: options.kinds.length,
  });
  return {
    dataset: 'adfa-ld',
    path,
    protocol: PROTOCOL,
    traces: { training: training.length, validation: validation.length, attack: attacks.length },
    models,
  };
}

function summarise(evaluation: Evaluation, attacks: readonly SyscallTrace[]): ModelEvaluation {
  const drAtFar: Record<string, number> = {};
  const thresholds = new Map<string, number>();
  for (const at of evaluation.detection) {
    drAtFar[String(at.falseAlarmRate)] = at.detectionRate;
    thresholds.set(String(at.falseAlarmRate), at.threshold);
  }
  const perAttack: Record<string, AttackTypeDetection> = {};
  const families = new Map<string, number[]>();
  attacks.forEach((trace, index) => {
    const family = trace.label?.attackType ?? 'unknown';
    const scores = families.get(family) ?? [];
    scores.push(evaluation.attackScores[index] ?? 0);
    families.set(family, scores);
  });
  for (const [family, scores] of [...families].sort(([a], [b]) => a.localeCompare(b))) {
    const detectionRate: Record<string, number> = {};
    for (const [key, threshold] of thresholds) {
      detectionRate[key] = scores.filter((score) => score > threshold).length / scores.length;
    }
    perAttack[family] = { traces: scores.length, detectionRate };
  }
  const scoreSeconds = evaluation.scoreMilliseconds / 1000;
  return {
    kind: evaluation.kind,
    auc: evaluation.auc,
    drAtFar,
    perAttack,
    trainSeconds: evaluation.trainMilliseconds / 1000,
    scoreSeconds,
    scoreEventsPerSecond: scoreSeconds > 0 ? evaluation.callsScored / scoreSeconds : 0,
    parameters: evaluation.parameters,
    roc: evaluation.roc,
  };
}
