/**
 * The arguments that matter for detection, read from guest memory at system-call entry: the path
 * of execve/open/openat/chmod, execve's argv, and connect's socket address. At `entry_SYSCALL_64` the
 * user registers are intact (RDI, RSI, RDX = arguments 1–3, x86-64 syscall ABI) and CR3 is still
 * the process's own page tables, so pointers are user virtual addresses read through them. The
 * memory belongs to a possibly hostile guest: every string, list and structure is bounded, and an
 * unmapped or non-resident page (not yet faulted in) leaves the argument out rather than failing.
 */
import type { VirtualLayer } from '../layers/index.js';
import { readCString, readUint64 } from './guest-task-reader.js';
import type { TcgRegisters } from './tcg-log-record.js';

/** Linux's PATH_MAX. */
const MAX_PATH = 4096;
/** argv strings kept per execve, and the bytes kept of each. */
const MAX_ARGV = 64;
const MAX_ARG_LENGTH = 256;
/** sizeof(struct sockaddr_un) on Linux, the largest address connect reads here. */
const MAX_SOCKADDR = 110;

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;

/** Decoded arguments, as `SyscallEvent` carries them. */
export interface SyscallArguments {
  readonly path?: string;
  readonly argv?: readonly string[];
  readonly address?: string;
}

type Register = 'rdi' | 'rsi' | 'rdx';
/** Where each decoded call keeps its path, argv and sockaddr (include/linux/syscalls.h). */
const CALLS: ReadonlyMap<
  number,
  { path?: Register; argv?: Register; sockaddr?: [Register, Register] }
> = new Map([
  [2, { path: 'rdi' }], // open(filename, flags, mode)
  [85, { path: 'rdi' }], // creat(pathname, mode)
  [257, { path: 'rsi' }], // openat(dfd, filename, flags, mode)
  [437, { path: 'rsi' }], // openat2(dfd, filename, how, usize)
  [59, { path: 'rdi', argv: 'rsi' }], // execve(filename, argv, envp)
  [322, { path: 'rsi', argv: 'rdx' }], // execveat(dfd, filename, argv, envp, flags)
  [90, { path: 'rdi' }], // chmod(filename, mode)
  [268, { path: 'rsi' }], // fchmodat(dfd, filename, mode)
  [42, { sockaddr: ['rsi', 'rdx'] }], // connect(fd, uservaddr, addrlen)
]);

/**
 * Reads the decoded arguments of the calls in `CALLS` through the address space `cr3` roots.
 *
 * @example
 * ```ts
 * import { SyscallArgumentReader } from './syscall-argument-reader.js';
 * declare const tasks: import('./guest-task-reader.js').RamTaskReader;
 * const reader = new SyscallArgumentReader((cr3) => tasks.addressSpace(cr3));
 * declare const registers: import('./tcg-log-record.js').TcgRegisters;
 * reader.read(257, registers); // { path: '/etc/shadow' }
 * ```
 */
export class SyscallArgumentReader {
  readonly #space: (cr3: bigint) => VirtualLayer;

  constructor(space: (cr3: bigint) => VirtualLayer) {
    this.#space = space;
  }

  /** Whether `nr` is a call this reader decodes (the others cost nothing). */
  decodes(nr: number): boolean {
    return CALLS.has(nr);
  }

  read(nr: number, registers: TcgRegisters): SyscallArguments | undefined {
    const call = CALLS.get(nr);
    if (call === undefined) return undefined;
    const space = this.#space(registers.cr3);
    const path =
      call.path === undefined
        ? undefined
        : tryRead(() => readCString(space, registers[call.path as Register], MAX_PATH));
    const argv =
      call.argv === undefined
        ? undefined
        : tryRead(() => readArgv(space, registers[call.argv as Register]));
    const address =
      call.sockaddr === undefined
        ? undefined
        : tryRead(() =>
            readSockaddr(space, registers[call.sockaddr![0]], registers[call.sockaddr![1]]),
          );
    if (path === undefined && argv === undefined && address === undefined) return undefined;
    return {
      ...(path === undefined ? {} : { path }),
      ...(argv === undefined ? {} : { argv }),
      ...(address === undefined ? {} : { address }),
    };
  }
}

function tryRead<T>(read: () => T | undefined): T | undefined {
  try {
    return read();
  } catch {
    // Unmapped, not yet resident, or outside guest RAM: the argument is left out.
    return undefined;
  }
}

/** A NULL-terminated array of string pointers, at most `MAX_ARGV` of them. */
function readArgv(space: VirtualLayer, pointer: bigint): string[] | undefined {
  if (pointer === 0n) return undefined;
  const argv: string[] = [];
  for (let i = 0; i < MAX_ARGV; i += 1) {
    const item = readUint64(space, pointer + BigInt(i * 8));
    if (item === 0n) break;
    argv.push(readCString(space, item, MAX_ARG_LENGTH));
  }
  return argv;
}

/** `struct sockaddr_in` / `sockaddr_in6` / `sockaddr_un` as text (include/uapi/linux/in.h, in6.h, un.h). */
function readSockaddr(
  space: VirtualLayer,
  pointer: bigint,
  lengthRegister: bigint,
): string | undefined {
  const length = Number(lengthRegister & 0xffff_ffffn);
  if (pointer === 0n || length < 2) return undefined;
  const bytes = Buffer.from(space.read(pointer, Math.min(length, MAX_SOCKADDR)));
  const family = bytes.readUInt16LE(0);
  if (family === AF_INET && bytes.length >= 8) {
    return `${[...bytes.subarray(4, 8)].join('.')}:${bytes.readUInt16BE(2)}`;
  }
  if (family === AF_INET6 && bytes.length >= 24) {
    const groups: string[] = [];
    for (let i = 8; i < 24; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    return `[${groups.join(':')}]:${bytes.readUInt16BE(2)}`;
  }
  if (family === AF_UNIX) {
    const path = bytes.subarray(2);
    const end = path.indexOf(0);
    // A leading NUL is Linux's abstract namespace (unix(7)), shown as "@".
    if (end === 0) return `unix:@${path.subarray(1).toString('latin1').replace(/\0+$/, '')}`;
    return `unix:${path.subarray(0, end < 0 ? path.length : end).toString('latin1')}`;
  }
  return `family:${family}`;
}
