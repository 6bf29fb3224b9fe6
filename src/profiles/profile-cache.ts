import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseIsfJson, stringifyIsfJson, type IsfDocument } from '../symbols/index.js';

/** Cache file name for a kernel: VMCOREINFO OSRELEASE and BUILD-ID, hashed (both are guest data). */
export function profileCacheKey(release: string, buildId: string): string {
  return createHash('sha256').update(`${release}\u0000${buildId}`).digest('hex').slice(0, 32);
}

/** A cached ISF, or undefined when absent or unreadable (the cache is only a speed-up). */
export async function readCachedProfile(
  dir: string,
  key: string,
): Promise<IsfDocument | undefined> {
  try {
    return parseIsfJson(await readFile(join(dir, `${key}.json`), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Writes atomically (temp file + rename) so a concurrent reader never sees half a file. */
export async function writeCachedProfile(
  dir: string,
  key: string,
  isf: IsfDocument,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${key}.json`);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, stringifyIsfJson(isf));
  await rename(temp, path);
}
