import { InvalidArgumentError } from 'commander';
import { DetectorKind, TraceFormat } from '../app/index.js';

const FORMATS = Object.values(TraceFormat);
const KINDS = Object.values(DetectorKind);

/** `--format adfa|strace|auditd|vmtrace|drakvuf`. */
export function parseTraceFormat(value: string): TraceFormat {
  const format = FORMATS.find((item) => item === value);
  if (format === undefined) {
    throw new InvalidArgumentError(`expected one of ${FORMATS.join(', ')}, got "${value}"`);
  }
  return format;
}

/** `--model stide|tstide|markov|ensemble`. */
export function parseDetectorKind(value: string): DetectorKind {
  const kind = KINDS.find((item) => item === value);
  if (kind === undefined) {
    throw new InvalidArgumentError(`expected one of ${KINDS.join(', ')}, got "${value}"`);
  }
  return kind;
}

/** A comma-separated list of detector kinds, or `all`. */
export function parseDetectorKinds(value: string): DetectorKind[] {
  if (value === 'all') return [...KINDS];
  return value.split(',').map((item) => parseDetectorKind(item.trim()));
}

/** A rate strictly between 0 and 1, such as a target false-alarm rate. */
export function parseRate(value: string): number {
  const rate = Number(value);
  if (!(rate > 0 && rate < 1)) {
    throw new InvalidArgumentError(`expected a number between 0 and 1, got "${value}"`);
  }
  return rate;
}
