import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream, type WriteStream } from 'node:fs';
import { chmod, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { VmsightError } from '../core/index.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A blob being written: stream bytes into `stream`, then `commit` under their hash or `abort`. */
export interface BlobWriter {
  readonly tempPath: string;
  readonly stream: WriteStream;
  /** Flushes, fsyncs and moves the file to its content address; returns that path. */
  commit(sha256: string): Promise<string>;
  /** Removes the temporary file. Idempotent. */
  abort(): Promise<void>;
}

/**
 * Content-addressed files: `<root>/sha256/<first two hex digits>/<sha256 of the stored bytes>`,
 * mode 0400. Writers go to `<root>/tmp/` first and are renamed into place only after fsync, so a
 * crash leaves at most a temporary file (removed by `removeStaleTemp`), never a partial blob
 * under a hash.
 *
 * @example
 * ```ts
 * import { BlobStore } from './blob-store.js';
 * const blobs = new BlobStore('/var/lib/vmsight/evidence/blobs');
 * const writer = await blobs.createWriter('ev-1');
 * ```
 */
export class BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) {
      // Threat: a hash from a bundle or an edited row used as a path could escape the store.
      throw new VmsightError('INVALID_INPUT', `"${sha256}" is not a SHA-256 in hex`);
    }
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  async has(sha256: string): Promise<boolean> {
    return stat(this.pathOf(sha256)).then(
      () => true,
      () => false,
    );
  }

  async size(sha256: string): Promise<number | undefined> {
    return stat(this.pathOf(sha256)).then(
      (info) => info.size,
      () => undefined,
    );
  }

  /** Reads a stored blob; `NOT_FOUND` naming the hash when it is missing. */
  async openRead(sha256: string): Promise<ReadStream> {
    const path = this.pathOf(sha256);
    if (!(await this.has(sha256))) {
      throw new VmsightError('NOT_FOUND', `Blob ${sha256} is missing from "${this.root}"`, {
        details: { sha256, path },
      });
    }
    return createReadStream(path, { highWaterMark: 1 << 20 });
  }

  /** `owner` tags the temporary file (an item id) for diagnostics and cleanup. */
  async createWriter(owner: string): Promise<BlobWriter> {
    const tmp = join(this.root, 'tmp');
    await mkdir(tmp, { recursive: true, mode: 0o700 });
    const safeOwner = owner.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);
    const tempPath = join(tmp, `${safeOwner}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const stream = createWriteStream(tempPath, { mode: 0o600, flags: 'wx' });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    let settled = false;
    return {
      tempPath,
      stream,
      commit: async (sha256: string) => {
        const target = this.pathOf(sha256);
        if (!stream.writableFinished) {
          if (!stream.writableEnded) stream.end();
          await finished(stream);
        }
        const handle = await open(tempPath, 'r');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
        await chmod(tempPath, 0o400);
        await mkdir(join(this.root, 'sha256', sha256.slice(0, 2)), { recursive: true });
        // Replaces an existing file of the same address too: the new bytes were hashed just now,
        // while the old file may have been damaged since it was stored.
        await rename(tempPath, target);
        await syncDirectory(join(this.root, 'sha256', sha256.slice(0, 2)));
        settled = true;
        return target;
      },
      abort: async () => {
        if (settled) return;
        settled = true;
        stream.destroy();
        await rm(tempPath, { force: true });
      },
    };
  }

  /** Every stored blob: its address, size and last modification (for garbage collection). */
  async list(): Promise<{ sha256: string; size: number; modifiedMs: number }[]> {
    const root = join(this.root, 'sha256');
    const found: { sha256: string; size: number; modifiedMs: number }[] = [];
    for (const prefix of await readdir(root).catch(() => [] as string[])) {
      for (const name of await readdir(join(root, prefix)).catch(() => [] as string[])) {
        if (!SHA256_HEX.test(name) || name.slice(0, 2) !== prefix) continue;
        const info = await stat(join(root, prefix, name)).catch(() => undefined);
        if (info?.isFile() === true)
          found.push({ sha256: name, size: info.size, modifiedMs: info.mtimeMs });
      }
    }
    return found;
  }

  /** Removes a stored blob (garbage collection only: referenced blobs are evidence). */
  async remove(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }

  /**
   * Removes temporary files whose writing process is gone (a crash or `kill -9` mid-write), and
   * returns their names. Files of live processes are left alone: they may still be writing.
   */
  async removeStaleTemp(): Promise<string[]> {
    const tmp = join(this.root, 'tmp');
    const names = await readdir(tmp).catch(() => [] as string[]);
    const removed: string[] = [];
    for (const name of names) {
      const pid = Number(/\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name)?.[1]);
      if (Number.isInteger(pid) && pid !== process.pid && isProcessAlive(pid)) continue;
      if (pid === process.pid) continue;
      await rm(join(tmp, name), { force: true });
      removed.push(name);
    }
    return removed;
  }
}

/** True when a process with this pid exists on this host. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Makes a rename durable: fsync of the directory that holds the new name. */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
