/**
 * Versioned model files: `{ "format": "vmsight-model", "version": 1, "model": … }`. A model file
 * is untrusted input (it may be truncated, from another vmsight version, or crafted), so loading
 * bounds its size before reading, checks format and version before anything else, validates every
 * field, and fails with a VmsightError that names the file and what was wrong.
 */
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { VmsightError, isVmsightError } from '../core/index.js';
import { field, readObject, readString, type ModelReadLimits } from './_model-json.js';
import type { TrainedModel } from './detector.js';
import { PER_PROGRAM_KIND, PerProgramModel } from './per-program.js';
import { deserialize } from './registry.js';

export const MODEL_FILE_FORMAT = 'vmsight-model';
export const MODEL_FILE_VERSION = 1;
/** Largest model file read by default (256 MiB): ADFA-LD models are a few megabytes. */
export const DEFAULT_MAX_MODEL_FILE_BYTES = 256 * 1024 * 1024;

export type StoredModel = TrainedModel | PerProgramModel;

export interface ModelFileOptions extends ModelReadLimits {
  /** Name used in error messages (default "model"). */
  readonly source?: string;
  readonly maxBytes?: number;
  readonly maxPrograms?: number;
}

/** The file text for `model`. */
export function encodeModelFile(model: StoredModel): string {
  return `${JSON.stringify({ format: MODEL_FILE_FORMAT, version: MODEL_FILE_VERSION, model: model.toJSON() })}\n`;
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
export function decodeModelFile(text: string, options: ModelFileOptions = {}): StoredModel {
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
    const kind = readString(field(model, 'kind'), 'model.kind');
    return kind === PER_PROGRAM_KIND
      ? PerProgramModel.fromJSON(model, options)
      : deserialize(model, options);
  } catch (error) {
    if (isVmsightError(error) && error.message.startsWith('Cannot load model')) throw error;
    throw new VmsightError(
      isVmsightError(error, 'MODEL_VERSION') ? 'MODEL_VERSION' : 'MODEL_INVALID',
      `Cannot load model "${source}": ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, details: { file: source } },
    );
  }
}

/** Reads and validates the model file at `path` (NOT_FOUND, IO_ERROR, MODEL_* on failure). */
export async function readModelFile(
  path: string,
  options: ModelFileOptions = {},
): Promise<StoredModel> {
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

/** Writes `model` to `path` through a temporary file, so a crash never leaves half a model. */
export async function writeModelFile(path: string, model: StoredModel): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, encodeModelFile(model), 'utf8');
    await rename(temporary, path);
  } catch (error) {
    throw fileError(error, path, 'write');
  }
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
