/**
 * Detection metrics over trace scores: ROC AUC by the Mann–Whitney U statistic (ties count one
 * half, so a detector that gives everything the same score gets exactly 0.5), detection rate at a
 * fixed false-alarm rate, and the ROC curve. Higher scores are more anomalous.
 */

export interface RocPoint {
  readonly falseAlarmRate: number;
  readonly detectionRate: number;
  /** Alarm when score > threshold (the first point uses +Infinity: no alarms). */
  readonly threshold: number;
}

/**
 * Probability that a random attack trace scores above a random normal one, ties counting 1/2.
 *
 * @example
 * ```ts
 * rocAuc([0.1, 0.4], [0.4, 0.9]); // 0.875: 3 of 4 pairs ordered, 1 tie
 * ```
 */
export function rocAuc(normal: ArrayLike<number>, attack: ArrayLike<number>): number {
  checkScores(normal, 'normal');
  checkScores(attack, 'attack');
  const pooled = Array.from(normal, (score) => ({ score, attack: false }));
  for (let i = 0; i < attack.length; i++) pooled.push({ score: attack[i] ?? 0, attack: true });
  pooled.sort((a, b) => a.score - b.score);
  let attackRankSum = 0;
  for (let start = 0; start < pooled.length;) {
    let end = start;
    while (end < pooled.length && pooled[end]?.score === pooled[start]?.score) end++;
    // Tied scores share the mean of the ranks start + 1 … end.
    const midRank = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) if (pooled[i]?.attack) attackRankSum += midRank;
    start = end;
  }
  const m = attack.length;
  return (attackRankSum - (m * (m + 1)) / 2) / (m * normal.length);
}

/**
 * The lowest threshold, among the normal scores, at which no more than `falseAlarmRate` of the
 * normal scores are strictly above it.
 *
 * @example
 * ```ts
 * thresholdForFalseAlarmRate([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.1); // 9: only 10 is above
 * ```
 */
export function thresholdForFalseAlarmRate(
  normal: ArrayLike<number>,
  falseAlarmRate: number,
): number {
  checkScores(normal, 'normal');
  if (!(falseAlarmRate >= 0 && falseAlarmRate <= 1)) {
    throw new RangeError(`False-alarm rate must be from 0 to 1, got ${falseAlarmRate}`);
  }
  const sorted = Float64Array.from(normal).sort();
  const allowed = Math.floor(falseAlarmRate * sorted.length + 1e-9);
  return sorted[Math.max(0, sorted.length - 1 - allowed)] ?? 0;
}

/**
 * Fraction of attack scores above the threshold that keeps false alarms at or below the rate.
 *
 * @example
 * ```ts
 * detectionRateAt({ normal: [1, 2, 3, 4], attack: [2.5, 5] }, 0.25); // 0.5: threshold 3, only 5 is above it
 * ```
 */
export function detectionRateAt(
  scores: { readonly normal: ArrayLike<number>; readonly attack: ArrayLike<number> },
  falseAlarmRate: number,
): { readonly detectionRate: number; readonly threshold: number; readonly falseAlarmRate: number } {
  const { normal, attack } = scores;
  const threshold = thresholdForFalseAlarmRate(normal, falseAlarmRate);
  return {
    detectionRate: fractionAbove(attack, threshold),
    threshold,
    falseAlarmRate: fractionAbove(normal, threshold),
  };
}

/**
 * Every distinct operating point, from no alarms to all alarms.
 *
 * @example
 * ```ts
 * rocCurve([1, 2], [3]).map((p) => [p.falseAlarmRate, p.detectionRate]); // [[0,0],[0,1],[0.5,1],[1,1]]
 * ```
 */
export function rocCurve(normal: ArrayLike<number>, attack: ArrayLike<number>): RocPoint[] {
  checkScores(normal, 'normal');
  checkScores(attack, 'attack');
  const thresholds = Float64Array.from([...Array.from(normal), ...Array.from(attack)]).sort();
  const n = Float64Array.from(normal).sort();
  const a = Float64Array.from(attack).sort();
  const points: RocPoint[] = [{ falseAlarmRate: 0, detectionRate: 0, threshold: Infinity }];
  let ni = n.length;
  let ai = a.length;
  for (let t = thresholds.length - 1; t >= 0; t--) {
    const threshold = thresholds[t] ?? 0;
    if (t < thresholds.length - 1 && thresholds[t + 1] === threshold) continue;
    // Lowering the threshold to just below `threshold` admits every score equal to it.
    while (ni > 0 && (n[ni - 1] ?? 0) >= threshold) ni--;
    while (ai > 0 && (a[ai - 1] ?? 0) >= threshold) ai--;
    let lower = t - 1;
    while (lower >= 0 && thresholds[lower] === threshold) lower--;
    const below = lower >= 0 ? (thresholds[lower] ?? -Infinity) : -Infinity;
    points.push({
      falseAlarmRate: (n.length - ni) / n.length,
      detectionRate: (a.length - ai) / a.length,
      threshold: below,
    });
  }
  return points;
}

function fractionAbove(scores: ArrayLike<number>, threshold: number): number {
  let above = 0;
  for (let i = 0; i < scores.length; i++) if ((scores[i] ?? 0) > threshold) above++;
  return scores.length === 0 ? 0 : above / scores.length;
}

function checkScores(scores: ArrayLike<number>, what: string): void {
  if (scores.length === 0) throw new RangeError(`ROC metrics need at least one ${what} score`);
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new RangeError(`The ${what} score at ${i} is NaN`);
  }
}
