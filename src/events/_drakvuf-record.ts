// The JSON shape of DRAKVUF's `syscalls` plugin (`drakvuf -o json`), as its sources write it at
// github.com/tklengyel/drakvuf commit cb6213981f71fd3f70c30860e81744b91011dd4e (2026-03-05). Facts
// only; no DRAKVUF code is used (it is GPL):
// - src/plugins/output_format/jsonfmt.h:473-504 (`get_common_data`, `print`): one object per line,
//   "Plugin" first, then "TimeStamp" (a string "SECONDS.MICROSECONDS", six digits), "PID", "PPID",
//   "TID", "UserId" (numbers), "ProcessName" (string), "Method" (the trap's name; null without one),
//   "EventUID" (hex string), then the plugin's own keys. Hex values (`Xval`) are strings "0x…";
//   an empty string prints as "(null)".
// - src/libdrakvuf/linux-processes.c:676-698 (`linux_get_process_data`): on Linux "PID" is the
//   task's tgid, "TID" its own pid (the thread id), "ProcessName" the full path of `mm->exe_file`
//   (`comm` for kernel threads, "process-<pid>" once the task is exiting).
// - src/plugins/syscalls/linux.cpp:245-276 (`print_syscall`): Plugin "syscall", then "ThreadName"
//   (the task's `comm`), "Module", "vCPU" (number), "CR3" (hex), "Syscall" (number), "NArgs"
//   (number), "Type" ("x64" for `__x64_sys_*`, "x32" for `__ia32_sys_*` hooks, linux.h:136-137),
//   then one key per argument named as in linux.h's table.
// - linux.cpp:319-376 (`register_hook`, `trap_syscall_table_entries`), src/libhook/hooks/
//   syscall.hpp:197 and src/plugins/syscalls/private.h:686-696: "Method" is the table's display
//   name, the plain kernel name (`openat`, `stat` for `newstat`; `sendfile64`, linux.h:1662, is the
//   one x86-64 name that differs from the UAPI's `sendfile`). "Syscall" is the index in the x86-64
//   table for both hook types, so for "x32" records only the name identifies the call.
// - src/plugins/syscalls/syscalls.cpp:119-129 (`print_sysret`): Plugin "sysret", "Module",
//   "vCPU", "CR3", "Syscall", "Ret" (RAX as unsigned hex), "Info"; "Method" is the entry's name.
// - src/libhook/hooks/syscall.cpp:183: "Module" is "linux" for Linux hooks;
//   src/plugins/syscalls/win.cpp:826-836 writes no "Type" but "PreviousMode" and "FromModule",
//   with "Module" naming the Windows table ("nt", "win32k").
import { inputError, type InputPosition } from './_input-error.js';
import type { SyscallAbi } from './syscall-table.js';

/** A `syscall` record of a Linux guest, validated. */
export interface DrakvufSyscall {
  readonly kind: 'syscall';
  readonly time: bigint;
  readonly tgid: number;
  readonly tid: number;
  readonly processName: string | undefined;
  readonly threadName: string | undefined;
  readonly method: string;
  readonly vcpu: number | null;
  readonly abi: SyscallAbi;
}

/** A `sysret` record: the return of the call a thread entered last. */
export interface DrakvufSysret {
  readonly kind: 'sysret';
  readonly tid: number;
  readonly method: string;
  readonly returnValue: bigint;
}

/** One line of `drakvuf -o json` output. */
export type DrakvufRecord = DrakvufSyscall | DrakvufSysret | { readonly kind: 'other-plugin' };

/** Windows tables in "Module" (win.cpp) and the Windows-only keys of its records. */
const WINDOWS_MODULES = new Set(['nt', 'win32k', 'ntoskrnl.exe']);
const TIMESTAMP = /^(\d{1,12})\.(\d{6})$/;
const HEX = /^0x[0-9a-f]{1,16}$/i;
/** What `Estr`/`Qstr` print for a missing or empty string. */
const NULL_STRING = '(null)';

/**
 * Validates one parsed line. The values are guest-derived (names and paths read from guest
 * memory) and the file may be hand-made, so every field is type- and range-checked before use;
 * keys are read as own properties only, so `__proto__` or `constructor` keys change nothing.
 */
export function decodeDrakvufRecord(
  value: unknown,
  at: InputPosition,
  maxStringLength: number,
): DrakvufRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw inputError(at, 'a JSON object per line', value);
  }
  const record = value as Record<string, unknown>;
  const field = (name: string): unknown => (Object.hasOwn(record, name) ? record[name] : undefined);
  const where = (name: string): InputPosition => ({ ...at, field: name });
  const need = (name: string): unknown => {
    const item = field(name);
    if (item === undefined) throw inputError(where(name), 'this field to be present');
    return item;
  };
  const integer = (name: string, max: number, item: unknown = need(name)): number => {
    if (typeof item !== 'number' || !Number.isInteger(item) || item < 0 || item > max) {
      throw inputError(where(name), `an integer from 0 to ${max}`, item);
    }
    return item;
  };
  const text = (name: string, item: unknown = need(name)): string => {
    if (typeof item !== 'string' || item.length > maxStringLength) {
      throw inputError(where(name), `a string of at most ${maxStringLength} characters`, item);
    }
    return item;
  };
  const optionalText = (name: string): string | undefined => {
    const item = field(name);
    if (item === undefined || item === null) return undefined;
    const string = text(name, item);
    return string === '' || string === NULL_STRING ? undefined : string;
  };

  const plugin = text('Plugin');
  if (plugin !== 'syscall' && plugin !== 'sysret') return { kind: 'other-plugin' };
  // vmi_pid_t is a 32-bit signed integer; negative ids are not tasks.
  const tid = integer('TID', 0x7fff_ffff, field('TID') ?? need('PID'));
  const method = text('Method');
  if (plugin === 'sysret') {
    const ret = text('Ret');
    if (!HEX.test(ret)) throw inputError(where('Ret'), 'a hex register value "0x…"', ret);
    // RAX as an unsigned 64-bit number: a failed call's -errno prints as 0xffff…
    return { kind: 'sysret', tid, method, returnValue: BigInt.asIntN(64, BigInt(ret)) };
  }
  const type = field('Type');
  if (type === undefined) {
    const module = field('Module');
    const windows =
      (typeof module === 'string' && WINDOWS_MODULES.has(module)) ||
      field('PreviousMode') !== undefined ||
      /^Nt[A-Z]/.test(method);
    if (windows) {
      throw inputError(
        where('Module'),
        'a Linux record: Windows system calls have no stable numbers, and vmsight models only numbered Linux ABIs',
        `${String(module)} ${method}`,
      );
    }
    need('Type');
  }
  if (type !== 'x64' && type !== 'x32') throw inputError(where('Type'), '"x64" or "x32"', type);
  const stamp = TIMESTAMP.exec(text('TimeStamp'));
  if (stamp === null) {
    throw inputError(where('TimeStamp'), '"SECONDS.MICROSECONDS"', field('TimeStamp'));
  }
  const vcpu = field('vCPU');
  return {
    kind: 'syscall',
    time: BigInt(stamp[1] as string) * 1_000_000_000n + BigInt(stamp[2] as string) * 1000n,
    tgid: integer('PID', 0x7fff_ffff),
    tid,
    processName: optionalText('ProcessName'),
    threadName: optionalText('ThreadName'),
    method,
    vcpu: vcpu === undefined ? null : integer('vCPU', 0xffff, vcpu),
    // "Syscall" is not used: it is the x86-64 table index even for x32 (ia32) calls.
    abi: type === 'x64' ? 'x86-64' : 'i386',
  };
}
