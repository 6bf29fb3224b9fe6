import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmsightError } from '../core/index.js';
import {
  PerProgramModel,
  readModelFile,
  writeModelFile,
  type StoredModel,
  type TrainedModel,
} from '../detectors/index.js';
import { ArgumentModel } from './argument-model.js';
import { IO_TOKEN_SPACE, IoVocabulary, MAX_IO_VOCABULARY } from './io-tokens.js';
import { syscallTokenSpace } from './trace-loading.js';

export const MODEL_DIRECTORY_FORMAT = 'vmsight-model-dir';
export const MODEL_DIRECTORY_VERSION = 1;
export const MODEL_MANIFEST = 'manifest.json';
const SYSCALL_MODEL_FILE = 'syscalls.model.json';
const IO_MODEL_FILE = 'io.model.json';
const ARGUMENT_MODEL_FILE = 'arguments.json';
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
const MAX_TOKEN_LENGTH = 256;

/** The per-VM I/O-sequence model and the token names its ids stand for. */
export interface IoSequenceModel {
  readonly model: TrainedModel;
  readonly vocabulary: IoVocabulary;
  /** Tokens per training trace; the online running score is averaged over as many. */
  readonly traceLength: number;
}

export interface OnlineThresholds {
  readonly syscalls: ReadonlyMap<string, number>;
  readonly io: number | undefined;
}

/** What `vmsight watch --learn` and `vmsight train --format vmtrace` write, and `--model` reads. */
export interface ModelSet {
  /**
   * Per-program system-call models (x86-64 numbers); undefined in an I/O-only set, learned from a
   * sensor that sees no system calls (`vmsight watch --sensor kvm --learn`).
   */
  readonly syscalls: StoredModel | undefined;
  readonly io: IoSequenceModel | undefined;
  /**
   * Thresholds of the online running mean (`onlineThreshold`): per program for the system-call
   * models, and the I/O model's.
   */
  readonly online?: OnlineThresholds;
  /** Per program, the files and addresses its calls named in training. */
  readonly arguments?: ArgumentModel;
  /** Where the training data came from, for the manifest. */
  readonly source?: string;
}

/**
 * Writes a model directory: `manifest.json` naming the files, `syscalls.model.json` and, when
 * there is one, `io.model.json` (detector model files with their token spaces). The manifest is
 * written last, so a directory with a manifest is complete.
 */
export async function writeModelDirectory(directory: string, models: ModelSet): Promise<void> {
  await mkdir(directory, { recursive: true });
  if (models.syscalls !== undefined) {
    await writeModelFile(
      join(directory, SYSCALL_MODEL_FILE),
      models.syscalls,
      syscallTokenSpace('x86-64'),
    );
  }
  if (models.io !== undefined) {
    await writeModelFile(join(directory, IO_MODEL_FILE), models.io.model, IO_TOKEN_SPACE);
  }
  if (models.arguments !== undefined) {
    await writeFile(
      join(directory, ARGUMENT_MODEL_FILE),
      `${JSON.stringify(models.arguments.toJSON())}\n`,
    );
  }
  const manifest = {
    format: MODEL_DIRECTORY_FORMAT,
    version: MODEL_DIRECTORY_VERSION,
    created: new Date().toISOString(),
    ...(models.source === undefined ? {} : { source: models.source }),
    syscalls:
      models.syscalls === undefined
        ? null
        : { file: SYSCALL_MODEL_FILE, tokens: syscallTokenSpace('x86-64') },
    arguments: models.arguments === undefined ? null : { file: ARGUMENT_MODEL_FILE },
    online:
      models.online === undefined
        ? null
        : {
            syscalls: Object.fromEntries(models.online.syscalls),
            io: models.online.io ?? null,
          },
    io:
      models.io === undefined
        ? null
        : {
            file: IO_MODEL_FILE,
            tokens: IO_TOKEN_SPACE,
            traceLength: models.io.traceLength,
            vocabulary: models.io.vocabulary.tokens,
          },
  };
  const path = join(directory, MODEL_MANIFEST);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(temporary, path);
}

