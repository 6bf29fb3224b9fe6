import { basename } from 'node:path';
import { splitLines } from '../core/index.js';
import { inputError, type InputPosition } from './_input-error.js';
import { toAsync } from './_to-async.js';
import type { GuestEvent, SyscallEvent } from './guest-event.js';
import { SyscallTable, parseSyscallAbi, type SyscallAbi } from './syscall-table.js';
import { UNKNOWN_PROGRAM } from './syscall-trace.js';
import { readTraceFile } from './trace-file.js';

/**
 * Options for {@link parseAuditLog} and {@link readAuditLog}.
 *
 * @example
 * ```ts
 * readAuditLog('/var/log/audit/audit.log', { vm: 'web-1' });
 * ```
 */
export interface AuditLogOptions {
  /** Names the input in errors. Default `input` (the path for {@link readAuditLog}). */
  readonly source?: string;
  /** The `vm` of every event. Default: the base name of `source`. */
  readonly vm?: string;
  readonly maxLineBytes?: number;
}

/**
 * `AUDIT_ARCH_*` values of the `arch=` field (include/uapi/linux/audit.h: EM_X86_64 or EM_386 with
 * `__AUDIT_ARCH_64BIT` 0x80000000 and `__AUDIT_ARCH_LE` 0x40000000).
 */
const AUDIT_ARCH: Readonly<Record<string, SyscallAbi>> = {
  c000003e: 'x86-64',
  '40000003': 'i386',
};

/**
 * Every field the kernel writes into a SYSCALL record (kernel/auditsc.c `audit_log_exit`, and
 * `audit_log_task_info` in kernel/audit.c), plus `node` (auditd `name_format`) and the upper-case
 * fields auditd appends after a 0x1d separator with `log_format = ENRICHED`. Anything else is
 * rejected: a field we do not know is a format we do not understand.
 */
const SYSCALL_FIELDS = new Set([
  'node', 'type', 'msg', 'arch', 'syscall', 'per', 'success', 'exit',
  'a0', 'a1', 'a2', 'a3', 'items', 'ppid', 'pid', 'auid', 'uid', 'gid', 'euid', 'suid',
  'fsuid', 'egid', 'sgid', 'fsgid', 'tty', 'ses', 'comm', 'exe', 'subj', 'key',
  'ARCH', 'SYSCALL', 'AUID', 'UID', 'GID', 'EUID', 'SUID', 'FSUID', 'EGID', 'SGID', 'FSGID',
]); // prettier-ignore

const RECORD_TYPE = /^(?:node=\S+ )?type=(\S+) /;
/** `msg=audit(SECONDS.MILLIS:SERIAL):` — the record's time stamp and event serial number. */
const MSG = /^audit\((\d+)\.(\d{3}):(\d+)\):$/;
const HEX_STRING = /^(?:[0-9A-F]{2})+$/;
const DECIMAL = /^-?\d{1,20}$/;
const HEX = /^[0-9a-f]{1,16}$/;

/**
 * Parses a Linux audit log (auditd's `audit.log`, raw or enriched format) into syscall events from
 * its `type=SYSCALL` records; other record types are skipped. `exe=` (the program key) and `comm=`
 * may be quoted or, when they hold spaces or non-ASCII bytes, hex-encoded. The audit `pid` is the
 * thread-group id, so it is both `pid` and `tgid` of the events. An `exit_group` call also yields
 * a `process-exit` event.
 *
 * @example
 * ```ts
 * import { parseAuditLog } from './auditd-importer.js';
 * const line = 'type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=2 success=no exit=-2 a0=7fffd19c5592 a1=0 a2=7fffd19c4b50 a3=a items=1 ppid=2686 pid=3538 auid=500 uid=500 gid=500 euid=500 suid=500 fsuid=500 egid=500 sgid=500 fsgid=500 tty=pts0 ses=1 comm="cat" exe="/bin/cat" key="sshd_config"';
 * for await (const event of parseAuditLog([line])) console.log(event.type); // syscall
 * ```
 */
export async function* parseAuditLog(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: AuditLogOptions = {},
): AsyncGenerator<GuestEvent> {
  const source = options.source ?? 'input';
  const vm = options.vm ?? basename(source);
  const lines = splitLines(toAsync(chunks), {
    source: JSON.stringify(source),
    ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
  });
  for await (const line of lines) {
    const text = line.text;
    // ausearch output separates events with `----` and may print `time->` lines.
    if (text.trim() === '' || text === '----' || text.startsWith('time->')) continue;
    const at: InputPosition = { source, line: line.number };
    const type = RECORD_TYPE.exec(text)?.[1];
    if (type === undefined) throw inputError(at, 'an audit record starting "type="', text);
    if (type !== 'SYSCALL') continue;
    const fields = splitFields(text, at);
    yield* toEvents(fields, vm, at);
  }
}

