import { hex } from '../../core/index.js';
import type { KernelProfile } from '../../profiles/index.js';
import type { IntrospectionWarning, SymbolTable } from '../../symbols/index.js';

/** A `struct path`: a mount (its embedded struct vfsmount) and a dentry. */
export interface KernelPath {
  readonly mnt: bigint;
  readonly dentry: bigint;
}

/** One `struct file`, decoded, with its path as readlink(/proc/PID/fd/N) shows it. */
export interface FileInfo {
  readonly file: bigint;
  /** undefined when the dentry chain is unreadable (a warning says why). */
  readonly path: string | undefined;
  readonly inode: bigint;
  /** inode->i_ino. */
  readonly ino: bigint;
  /** inode->i_sb->s_dev (MAJOR = dev >> 20, MINOR = dev & 0xfffff, include/linux/kdev_t.h). */
  readonly dev: number;
  /** The file system's magic (dentry->d_sb->s_magic), e.g. SOCKFS_MAGIC. */
  readonly magic: bigint;
  readonly privateData: bigint;
}

/** include/uapi/linux/magic.h. */
export const SOCKFS_MAGIC = 0x534f434bn;
const PIPEFS_MAGIC = 0x50495045n;
const ANON_INODE_FS_MAGIC = 0x09041934n;
/** NAME_MAX and PATH_MAX (include/uapi/linux/limits.h). */
const NAME_MAX = 255;
const PATH_MAX = 4096;

export interface FilePathLayout {
  readonly filePath: number;
  readonly fileInode: number;
  readonly filePrivate: number;
  readonly pathDentry: number;
  readonly dentrySize: number;
  readonly dHashPprev: number;
  readonly dParent: number;
  readonly dNameLen: number;
  readonly dNameName: number;
  readonly dSb: number;
  readonly mountParent: number;
  readonly mountMountpoint: number;
  /** Offset of the embedded struct vfsmount in struct mount (real_mount()). */
  readonly mountMnt: number;
  readonly mntRoot: number;
  readonly inodeIno: number;
  readonly inodeSb: number;
  readonly sbDev: number;
  readonly sbMagic: number;
}

export function filePathLayout(symbols: SymbolTable): FilePathLayout {
  const at = (type: string, member: string): number => symbols.offsetOf(type, member);
  const dName = at('dentry', 'd_name');
  return {
    filePath: at('file', 'f_path'),
    fileInode: at('file', 'f_inode'),
    filePrivate: at('file', 'private_data'),
    pathDentry: at('path', 'dentry'),
    dentrySize: symbols.sizeOf('dentry'),
    // struct hlist_bl_node { next; pprev; }: unhashed when pprev is NULL.
    dHashPprev: at('dentry', 'd_hash') + 8,
    dParent: at('dentry', 'd_parent'),
    dNameLen: dName + at('qstr', 'len'),
    dNameName: dName + at('qstr', 'name'),
    dSb: at('dentry', 'd_sb'),
    mountParent: at('mount', 'mnt_parent'),
    mountMountpoint: at('mount', 'mnt_mountpoint'),
    mountMnt: at('mount', 'mnt'),
    mntRoot: at('vfsmount', 'mnt_root'),
    inodeIno: at('inode', 'i_ino'),
    inodeSb: at('inode', 'i_sb'),
    sbDev: at('super_block', 's_dev'),
    sbMagic: at('super_block', 's_magic'),
  };
}

type Warn = (warning: IntrospectionWarning) => void;

/** Reads guest kernel memory, turning a failure into a warning and undefined. */
class Reader {
  constructor(
    readonly profile: KernelProfile,
    readonly warn: Warn,
  ) {}

  bytes(address: bigint, length: number, what: string): DataView | undefined {
    try {
      const raw = this.profile.kernel.read(address, length);
      return new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    } catch (error) {
      this.warn({
        code: 'unreadable-memory',
        message: `Cannot read ${what} at ${hex(address)}: ${(error as Error).message}`,
        address,
      });
      return undefined;
    }
  }

  u64(address: bigint, what: string): bigint | undefined {
    return this.bytes(address, 8, what)?.getBigUint64(0, true);
  }
}

interface Dentry {
  readonly parent: bigint;
  readonly name: string;
  readonly unhashed: boolean;
  readonly sb: bigint;
}

function readDentry(reader: Reader, layout: FilePathLayout, dentry: bigint): Dentry | undefined {
  const view = reader.bytes(dentry, layout.dentrySize, 'dentry');
  if (view === undefined) return undefined;
  let length = view.getUint32(layout.dNameLen, true);
  if (length > NAME_MAX) {
    // d_name.len is attacker-controlled: a name longer than NAME_MAX is cut there.
    reader.warn({
      code: 'bad-length',
      message: `Dentry ${hex(dentry)} has a ${length}-byte name: only ${NAME_MAX} are read`,
      address: dentry,
    });
    length = NAME_MAX;
  }
  const namePointer = view.getBigUint64(layout.dNameName, true);
  let name = '';
  if (length > 0) {
    const bytes = reader.bytes(namePointer, length, `the name of dentry ${hex(dentry)}`);
    if (bytes === undefined) return undefined;
    name = Buffer.from(bytes.buffer, bytes.byteOffset, length).toString('utf8');
  }
  return {
    parent: view.getBigUint64(layout.dParent, true),
    name,
    unhashed: view.getBigUint64(layout.dHashPprev, true) === 0n,
    sb: view.getBigUint64(layout.dSb, true),
  };
}

