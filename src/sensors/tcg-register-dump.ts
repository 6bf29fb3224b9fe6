/**
 * One x86-64 register dump of QEMU's `cpu` log, read line by line into the registers vmsight
 * needs. The values are guest-controlled: a line that lost its columns marks the dump bad rather
 * than being trusted.
 */
import { ascii, hasAt, hex64At, isUpperLetter } from './ascii-bytes.js';
import { isLinkingLine, isTraceLine } from './tcg-log-lines.js';
import type { TcgExecRecord } from './tcg-log-record.js';

const EQUALS = 0x3d;
const UPPER_R = 0x52;

/** `EFER=` is the last line of a non-FPU x86-64 dump in QEMU 7.2. */
const EFER = ascii('EFER=');

/**
 * The register lines read, with their labels at fixed columns: target/i386/cpu-dump.c
 * x86_cpu_dump_state (64-bit mode, QEMU 7.2) prints `NAME=` then `%016" PRIx64` and a space, so
 * the n-th register of a line starts at column 21·n and its value at 21·n + 4. Only the lines with
 * the syscall number (RAX), the arguments (RDI RSI RDX R10 R8 R9) and CR3 are decoded; the
 * other 17 lines of each dump are skipped by their first bytes.
 */
const RAX_LINE = [ascii('RAX='), ascii(' RBX='), ascii(' RCX='), ascii(' RDX=')];
const RSI_LINE = [ascii('RSI='), ascii(' RDI=')];
const R8_LINE = [ascii('R8 ='), ascii(' R9 ='), ascii(' R10=')];
/** `CR0=%08x CR2=%016… CR3=%016…`: CR0 is 32-bit, so CR3's value starts at column 38. */
const CR_LINE = [ascii('CR0='), ascii(' CR2='), ascii(' CR3=')];
const REGISTER_COLUMN = 21;
const CR2_LABEL_COLUMN = 12;
const CR3_LABEL_COLUMN = 33;
const CR3_VALUE_COLUMN = 38;

/** Lines of an x86 `cpu` dump start with a register name and `=` within the first five columns. */
export function isDumpLine(bytes: Buffer, start: number, end: number): boolean {
  if (end - start < 4) return false;
  if (!isUpperLetter(bytes[start] as number)) return false;
  if (isTraceLine(bytes, start, end) || isLinkingLine(bytes, start, end)) return false;
  for (let i = 1; i <= 5 && start + i < end; i += 1) {
    if (bytes[start + i] === EQUALS) return true;
  }
  return false;
}

/** Whether a dump line is the dump's last (`EFER=`). */
export function isLastDumpLine(bytes: Buffer, start: number, end: number): boolean {
  return hasAt(bytes, start, end, EFER);
}

/** The dump that follows one `Trace N:` line, filled in as its lines arrive. */
export class RegisterDump {
  readonly vcpu: number;
  readonly pc: bigint;
  #rax: bigint | undefined;
  #rdx: bigint | undefined;
  #rsi: bigint | undefined;
  #rdi: bigint | undefined;
  #r8: bigint | undefined;
  #r9: bigint | undefined;
  #r10: bigint | undefined;
  #cr3: bigint | undefined;
  /** A needed line was cut or garbled: the dump yields no record. */
  #bad = false;

  constructor(vcpu: number, pc: bigint) {
    this.vcpu = vcpu;
    this.pc = pc;
  }

  /** Reads the registers a dump line carries (one that {@link isDumpLine} accepted). */
  collect(bytes: Buffer, start: number, end: number): void {
    if (bytes[start] === UPPER_R) {
      if (hasLabels(bytes, start, end, RAX_LINE)) {
        this.#rax = hex64At(bytes, start + 4, end);
        this.#rdx = hex64At(bytes, start + 3 * REGISTER_COLUMN + 4, end);
        if (this.#rax === undefined || this.#rdx === undefined) this.#bad = true;
        return;
      }
      if (hasLabels(bytes, start, end, RSI_LINE)) {
        this.#rsi = hex64At(bytes, start + 4, end);
        this.#rdi = hex64At(bytes, start + REGISTER_COLUMN + 4, end);
        if (this.#rsi === undefined || this.#rdi === undefined) this.#bad = true;
        return;
      }
      if (hasLabels(bytes, start, end, R8_LINE)) {
        this.#r8 = hex64At(bytes, start + 4, end);
        this.#r9 = hex64At(bytes, start + REGISTER_COLUMN + 4, end);
        this.#r10 = hex64At(bytes, start + 2 * REGISTER_COLUMN + 4, end);
        if (this.#r8 === undefined || this.#r9 === undefined || this.#r10 === undefined) {
          this.#bad = true;
        }
        return;
      }
      // A line that starts like a needed one but lost its columns (a cut or garbled dump).
      if (isNeededRegisterLine(bytes, start, end)) this.#bad = true;
      return;
    }
    if (hasAt(bytes, start, end, CR_LINE[0] as Uint8Array)) {
      const labels =
        hasAt(bytes, start + CR2_LABEL_COLUMN, end, CR_LINE[1] as Uint8Array) &&
        hasAt(bytes, start + CR3_LABEL_COLUMN, end, CR_LINE[2] as Uint8Array);
      this.#cr3 = labels ? hex64At(bytes, start + CR3_VALUE_COLUMN, end) : undefined;
      if (this.#cr3 === undefined) this.#bad = true;
    }
  }

  /** The exec record, or undefined when a needed register is missing or was malformed. */
  record(): TcgExecRecord | undefined {
    if (this.#bad) return undefined;
    const rax = this.#rax;
    const rdi = this.#rdi;
    const rsi = this.#rsi;
    const rdx = this.#rdx;
    const r10 = this.#r10;
    const r8 = this.#r8;
    const r9 = this.#r9;
    const cr3 = this.#cr3;
    if (
      rax === undefined ||
      rdi === undefined ||
      rsi === undefined ||
      rdx === undefined ||
      r10 === undefined ||
      r8 === undefined ||
      r9 === undefined ||
      cr3 === undefined
    ) {
      return undefined;
    }
    return {
      kind: 'exec',
      vcpu: this.vcpu,
      pc: this.pc,
      registers: { rax, rdi, rsi, rdx, r10, r8, r9, cr3 },
    };
  }
}

/** Whether the line has each label at its fixed column (0, 20, 41, … for ` NAME=` labels). */
function hasLabels(bytes: Buffer, start: number, end: number, labels: Uint8Array[]): boolean {
  for (let i = 0; i < labels.length; i += 1) {
    const column = i === 0 ? 0 : i * REGISTER_COLUMN - 1;
    if (!hasAt(bytes, start + column, end, labels[i] as Uint8Array)) return false;
  }
  return true;
}

/** `R` lines the parser reads: `RAX=`, `RSI=`, `R8 =`. */
function isNeededRegisterLine(bytes: Buffer, start: number, end: number): boolean {
  return (
    hasAt(bytes, start, end, RAX_LINE[0] as Uint8Array) ||
    hasAt(bytes, start, end, RSI_LINE[0] as Uint8Array) ||
    hasAt(bytes, start, end, R8_LINE[0] as Uint8Array)
  );
}