function splitFields(text: string, at: InputPosition): Map<string, string> {
  const fields = new Map<string, string>();
  // 0x1d (group separator) starts the enriched part that auditd appends.
  for (const token of text.replaceAll('\u001d', ' ').split(' ')) {
    if (token === '') continue;
    const equals = token.indexOf('=');
    if (equals <= 0) throw inputError(at, 'name=value fields', token);
    const name = token.slice(0, equals);
    if (!SYSCALL_FIELDS.has(name)) {
      throw inputError({ ...at, field: name }, 'a field of a SYSCALL record', token);
    }
    fields.set(name, token.slice(equals + 1));
  }
  return fields;
}

function* toEvents(
  fields: Map<string, string>,
  vm: string,
  at: InputPosition,
): Generator<GuestEvent> {
  const need = (name: string): string => {
    const value = fields.get(name);
    if (value === undefined) throw inputError({ ...at, field: name }, 'this field to be present');
    return value;
  };
  const msg = MSG.exec(need('msg'));
  if (msg === null)
    throw inputError({ ...at, field: 'msg' }, 'audit(SECONDS.MILLIS:SERIAL):', fields.get('msg'));
  const time = BigInt(msg[1] as string) * 1_000_000_000n + BigInt(msg[2] as string) * 1_000_000n;
  const archText = need('arch');
  const abi = AUDIT_ARCH[archText] ?? parseSyscallAbi(archText);
  if (abi === undefined) {
    throw inputError({ ...at, field: 'arch' }, 'c000003e (x86-64) or 40000003 (i386)', archText);
  }
  const table = SyscallTable.for(abi);
  const syscallText = need('syscall');
  // A name is accepted too (hand-written or converted logs); the kernel always writes numbers.
  const nr = /^\d{1,5}$/.test(syscallText) ? Number(syscallText) : table.number(syscallText);
  if (nr === undefined)
    throw inputError({ ...at, field: 'syscall' }, `a ${abi} system call`, syscallText);
  const pid = decimal(need('pid'), { ...at, field: 'pid' }, 0, 0x7fff_ffff);
  const comm = untrustedString(fields.get('comm'), { ...at, field: 'comm' });
  const exe = untrustedString(fields.get('exe'), { ...at, field: 'exe' });
  const args: bigint[] = [];
  for (const name of ['a0', 'a1', 'a2', 'a3']) {
    const value = fields.get(name);
    if (value === undefined) break;
    if (!HEX.test(value)) throw inputError({ ...at, field: name }, 'a hex register value', value);
    args.push(BigInt(`0x${value}`));
  }
  const exitText = fields.get('exit');
  let returnValue: bigint | undefined;
  if (exitText !== undefined) {
    if (!DECIMAL.test(exitText))
      throw inputError({ ...at, field: 'exit' }, 'a decimal return value', exitText);
    returnValue = BigInt(exitText);
  }
  const process = { pid, tgid: pid, comm: comm ?? '', programKey: exe ?? comm ?? UNKNOWN_PROGRAM };
  const name = table.name(nr);
  const event: SyscallEvent = {
    type: 'syscall',
    vm,
    vcpu: null,
    time,
    process,
    abi,
    nr,
    ...(name === undefined ? {} : { name }),
    ...(args.length === 0 ? {} : { args }),
    ...(returnValue === undefined ? {} : { returnValue }),
  };
  yield event;
  // exit_group never returns, so the kernel logs it with no `exit=`: the process is gone.
  if (name === 'exit_group') {
    yield { type: 'process-exit', vm, vcpu: null, time, process };
  }
}

function decimal(text: string, at: InputPosition, min: number, max: number): number {
  const value = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw inputError(at, `a number from ${min} to ${max}`, text);
  return value;
}

/**
 * Decodes `audit_log_untrustedstring` output: `"text"` when the value is plain printable ASCII
 * without spaces or quotes, otherwise upper-case hex of the raw bytes; `(null)`/`(none)` when unset.
 */
function untrustedString(text: string | undefined, at: InputPosition): string | undefined {
  if (text === undefined || text === '(null)' || text === '(none)') return undefined;
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) return text.slice(1, -1);
  if (HEX_STRING.test(text)) return Buffer.from(text, 'hex').toString('utf8');
  throw inputError(at, 'a quoted or hex-encoded string', text);
}

/**
 * Reads an audit log file (plain or zstd-compressed).
 *
 * @example
 * ```ts
 * import { readAuditLog } from './auditd-importer.js';
 * for await (const event of readAuditLog('/var/log/audit/audit.log')) console.log(event.type);
 * ```
 */
export function readAuditLog(
  path: string,
  options: AuditLogOptions = {},
): AsyncGenerator<GuestEvent> {
  return parseAuditLog(readTraceFile(path), { source: path, ...options });
}
