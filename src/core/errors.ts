/**
 * The closed error taxonomy of vmsight.
 *
 * Every error a caller must be able to tell apart carries one of these codes (in the manner of
 * sigstore's `BaseError<Code>` and jose's `ERR_*`). The code decides the CLI exit status and, later,
 * the API status, so adding a code is a deliberate change to a public contract.
 */
export const ErrorCode = {
  /** A command-line option or API argument is missing or malformed. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** Input data (a trace, a dump, a reply) does not follow its format. */
  INVALID_INPUT: 'INVALID_INPUT',
  /** Input ended before a complete record was read. */
  TRUNCATED_INPUT: 'TRUNCATED_INPUT',
  /** Input exceeds a documented safety limit (line length, entry count, depth). */
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  /** A named file, VM, model or evidence item does not exist. */
  NOT_FOUND: 'NOT_FOUND',
  /** A model file is corrupt or not a vmsight model. */
  MODEL_INVALID: 'MODEL_INVALID',
  /** A model file was written by an incompatible format version. */
  MODEL_VERSION: 'MODEL_VERSION',
  /** Reading or writing a file or socket failed at the operating-system level. */
  IO_ERROR: 'IO_ERROR',
  /** A hypervisor control channel (QMP, GDB remote protocol) failed or answered with an error. */
  CONNECTOR_ERROR: 'CONNECTOR_ERROR',
  /** An operation did not finish within its deadline. */
  TIMEOUT: 'TIMEOUT',
  /** A guest address cannot be translated or read. */
  INVALID_ADDRESS: 'INVALID_ADDRESS',
  /** A host tool or package vmsight needs is not installed. */
  DEPENDENCY_MISSING: 'DEPENDENCY_MISSING',
  /** A bug in vmsight: an invariant did not hold. */
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * CLI exit status for each code. 0 is success and 1 is reserved for "the command ran and found
 * something" (an alarm), so errors start at 2. Documented in README.md under "Exit codes".
 */
export const EXIT_CODE_BY_ERROR: Readonly<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 2,
  INVALID_INPUT: 3,
  TRUNCATED_INPUT: 3,
  LIMIT_EXCEEDED: 3,
  NOT_FOUND: 4,
  MODEL_INVALID: 5,
  MODEL_VERSION: 5,
  IO_ERROR: 6,
  CONNECTOR_ERROR: 7,
  TIMEOUT: 8,
  INVALID_ADDRESS: 9,
  DEPENDENCY_MISSING: 10,
  INTERNAL: 70,
};

export interface VmsightErrorOptions {
  /** The lower-level error that caused this one. */
  readonly cause?: unknown;
  /** Structured context (file, line, offset, address…) for logs and `--json` output. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * An error that callers may catch and act on by `code`.
 *
 * @example
 * ```ts
 * import { VmsightError } from './errors.js';
 * const error = new VmsightError('INVALID_INPUT', 'Cannot parse "trace.txt" line 3: expected a number', {
 *   details: { file: 'trace.txt', line: 3 },
 * });
 * console.log(error.code); // 'INVALID_INPUT'
 * ```
 */
export class VmsightError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: VmsightErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VmsightError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** True when `error` is a {@link VmsightError}, optionally with the given code. */
export function isVmsightError(error: unknown, code?: ErrorCode): error is VmsightError {
  return error instanceof VmsightError && (code === undefined || error.code === code);
}

/** The CLI exit status for any thrown value: unknown errors are internal faults. */
export function exitCodeFor(error: unknown): number {
  return error instanceof VmsightError
    ? EXIT_CODE_BY_ERROR[error.code]
    : EXIT_CODE_BY_ERROR.INTERNAL;
}