/**
 * The path of a dentry in a mount as the kernel's d_path() prints it (fs/d_path.c prepend_path()):
 * names up to the mount's root, then on from the mountpoint in the parent mount, until `root` (the
 * task's fs->root) or the namespace's root mount (its own parent). " (deleted)" follows an unlinked
 * dentry (d_unlinked(): unhashed and not a root). Walks at most PATH_MAX / 2 steps (a loop in the
 * parents ends there with a warning). Not reproduced: paths of pseudo files outside sockfs, pipefs
 * and anon_inodefs (nsfs "net:[…]", dmabuf, …), which the kernel names through d_op->d_dname(); and
 * "(unreachable)" prefixes of paths outside the task's root.
 */
function dentryPath(
  reader: Reader,
  layout: FilePathLayout,
  start: KernelPath,
  root: KernelPath | undefined,
): string | undefined {
  const names: string[] = [];
  let { mnt, dentry } = start;
  let mount = mnt - BigInt(layout.mountMnt);
  let length = 0;
  let deleted: boolean | undefined;
  for (let step = 0; ; step += 1) {
    if (step >= PATH_MAX / 2 || length > PATH_MAX) {
      reader.warn({
        code: 'list-loop',
        message: `The path of dentry ${hex(start.dentry)} is longer than ${PATH_MAX / 2} steps or ${PATH_MAX} bytes: it is cut`,
        address: start.dentry,
      });
      break;
    }
    if (root !== undefined && dentry === root.dentry && mnt === root.mnt) break;
    const mntRoot = reader.u64(mnt + BigInt(layout.mntRoot), 'vfsmount');
    if (mntRoot === undefined) return undefined;
    if (dentry === mntRoot) {
      const parent = reader.u64(mount + BigInt(layout.mountParent), 'mount');
      if (parent === undefined) return undefined;
      if (parent === mount) break; // the namespace's root mount
      const mountpoint = reader.u64(mount + BigInt(layout.mountMountpoint), 'mount');
      if (mountpoint === undefined) return undefined;
      mount = parent;
      mnt = parent + BigInt(layout.mountMnt);
      dentry = mountpoint;
      continue;
    }
    const entry = readDentry(reader, layout, dentry);
    if (entry === undefined) return undefined;
    if (dentry === start.dentry && mnt === start.mnt) {
      deleted = entry.unhashed && entry.parent !== dentry;
    }
    if (entry.parent === dentry) break; // IS_ROOT: a disconnected tree
    names.push(entry.name);
    length += entry.name.length + 1;
    dentry = entry.parent;
  }
  const path = names.length === 0 ? '/' : `/${names.reverse().join('/')}`;
  return deleted === true ? `${path} (deleted)` : path;
}

/**
 * Reads a `struct file`: its inode number, device and file system, and its path as
 * readlink(/proc/PID/fd/N) or /proc/PID/maps show it. Pseudo files are named the way their file
 * systems' d_dname() do: sockfs "socket:[INO]", pipefs "pipe:[INO]", anon_inodefs
 * "anon_inode:NAME" (net/socket.c sockfs_dname(), fs/pipe.c pipefs_dname(), fs/anon_inodes.c).
 */
export function readFileInfo(
  profile: KernelProfile,
  layout: FilePathLayout,
  file: bigint,
  warn: Warn,
  root?: KernelPath,
): FileInfo | undefined {
  const reader = new Reader(profile, warn);
  const head = reader.bytes(
    file,
    Math.max(layout.filePath + layout.pathDentry, layout.fileInode, layout.filePrivate) + 8,
    'struct file',
  );
  if (head === undefined) return undefined;
  const mnt = head.getBigUint64(layout.filePath, true);
  const dentry = head.getBigUint64(layout.filePath + layout.pathDentry, true);
  const inode = head.getBigUint64(layout.fileInode, true);
  const privateData = head.getBigUint64(layout.filePrivate, true);
  const ino = reader.u64(inode + BigInt(layout.inodeIno), 'inode') ?? 0n;
  const sb = reader.u64(inode + BigInt(layout.inodeSb), 'inode');
  const dev =
    sb === undefined
      ? 0
      : (reader.bytes(sb + BigInt(layout.sbDev), 4, 'super_block')?.getUint32(0, true) ?? 0);
  const magic =
    sb === undefined ? 0n : (reader.u64(sb + BigInt(layout.sbMagic), 'super_block') ?? 0n);
  let path: string | undefined;
  if (magic === SOCKFS_MAGIC) path = `socket:[${ino}]`;
  else if (magic === PIPEFS_MAGIC) path = `pipe:[${ino}]`;
  else if (magic === ANON_INODE_FS_MAGIC) {
    const entry = readDentry(reader, layout, dentry);
    path = entry === undefined ? undefined : `anon_inode:${entry.name}`;
  } else path = dentryPath(reader, layout, { mnt, dentry }, root);
  return { file, path, inode, ino, dev, magic, privateData };
}

/** The task's root directory (task->fs->root), where d_path() stops; undefined without one. */
export function taskRoot(
  profile: KernelProfile,
  task: bigint,
  offsets: { readonly taskFs: number; readonly fsRoot: number; readonly pathDentry: number },
): KernelPath | undefined {
  try {
    const fsBytes = profile.kernel.read(task + BigInt(offsets.taskFs), 8);
    const fs = new DataView(fsBytes.buffer, fsBytes.byteOffset, 8).getBigUint64(0, true);
    if (fs === 0n) return undefined;
    const raw = profile.kernel.read(fs + BigInt(offsets.fsRoot), offsets.pathDentry + 8);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return { mnt: view.getBigUint64(0, true), dentry: view.getBigUint64(offsets.pathDentry, true) };
  } catch {
    return undefined;
  }
}
