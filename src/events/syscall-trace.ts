import type { SyscallAbi } from './syscall-table.js';

/**
 * Whether a labelled trace is normal behaviour or an attack.
 *
 * @example
 * ```ts
 * const attacks = traces.filter((trace) => trace.label?.kind === TraceLabelKind.ATTACK);
 * ```
 */
export const TraceLabelKind = { NORMAL: 'normal', ATTACK: 'attack' } as const;
export type TraceLabelKind = (typeof TraceLabelKind)[keyof typeof TraceLabelKind];

/**
 * Which part of a labelled dataset a trace belongs to (ADFA-LD's three folders).
 *
 * @example
 * ```ts
 * const training = traces.filter((trace) => trace.label?.split === TraceSplit.TRAINING);
 * ```
 */
export const TraceSplit = {
  TRAINING: 'training',
  VALIDATION: 'validation',
  ATTACK: 'attack',
} as const;
export type TraceSplit = (typeof TraceSplit)[keyof typeof TraceSplit];

/**
 * Ground truth for a trace from a labelled dataset.
 *
 * @example
 * ```ts
 * const label: TraceLabel = { kind: 'attack', split: 'attack', attackType: 'Hydra_FTP' };
 * ```
 */
export interface TraceLabel {
  readonly kind: TraceLabelKind;
  readonly split?: TraceSplit;
  /** Attack family, for example `Hydra_FTP` from the folder `Hydra_FTP_3`. */
  readonly attackType?: string;
}

/**
 * The program key of traces whose source does not name the program (ADFA-LD).
 *
 * @example
 * ```ts
 * if (trace.programKey === UNKNOWN_PROGRAM) useFallbackModel();
 * ```
 */
export const UNKNOWN_PROGRAM = '(unknown)';

/**
 * The system calls of one process (one program image of it), in order: what detectors train on and
 * score.
 *
 * @example
 * ```ts
 * import type { SyscallTrace } from './syscall-trace.js';
 * const trace: SyscallTrace = {
 *   id: 'Training_Data_Master/UTD-0001.txt',
 *   source: '/data/adfa-ld/Training_Data_Master/UTD-0001.txt',
 *   programKey: '(unknown)',
 *   abi: 'i386',
 *   calls: Uint32Array.of(6, 6, 63, 6, 42),
 *   label: { kind: 'normal', split: 'training' },
 * };
 * ```
 */
export interface SyscallTrace {
  /** Stable, unique within one read: a dataset-relative path, or `source:pid-N:K`. */
  readonly id: string;
  /** The file the trace came from. */
  readonly source: string;
  readonly programKey: string;
  readonly abi: SyscallAbi;
  /** System call numbers of `abi`, in call order. */
  readonly calls: Uint32Array;
  readonly label?: TraceLabel;
  /** The process id, when the format has one. */
  readonly pid?: number;
}
