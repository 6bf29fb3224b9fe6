import { VmsightError } from '../core/index.js';

/**
 * Decoding of one QMP wire message (one line of JSON), per QEMU's "QEMU Machine Protocol
 * Specification" (docs/interop/qmp-spec.rst): a server greeting `{"QMP": {...}}`, a success
 * response `{"return": ..., "id": ...}`, an error response `{"error": {"class", "desc"}, "id"}` or an
 * asynchronous event `{"event", "data", "timestamp": {"seconds", "microseconds"}}`.
 *
 * Everything here comes from the QEMU process, which runs guest-influenced code: a reply is
 * attacker-controlled input, so shapes are checked before any field is trusted.
 */

/** The QEMU version the greeting announces ("version": {"qemu": {"major", "minor", "micro"}}). */
export interface QmpVersion {
  readonly major: number;
  readonly minor: number;
  readonly micro: number;
  /** Distribution suffix, e.g. " (Debian 1:7.2+dfsg-7+deb12u18+b3)". */
  readonly package: string;
}

export interface QmpGreeting {
  readonly type: 'greeting';
  readonly version: QmpVersion;
  /** Capabilities the server offers (e.g. "oob"); vmsight enables none of them. */
  readonly capabilities: readonly string[];
}

export interface QmpReturn {
  readonly type: 'return';
  readonly id: string;
  readonly value: unknown;
}

export interface QmpErrorReply {
  readonly type: 'error';
  readonly id: string;
  /** QMP error class: GenericError, CommandNotFound, DeviceNotActive, DeviceNotFound, KVMMissingCap. */
  readonly errorClass: string;
  readonly desc: string;
}

/**
 * An asynchronous event. `name` is kept as sent: QMP servers add events across versions and the
 * spec tells clients to expect unknown ones, so an unfamiliar name is data, not an error.
 */
export interface QmpEvent {
  readonly type: 'event';
  readonly name: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** Host time the event was emitted, from the event's `timestamp`, in microseconds. */
  readonly timestampMicros: bigint;
}

export type QmpMessage = QmpGreeting | QmpReturn | QmpErrorReply | QmpEvent;

/** Event names vmsight acts on (QAPI schema: run-state.json, dump.json). Others pass through. */
export const QmpEventName = {
  STOP: 'STOP',
  RESUME: 'RESUME',
  SHUTDOWN: 'SHUTDOWN',
  POWERDOWN: 'POWERDOWN',
  RESET: 'RESET',
  DUMP_COMPLETED: 'DUMP_COMPLETED',
  GUEST_PANICKED: 'GUEST_PANICKED',
} as const;
export type QmpEventName = (typeof QmpEventName)[keyof typeof QmpEventName];

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(reason: string, line: string): VmsightError {
  // Only a prefix of the line goes into the error: a hostile peer controls its length.
  const excerpt = line.length > 200 ? `${line.slice(0, 200)}…` : line;
  return new VmsightError('INVALID_INPUT', `Cannot decode QMP message: ${reason}`, {
    details: { excerpt },
  });
}

function decodeId(message: JsonObject, line: string): string {
  const id = message['id'];
  // vmsight sends every command with a string id; a reply without one cannot be matched to its
  // command (QMP only omits it when the command itself carried none).
  if (typeof id !== 'string') {
    throw malformed('the reply has no string "id"', line);
  }
  return id;
}

function decodeGreeting(body: unknown, line: string): QmpGreeting {
  if (!isObject(body)) throw malformed('the greeting "QMP" member is not an object', line);
  const version = body['version'];
  const qemu = isObject(version) ? version['qemu'] : undefined;
  if (!isObject(version) || !isObject(qemu)) {
    throw malformed('the greeting has no "version.qemu" object', line);
  }
  const numbers = ['major', 'minor', 'micro'].map((key) => qemu[key]);
  if (!numbers.every((n): n is number => Number.isSafeInteger(n) && (n as number) >= 0)) {
    throw malformed('the greeting version numbers are not integers', line);
  }
  const capabilities = body['capabilities'];
  if (!Array.isArray(capabilities) || !capabilities.every((c) => typeof c === 'string')) {
    throw malformed('the greeting "capabilities" member is not a list of strings', line);
  }
  const [major, minor, micro] = numbers as [number, number, number];
  const pkg = version['package'];
  return {
    type: 'greeting',
    version: { major, minor, micro, package: typeof pkg === 'string' ? pkg : '' },
    capabilities,
  };
}

function decodeEvent(message: JsonObject, line: string): QmpEvent {
  const name = message['event'];
  if (typeof name !== 'string' || name.length === 0) {
    throw malformed('the event name is not a non-empty string', line);
  }
  const data = message['data'] ?? {};
  if (!isObject(data)) throw malformed(`the "data" of event "${name}" is not an object`, line);
  const timestamp = message['timestamp'];
  const seconds = isObject(timestamp) ? timestamp['seconds'] : undefined;
  const micros = isObject(timestamp) ? timestamp['microseconds'] : undefined;
  // QEMU sends {"seconds": -1, "microseconds": -1} when the host clock failed (qmp-spec 2.5).
  if (!Number.isSafeInteger(seconds) || !Number.isSafeInteger(micros)) {
    throw malformed(`event "${name}" has no integer "timestamp"`, line);
  }
  return {
    type: 'event',
    name,
    data,
    timestampMicros: BigInt(seconds as number) * 1_000_000n + BigInt(micros as number),
  };
}

/**
 * Decodes one line of QMP. Throws `INVALID_INPUT` for anything that is not one of the four
 * message kinds of the spec (truncated JSON, a reply without an id, an error without class/desc).
 *
 * @example
 * ```ts
 * import { decodeQmpMessage } from './qmp-message.js';
 * const message = decodeQmpMessage('{"return": {}, "id": "vmsight-1"}');
 * console.log(message.type); // 'return'
 * ```
 */
export function decodeQmpMessage(line: string): QmpMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new VmsightError('INVALID_INPUT', 'Cannot decode QMP message: it is not valid JSON', {
      cause: error,
      details: { excerpt: line.slice(0, 200) },
    });
  }
  if (!isObject(parsed)) throw malformed('it is not a JSON object', line);
  if ('QMP' in parsed) return decodeGreeting(parsed['QMP'], line);
  if ('event' in parsed) return decodeEvent(parsed, line);
  if ('return' in parsed)
    return { type: 'return', id: decodeId(parsed, line), value: parsed['return'] };
  if ('error' in parsed) {
    const error = parsed['error'];
    const errorClass = isObject(error) ? error['class'] : undefined;
    const desc = isObject(error) ? error['desc'] : undefined;
    if (typeof errorClass !== 'string' || typeof desc !== 'string') {
      throw malformed('the error reply has no string "class" and "desc"', line);
    }
    return { type: 'error', id: decodeId(parsed, line), errorClass, desc };
  }
  throw malformed('it is neither a greeting, a reply nor an event', line);
}
