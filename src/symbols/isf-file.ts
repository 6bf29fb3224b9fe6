import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VmsightError } from '../core/index.js';
import {
  parseIsfJson,
  parseIsfJsonValue,
  stringifyIsfJson,
  type IsfParseOptions,
} from './isf-json.js';
import type { IsfDocument } from './isf-types.js';
import {
  assertValidIsf,
  validateIsf,
  type IsfProblem,
  type IsfValidateOptions,
} from './isf-validator.js';

export interface IsfReadOptions extends IsfParseOptions {
  /** Decompressed bytes accepted at most. Default 1 GiB (dwarf2json's 6.1 ISF is 38 MB). */
  readonly maxBytes?: number;
}

/**
 * Reads an ISF file, plain JSON or `.json.xz` (decompressed by the host's `xz` in a child process,
 * streamed, and cut off at `maxBytes` so a decompression bomb cannot exhaust memory).
 *
 * @example
 * ```ts
 * import { readIsfFile } from './isf-file.js';
 * const isf = await readIsfFile('debian-6.1.0-56-amd64.json.xz');
 * isf.user_types['task_struct']?.size;
 * ```
 */
export async function readIsfFile(
  path: string,
  options: IsfReadOptions = {},
): Promise<IsfDocument> {
  return parseIsfJson(await readIsfText(path, options), options);
}

/**
 * Checks an ISF file (plain or `.json.xz`) against Volatility 3's rules without converting it
 * first, so that nothing malformed is dropped before it is seen. Returns the problems found.
 */
export async function checkIsfFile(
  path: string,
  options: IsfReadOptions & IsfValidateOptions = {},
): Promise<IsfProblem[]> {
  return validateIsf(parseIsfJsonValue(await readIsfText(path, options)), options);
}

async function readIsfText(path: string, options: IsfReadOptions): Promise<string> {
  const maxBytes = options.maxBytes ?? 1024 * 1024 * 1024;
  const chunks: Buffer[] = [];
  let total = 0;
  const collect = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) {
      total += chunk.length;
      if (total > maxBytes) {
        throw new VmsightError(
          'LIMIT_EXCEEDED',
          `Cannot read ISF "${path}": it holds more than ${maxBytes} bytes`,
        );
      }
      chunks.push(chunk);
    }
  };
  try {
    if (path.endsWith('.xz')) {
      const child = spawn('xz', ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<number>((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code) => resolve(code ?? -1));
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (text: string) => {
        if (stderr.length < 4096) stderr += text;
      });
      try {
        await collect(child.stdout);
      } catch (error) {
        child.kill();
        throw error;
      }
      const code = await exited;
      if (code !== 0) {
        throw new VmsightError(
          'INVALID_INPUT',
          `Cannot decompress ISF "${path}": ${stderr.trim()}`,
        );
      }
    } else {
      await collect(createReadStream(path));
    }
  } catch (error) {
    if (error instanceof VmsightError) throw error;
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new VmsightError(
      missing && path.endsWith('.xz') ? 'DEPENDENCY_MISSING' : 'IO_ERROR',
      `Cannot read ISF "${path}"`,
      { cause: error },
    );
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Writes an ISF file; a path ending in `.xz` is compressed through the host's `xz`. The document is
 * first checked against Volatility 3's rules (isf-validator.ts): an `INVALID_INPUT` error, and no
 * file, rather than one Volatility would refuse.
 */
export async function writeIsfFile(path: string, doc: IsfDocument): Promise<void> {
  assertValidIsf(doc, `The ISF for "${path}"`);
  const text = stringifyIsfJson(doc);
  const out = createWriteStream(path);
  if (!path.endsWith('.xz')) {
    await pipeline(Readable.from([Buffer.from(text, 'utf8')]), out);
    return;
  }
  const child = spawn('xz', ['-c', '-6', '-T1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? -1));
  });
  try {
    await Promise.all([
      pipeline(Readable.from([Buffer.from(text, 'utf8')]), child.stdin),
      pipeline(child.stdout, out),
    ]);
  } catch (error) {
    throw new VmsightError('IO_ERROR', `Cannot write ISF "${path}"`, { cause: error });
  }
  const code = await exited;
  if (code !== 0)
    throw new VmsightError('IO_ERROR', `Cannot write ISF "${path}": xz exited with ${code}`);
}
