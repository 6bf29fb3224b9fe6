/**
 * Writes a cpio archive in the "newc" (SVR4, no CRC) format the kernel unpacks as an initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst): a 110-byte ASCII header of "070701"
 * and 13 eight-digit hex fields, the NUL-terminated name, then the data, each padded to 4 bytes,
 * ended by an entry named "TRAILER!!!". Timestamps are 0 so the same inputs give the same bytes.
 */

/** File-type bits of st_mode (sys/stat.h). */
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

export type CpioEntry =
  | { readonly type: 'dir'; readonly path: string; readonly mode?: number }
  | {
      readonly type: 'file';
      readonly path: string;
      readonly data: Uint8Array;
      readonly mode?: number;
    }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string }
  | {
      readonly type: 'char';
      readonly path: string;
      readonly major: number;
      readonly minor: number;
      readonly mode?: number;
    };

const MAGIC = '070701';
const TRAILER = 'TRAILER!!!';

function field(value: number): string {
  return value.toString(16).padStart(8, '0');
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function record(
  ino: number,
  mode: number,
  name: string,
  data: Uint8Array,
  rdev: readonly [number, number] = [0, 0],
): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const header = Buffer.from(
    MAGIC +
      [
        ino,
        mode,
        0,
        0,
        (mode & S_IFDIR) === S_IFDIR ? 2 : 1,
        0,
        data.length,
        0,
        0,
        rdev[0],
        rdev[1],
        nameBytes.length,
        0,
      ]
        .map(field)
        .join(''),
    'ascii',
  );
  return [
    header,
    nameBytes,
    pad4(header.length + nameBytes.length),
    Buffer.from(data),
    pad4(data.length),
  ];
}

/**
 * Serialises entries (paths relative, without a leading "/") in the order given: parents must
 * come before their children.
 *
 * @example
 * ```ts
 * import { writeCpioNewc } from './cpio-newc-writer.js';
 * const archive = writeCpioNewc([{ type: 'dir', path: 'bin' }]);
 * ```
 */
export function writeCpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((entry, index) => {
    const ino = index + 1;
    switch (entry.type) {
      case 'dir':
        parts.push(...record(ino, S_IFDIR | (entry.mode ?? 0o755), entry.path, new Uint8Array()));
        break;
      case 'file':
        parts.push(...record(ino, S_IFREG | (entry.mode ?? 0o644), entry.path, entry.data));
        break;
      case 'symlink':
        parts.push(...record(ino, S_IFLNK | 0o777, entry.path, Buffer.from(entry.target, 'utf8')));
        break;
      case 'char':
        parts.push(
          ...record(ino, S_IFCHR | (entry.mode ?? 0o600), entry.path, new Uint8Array(), [
            entry.major,
            entry.minor,
          ]),
        );
        break;
      default: {
        const unreachable: never = entry;
        throw new TypeError(`Unknown cpio entry ${String(unreachable)}`);
      }
    }
  });
  parts.push(...record(0, 0, TRAILER, new Uint8Array()));
  return Buffer.concat(parts);
}