/** True when `path` is a directory (a model directory, as opposed to a single model file). */
export async function isModelDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Reads and checks a model directory written by {@link writeModelDirectory}. */
export async function readModelDirectory(directory: string): Promise<ModelSet> {
  const manifestPath = join(directory, MODEL_MANIFEST);
  let text: string;
  try {
    const info = await stat(manifestPath);
    if (info.size > MAX_MANIFEST_BYTES) {
      throw new VmsightError(
        'LIMIT_EXCEEDED',
        `Cannot load models "${directory}": ${MODEL_MANIFEST} is larger than ${MAX_MANIFEST_BYTES} bytes`,
      );
    }
    text = await readFile(manifestPath, 'utf8');
  } catch (error) {
    if (error instanceof VmsightError) throw error;
    throw new VmsightError(
      'NOT_FOUND',
      `Cannot load models "${directory}": no ${MODEL_MANIFEST} (write one with "vmsight watch --learn" or "vmsight train --format vmtrace")`,
      { cause: error },
    );
  }
  const bad = (problem: string): VmsightError =>
    new VmsightError('INVALID_INPUT', `Cannot load models "${directory}": ${problem}`);
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new VmsightError('INVALID_INPUT', `Cannot load models "${directory}": bad JSON`, {
      cause: error,
    });
  }
  if (!isObject(manifest) || manifest['format'] !== MODEL_DIRECTORY_FORMAT) {
    throw bad(`${MODEL_MANIFEST} is not a "${MODEL_DIRECTORY_FORMAT}" manifest`);
  }
  if (manifest['version'] !== MODEL_DIRECTORY_VERSION) {
    throw bad(`manifest version ${String(manifest['version'])} is not supported`);
  }
  const syscallPart = manifest['syscalls'];
  const syscalls =
    syscallPart === null
      ? undefined
      : await readPart(directory, syscallPart, syscallTokenSpace('x86-64'));
  const ioPart = manifest['io'];
  let io: IoSequenceModel | undefined;
  if (ioPart !== null && ioPart !== undefined) {
    if (!isObject(ioPart)) throw bad('"io" is not an object');
    const vocabulary = ioPart['vocabulary'];
    const traceLength = ioPart['traceLength'];
    if (
      !Array.isArray(vocabulary) ||
      vocabulary.length > MAX_IO_VOCABULARY ||
      !vocabulary.every(
        (token): token is string => typeof token === 'string' && token.length <= MAX_TOKEN_LENGTH,
      )
    ) {
      throw bad(`"io.vocabulary" is not a list of at most ${MAX_IO_VOCABULARY} token names`);
    }
    if (typeof traceLength !== 'number' || !Number.isInteger(traceLength) || traceLength < 1) {
      throw bad('"io.traceLength" is not a positive integer');
    }
    const model = await readPart(directory, ioPart, IO_TOKEN_SPACE);
    if (model instanceof PerProgramModel) throw bad('the I/O model is per-program');
    io = { model, vocabulary: IoVocabulary.from(vocabulary), traceLength };
  }
  if (syscalls === undefined && io === undefined) throw bad('it holds neither part');
  const argumentPart = manifest['arguments'];
  let argumentModel: ArgumentModel | undefined;
  if (argumentPart !== null && argumentPart !== undefined) {
    const file = fileOf(argumentPart);
    const path = join(directory, file);
    if ((await stat(path)).size > MAX_MANIFEST_BYTES) throw bad(`"${file}" is too large`);
    let value: unknown;
    try {
      value = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new VmsightError('INVALID_INPUT', `Cannot load models "${directory}": bad "${file}"`, {
        cause: error,
      });
    }
    argumentModel = ArgumentModel.fromJSON(value, path);
  }
  const online = readOnline(manifest['online']);
  const source = manifest['source'];
  return {
    syscalls,
    io,
    ...(online === undefined ? {} : { online }),
    ...(argumentModel === undefined ? {} : { arguments: argumentModel }),
    ...(typeof source === 'string' ? { source } : {}),
  };

  function readOnline(part: unknown): OnlineThresholds | undefined {
    if (part === null || part === undefined) return undefined;
    const finite = (value: unknown): value is number =>
      typeof value === 'number' && Number.isFinite(value);
    if (!isObject(part) || !isObject(part['syscalls'])) throw bad('"online" is malformed');
    const entries = Object.entries(part['syscalls']);
    if (entries.length > MAX_IO_VOCABULARY || !entries.every(([, value]) => finite(value))) {
      throw bad('"online.syscalls" is not a map of program to threshold');
    }
    const io = part['io'];
    if (io !== null && !finite(io)) throw bad('"online.io" is not a number');
    return { syscalls: new Map(entries as [string, number][]), io: io ?? undefined };
  }

  function fileOf(part: unknown): string {
    if (!isObject(part) || typeof part['file'] !== 'string' || !/^[\w.-]+$/.test(part['file'])) {
      throw bad(`a part names no file of its own directory`);
    }
    return part['file'];
  }

  async function readPart(dir: string, part: unknown, tokens: string): Promise<StoredModel> {
    const file = fileOf(part);
    const loaded = await readModelFile(join(dir, file));
    if (loaded.tokens !== tokens) {
      throw bad(`"${file}" holds ${String(loaded.tokens)} tokens, expected ${tokens}`);
    }
    return loaded.model;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
