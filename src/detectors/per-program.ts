/**
 * One model per program, with a fallback for programs training never saw. Programs differ far more
 * from each other than a program differs from itself (Forrest et al. 1996 build one database per
 * program for that reason), so a pooled model is lenient towards a process that behaves like some
 * other program. The fallback, trained on every program's traces, still scores new programs.
 */
import {
  field,
  invalid,
  readArray,
  readInteger,
  readObject,
  readString,
  type JsonObject,
  type ModelReadLimits,
} from './_model-json.js';
import type { DetectorKind, TraceScore, TrainedModel, WindowScorer } from './detector.js';
import { deserialize, train, type DetectorOptionsByKind } from './registry.js';
import { trainCalibrated, type CalibrationOptions } from './threshold.js';

export const PER_PROGRAM_KIND = 'per-program';

/** Most programs a per-program model file may hold. */
export const DEFAULT_MAX_PROGRAMS = 10_000;

export interface PerProgramOptions<K extends DetectorKind> {
  readonly detector?: DetectorOptionsByKind[K];
  /** Programs with fewer training traces use the fallback only (default 5). */
  readonly minTraces?: number;
  /** Also calibrate an alarm threshold for every model (per-program and fallback). */
  readonly calibration?: CalibrationOptions;
}

export interface PerProgramJson {
  readonly kind: typeof PER_PROGRAM_KIND;
  readonly minTraces: number;
  readonly fallback: unknown;
  readonly programs: ReadonlyArray<{ readonly program: string; readonly model: unknown }>;
}

export class PerProgramModel {
  readonly kind = PER_PROGRAM_KIND;
  readonly minTraces: number;
  readonly fallback: TrainedModel;
  readonly #models: ReadonlyMap<string, TrainedModel>;

  private constructor(
    models: ReadonlyMap<string, TrainedModel>,
    fallback: TrainedModel,
    minTraces: number,
  ) {
    this.#models = models;
    this.fallback = fallback;
    this.minTraces = minTraces;
  }

  /**
   * Trains one model per program with enough traces, and the fallback on all traces.
   *
   * @example
   * ```ts
   * const byProgram = new Map([['cron', [Uint32Array.of(1, 2, 3)]], ['sshd', [Uint32Array.of(4, 5)]]]);
   * const model = PerProgramModel.train('stide', byProgram, { minTraces: 1, detector: { n: 2 } });
   * model.scoreTrace('cron', Uint32Array.of(4, 5)).score; // 1: normal for sshd, not for cron
   * ```
   */
  static train<K extends DetectorKind>(
    kind: K,
    tracesByProgram: ReadonlyMap<string, readonly Uint32Array[]>,
    options: PerProgramOptions<K> = {},
  ): PerProgramModel {
    const minTraces = options.minTraces ?? 5;
    if (!Number.isInteger(minTraces) || minTraces < 1) {
      throw new RangeError(
        `Per-program minimum trace count must be a positive integer, got ${minTraces}`,
      );
    }
    const fit = (traces: readonly Uint32Array[]): TrainedModel =>
      options.calibration === undefined
        ? train(kind, traces, options.detector)
        : trainCalibrated(kind, traces, { ...options.calibration, detector: options.detector });
    const models = new Map<string, TrainedModel>();
    const everything: Uint32Array[] = [];
    for (const [program, traces] of [...tracesByProgram].sort(([a], [b]) => (a < b ? -1 : 1))) {
      everything.push(...traces);
      if (traces.length >= minTraces) models.set(program, fit(traces));
    }
    return new PerProgramModel(models, fit(everything), minTraces);
  }

  static fromJSON(
    json: JsonObject,
    limits: ModelReadLimits & { maxPrograms?: number } = {},
  ): PerProgramModel {
    const items = readArray(
      field(json, 'programs'),
      'programs',
      limits.maxPrograms ?? DEFAULT_MAX_PROGRAMS,
    );
    const models = new Map<string, TrainedModel>();
    items.forEach((item, i) => {
      const object = readObject(item, `programs[${i}]`);
      // Program names come from the guest: a Map keeps "__proto__" an ordinary key.
      const program = readString(field(object, 'program'), `programs[${i}].program`);
      if (models.has(program)) throw invalid(`programs[${i}].program`, `repeats "${program}"`);
      models.set(program, deserialize(field(object, 'model'), limits));
    });
    return new PerProgramModel(
      models,
      deserialize(field(json, 'fallback'), limits),
      readInteger(field(json, 'minTraces'), 'minTraces', { min: 1, max: Number.MAX_SAFE_INTEGER }),
    );
  }

  /** Programs that have a model of their own, sorted. */
  get programs(): readonly string[] {
    return [...this.#models.keys()];
  }

  /** The program's own model, or the fallback. */
  modelFor(program: string): TrainedModel {
    return this.#models.get(program) ?? this.fallback;
  }

  scoreTrace(program: string, trace: Uint32Array): TraceScore {
    return this.modelFor(program).scoreTrace(trace);
  }

  openStream(program: string): WindowScorer {
    return this.modelFor(program).openStream();
  }

  toJSON(): PerProgramJson {
    return {
      kind: this.kind,
      minTraces: this.minTraces,
      fallback: this.fallback.toJSON(),
      programs: [...this.#models].map(([program, model]) => ({ program, model: model.toJSON() })),
    };
  }
}
