import { VmsightError } from '../core/index.js';
import type { SyscallEvent } from '../events/index.js';

/** Distinct arguments remembered per program; a program with more is not checked. */
export const MAX_ARGUMENTS_PER_PROGRAM = 4096;
/** Programs an argument model holds. */
const MAX_PROGRAMS = 10_000;
const MAX_KEY_LENGTH = 4200;

/**
 * The argument of a call that says what it touched: `openat /etc/shadow`, `chmod /tmp/p.sh`,
 * `connect 127.0.0.1:4444`. Runs of digits in paths become `N`, so `/proc/1234/stat` and
 * `/tmp/f.1234` are the same file every run; socket addresses are kept as they are (a new port
 * is a new peer). Undefined for calls without a decoded argument.
 *
 * @example
 * ```ts
 * argumentKey({ type: 'syscall', vm: 'lab', vcpu: 0, time: null, abi: 'x86-64', nr: 257, name: 'openat', path: '/proc/42/stat' });
 * // 'openat /proc/N/stat'
 * ```
 */
export function argumentKey(event: SyscallEvent): string | undefined {
  const name = event.name ?? `#${event.nr}`;
  // AF_UNSPEC (family 0) names no peer: connect() with it dissolves an association, and it is
  // also what a read of an already recycled (zeroed) page gives.
  if (event.address !== undefined) {
    return event.address === 'family:0' ? undefined : `${name} ${event.address}`;
  }
  // Only printable ASCII paths are compared: the sensor reads a path when it parses the dump, a
  // little after the call, and a torn read of reused memory ("/dev/nul\xa3") must not count as
  // a new file.
  // execve is judged by the program it starts (a program without a model alerts on its own): by
  // the time the sensor reads the task, it may already carry the new program's name, so the
  // exec would count against the wrong program.
  // Only absolute paths: a relative one names a different file in every working directory (which
  // the event does not carry), so its novelty means nothing, and a torn read of a reused buffer
  // (":8080/index.html" from a shell's `wget http://…:8080/index.html`) usually looks relative.
  if (
    event.path !== undefined &&
    !EXEC_CALLS.has(event.nr) &&
    event.path.startsWith('/') &&
    PRINTABLE_PATH.test(event.path)
  ) {
    return `${name} ${event.path.replace(/\d+/g, 'N')}`;
  }
  return undefined;
}

const PRINTABLE_PATH = /^[\x20-\x7e]+$/;
/** execve (59) and execveat (322) on x86-64. */
const EXEC_CALLS = new Set([59, 322]);

/**
 * How a call is shown in an alert's window: its name, and its decoded argument when there is one
 * (`openat(/etc/shadow)`, `execve(/tmp/p.sh /tmp/p.sh)`, `connect(127.0.0.1:4444)`).
 *
 * @example
 * ```ts
 * callLabel({ type: 'syscall', vm: 'lab', vcpu: 0, time: null, abi: 'x86-64', nr: 0, name: 'read' }); // 'read'
 * ```
 */
export function callLabel(event: SyscallEvent): string {
  const name = event.name ?? `#${event.nr}`;
  const argument = event.address ?? (event.argv !== undefined ? event.argv.join(' ') : event.path);
  return argument === undefined ? name : `${name}(${argument})`;
}

/**
 * Per program, the files it opened and executed and the addresses it connected to in training.
 * A program doing the same calls on a file it never touched (`cat /etc/shadow` where `cat` only
 * read `/tmp`) is invisible to a sequence model of call numbers; this is the part that sees it.
 */
export class ArgumentModel {
  readonly #programs: Map<string, Set<string> | 'too-many'>;

  private constructor(programs: Map<string, Set<string> | 'too-many'>) {
    this.#programs = programs;
  }

  static empty(): ArgumentModel {
    return new ArgumentModel(new Map());
  }

  /** Learns one call; bounded per program and in programs. */
  add(program: string, event: SyscallEvent): void {
    const key = argumentKey(event);
    if (key === undefined) return;
    let seen = this.#programs.get(program);
    if (seen === undefined) {
      if (this.#programs.size >= MAX_PROGRAMS) return;
      seen = new Set();
      this.#programs.set(program, seen);
    }
    if (seen === 'too-many') return;
    seen.add(key.slice(0, MAX_KEY_LENGTH));
    if (seen.size > MAX_ARGUMENTS_PER_PROGRAM) this.#programs.set(program, 'too-many');
  }

  /**
   * The call's argument key when the program was learned with a bounded set of arguments and
   * this one is not in it; undefined otherwise.
   */
  novel(program: string, event: SyscallEvent): string | undefined {
    const seen = this.#programs.get(program);
    if (seen === undefined || seen === 'too-many') return undefined;
    const key = argumentKey(event);
    return key !== undefined && !seen.has(key.slice(0, MAX_KEY_LENGTH)) ? key : undefined;
  }

  toJSON(): Record<string, readonly string[] | 'too-many'> {
    const out: Record<string, readonly string[] | 'too-many'> = {};
    for (const [program, seen] of [...this.#programs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      Object.defineProperty(out, program, {
        value: seen === 'too-many' ? seen : [...seen].sort(),
        enumerable: true,
      });
    }
    return out;
  }

  static fromJSON(value: unknown, source: string): ArgumentModel {
    const bad = (problem: string): VmsightError =>
      new VmsightError('INVALID_INPUT', `Cannot load argument model "${source}": ${problem}`);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw bad('not an object');
    }
    const entries: [string, unknown][] = Object.entries(value);
    if (entries.length > MAX_PROGRAMS) throw bad(`more than ${MAX_PROGRAMS} programs`);
    // Program names come from the guest: a Map keeps "__proto__" an ordinary key.
    const programs = new Map<string, Set<string> | 'too-many'>();
    for (const [program, keys] of entries) {
      if (keys === 'too-many') {
        programs.set(program, 'too-many');
        continue;
      }
      if (
        !Array.isArray(keys) ||
        keys.length > MAX_ARGUMENTS_PER_PROGRAM ||
        !keys.every((key): key is string => typeof key === 'string' && key.length <= MAX_KEY_LENGTH)
      ) {
        throw bad(`"${program}" is not a list of at most ${MAX_ARGUMENTS_PER_PROGRAM} arguments`);
      }
      programs.set(program, new Set(keys));
    }
    return new ArgumentModel(programs);
  }
}
