/**
 * Versioned model files: `{ "format": "vmsight-model", "version": 1, "model": … }`. A model file
 * is untrusted input (it may be truncated, from another vmsight version, or crafted), so loading
 * bounds its size before reading, checks format and version before anything else, validates every
 * field, and fails with a VmsightError that names the file and what was wrong.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { VmsightError, isVmsightError } from '../core/index.js';
import { field, invalid, readObject, readString, type ModelReadLimits } from './_model-json.js';
import type { TrainedModel } from './detector.js';
import { PER_PROGRAM_KIND, PerProgramModel } from './per-program.js';
import { deserialize } from './registry.js';

export const MODEL_FILE_FORMAT = 'vmsight-model';
export const MODEL_FILE_VERSION = 1;
/** Largest model file read by default (256 MiB): ADFA-LD models are a few megabytes. */
export const DEFAULT_MAX_MODEL_FILE_BYTES = 256 * 1024 * 1024;

export type StoredModel = TrainedModel | PerProgramModel;

/**
 * What the tokens of a model stand for, such as `syscall:i386` or `syscall:x86-64`: call numbers
 * of one ABI mean other calls in another, so callers refuse to score traces of a different space.
 */
export type TokenSpace = string;

/** A model as read from its file, with the token space it was trained on (when recorded). */
export interface LoadedModel {
  readonly model: StoredModel;
  readonly tokens: TokenSpace | undefined;
}

const TOKEN_SPACE_PATTERN = /^[a-z0-9][a-z0-9:_.-]{0,63}$/;

export interface ModelFileOptions extends ModelReadLimits {
  /** Name used in error messages (default "model"). */
  readonly source?: string;
  readonly maxBytes?: number;
  readonly maxPrograms?: number;
}

/**
 * The file text for `model`, recording the token space it was trained on when given.
 *
 * @example
 * ```ts
 * JSON.parse(encodeModelFile(train('stide', [Uint32Array.of(1, 2)]), 'syscall:i386')).tokens;
 * // 'syscall:i386'
 * ```
 */
export function encodeModelFile(model: StoredModel, tokens?: TokenSpace): string {
  if (tokens !== undefined && !TOKEN_SPACE_PATTERN.test(tokens)) {
    throw new RangeError(`Token space must match ${String(TOKEN_SPACE_PATTERN)}, got "${tokens}"`);
  }
  const json: unknown = JSON.parse(JSON.stringify(model.toJSON()));
  return `${JSON.stringify({
    format: MODEL_FILE_FORMAT,
    version: MODEL_FILE_VERSION,
    ...(tokens === undefined ? {} : { tokens }),
    sha256: digest(tokens, json),
    model: json,
  })}\n`;
}

/**
 * SHA-256 of the token space and the model's JSON text. JSON.stringify of a parsed document
 * reproduces the written text exactly (key order and number formatting round-trip), so a flipped
 * digit in a threshold or a count, which would still parse, is caught.
 */
function digest(tokens: TokenSpace | undefined, model: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([tokens ?? null, model]))
    .digest('hex');
}

/**
 * Parses and validates model file text.
 *
 * @example
 * ```ts
 * const text = encodeModelFile(train('stide', [Uint32Array.of(1, 2, 3)]));
 * const model = decodeModelFile(text, { source: 'stide.json' });
 * ```
 */
export function decodeModelFile(text: string, options: ModelFileOptions = {}): LoadedModel {
  const source = options.source ?? 'model';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MODEL_FILE_BYTES;
  if (text.length > maxBytes) {
    throw new VmsightError(
      'LIMIT_EXCEEDED',
      `Cannot load model "${source}": it is larger than ${maxBytes} bytes`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new VmsightError(
      'MODEL_INVALID',
      `Cannot load model "${source}": it is not valid JSON, so it is truncated or corrupt`,
      { cause, details: { file: source } },
    );
  }
  try {
    const envelope = readObject(json, 'file');
    const format = field(envelope, 'format');
    if (format !== MODEL_FILE_FORMAT) {
      throw new VmsightError(
        'MODEL_INVALID',
        `Cannot load model "${source}": format is ${JSON.stringify(format) ?? 'missing'}, expected "${MODEL_FILE_FORMAT}"`,
        { details: { file: source } },
      );
    }
    const version = field(envelope, 'version');
    if (version !== MODEL_FILE_VERSION) {
      throw new VmsightError(
        'MODEL_VERSION',
        `Cannot load model "${source}": format version ${JSON.stringify(version) ?? 'missing'} is not supported (this vmsight reads version ${MODEL_FILE_VERSION})`,
        { details: { file: source, version } },
      );
    }
    const model = readObject(field(envelope, 'model'), 'model');
    const tokens = readTokenSpace(field(envelope, 'tokens'));
    if (field(envelope, 'sha256') !== digest(tokens, model)) {
      throw new VmsightError(
        'MODEL_INVALID',
        `Cannot load model "${source}": its SHA-256 does not match its contents, so it is corrupt`,
        { details: { file: source } },
      );
    }
    const kind = readString(field(model, 'kind'), 'model.kind');
    return {
      model:
        kind === PER_PROGRAM_KIND
          ? PerProgramModel.fromJSON(model, options)
          : deserialize(model, options),
      tokens,
    };
  } catch (error) {
    if (isVmsightError(error) && error.message.startsWith('Cannot load model')) throw error;
    throw new VmsightError(
      isVmsightError(error, 'MODEL_VERSION') ? 'MODEL_VERSION' : 'MODEL_INVALID',
      `Cannot load model "${source}": ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, details: { file: source } },
    );
  }
}

/**
 * Reads and validates the model file at `path` (NOT_FOUND, IO_ERROR, LIMIT_EXCEEDED, MODEL_INVALID
 * or MODEL_VERSION on failure).
 *
 * @example
 * ```ts
 * const model = await readModelFile('models/sshd.json');
 * ```
 */
export async function readModelFile(
  path: string,
  options: ModelFileOptions = {},
): Promise<LoadedModel> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MODEL_FILE_BYTES;
  let text: string;
  try {
    // Checked before reading so a huge file is refused without being loaded into memory.
    const { size } = await stat(path);
    if (size > maxBytes) {
      throw new VmsightError(
        'LIMIT_EXCEEDED',
        `Cannot load model "${path}": it is larger than ${maxBytes} bytes`,
      );
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw fileError(error, path, 'read');
  }
  return decodeModelFile(text, { ...options, source: options.source ?? path });
}

/**
 * Writes `model` to `path` through a temporary file, so a crash never leaves half a model.
 *
 * @example
 * ```ts
 * await writeModelFile('models/sshd.json', train('markov', traces));
 * ```
 */
export async function writeModelFile(
  path: string,
  model: StoredModel,
  tokens?: TokenSpace,
): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, encodeModelFile(model, tokens), 'utf8');
    await rename(temporary, path);
  } catch (error) {
    throw fileError(error, path, 'write');
  }
}

function readTokenSpace(value: unknown): TokenSpace | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !TOKEN_SPACE_PATTERN.test(value)) {
    throw invalid('tokens', `must match ${String(TOKEN_SPACE_PATTERN)}`);
  }
  return value;
}

function fileError(error: unknown, path: string, verb: string): VmsightError {
  if (isVmsightError(error)) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return new VmsightError(
    code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR',
    `Cannot ${verb} model "${path}": ${code === 'ENOENT' ? 'no such file' : String(error)}`,
    { cause: error, details: { file: path } },
  );
}
