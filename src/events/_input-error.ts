import { VmsightError, type ErrorCode } from '../core/index.js';

/** Where in an input a parser stopped. Lines and columns count from 1, as editors show them. */
export interface InputPosition {
  readonly source: string;
  readonly line?: number;
  readonly column?: number;
  readonly field?: string;
}

const MAX_QUOTED = 60;

/**
 * Quotes a value from untrusted input for an error message: JSON-escaped so control characters
 * cannot forge log lines, and cut short so a 16 MiB line does not become a 16 MiB message.
 */
export function quote(value: unknown): string {
  let text: string;
  if (typeof value === 'string') {
    text = value;
  } else if (typeof value === 'bigint') {
    text = value.toString();
  } else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  const cut = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
  return JSON.stringify(cut);
}

/** `"trace.txt" line 3 column 17 field "vcpu"`: the position part of every parse error. */
export function describePosition(position: InputPosition): string {
  let text = JSON.stringify(position.source);
  if (position.line !== undefined) text += ` line ${position.line}`;
  if (position.column !== undefined) text += ` column ${position.column}`;
  if (position.field !== undefined) text += ` field ${JSON.stringify(position.field)}`;
  return text;
}

/**
 * The one shape of parse error for every trace format:
 * `Cannot parse "UTD-0001.txt" line 1 column 17: expected a system call number, found "abc"`.
 */
export function inputError(
  position: InputPosition,
  expected: string,
  found?: unknown,
  options: { code?: ErrorCode; cause?: unknown } = {},
): VmsightError {
  const tail = found === undefined ? '' : `, found ${quote(found)}`;
  return new VmsightError(
    options.code ?? 'INVALID_INPUT',
    `Cannot parse ${describePosition(position)}: expected ${expected}${tail}`,
    {
      cause: options.cause,
      details: { ...position, expected },
    },
  );
}
