import { VmsightError } from '../core/index.js';

/** One register of the `g` packet: name and size in bits, in packet order. */
export interface GdbRegister {
  readonly name: string;
  readonly bits: number;
}

const r = (name: string, bits: number): GdbRegister => ({ name, bits });
const names = (prefix: string, count: number, bits: number): GdbRegister[] =>
  Array.from({ length: count }, (_, i) => r(`${prefix}${i}`, bits));

/**
 * QEMU's x86-64 `g` packet layout: the order and sizes of `i386-64bit.xml` as QEMU 7.2 serves it
 * over `qXfer:features:read` (feature org.gnu.gdb.i386.core, then the system registers QEMU adds:
 * fs_base, gs_base, k_gs_base, cr0, cr2, cr3, cr4, cr8, efer; ss/ds/es bases are commented out in
 * QEMU's copy), 608 bytes in all. The integration test checks this table against the live stub.
 */
export const X86_64_QEMU_REGISTERS: readonly GdbRegister[] = [
  ...['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp'].map((name) => r(name, 64)),
  ...Array.from({ length: 8 }, (_, i) => r(`r${i + 8}`, 64)),
  r('rip', 64),
  r('eflags', 32),
  ...['cs', 'ss', 'ds', 'es', 'fs', 'gs'].map((name) => r(name, 32)),
  ...['fs_base', 'gs_base', 'k_gs_base', 'cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer'].map((name) =>
    r(name, 64),
  ),
  ...names('st', 8, 80),
  ...['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop'].map((name) =>
    r(name, 32),
  ),
  ...names('xmm', 16, 128),
  r('mxcsr', 32),
];

/** Registers decoded from a `g` reply; 80- and 128-bit ones (st*, xmm*) are left as bytes. */
export interface X86Registers {
  readonly values: ReadonlyMap<string, bigint>;
  readonly raw: Uint8Array;
  /** Shortcuts for what vmsight uses most. */
  readonly rip: bigint;
  readonly rsp: bigint;
  readonly cr3: bigint;
  readonly cr4: bigint;
  readonly gsBase: bigint;
  readonly kernelGsBase: bigint;
}

/** Register number of `rip` for the `p` packet (index in the layout above). */
export const RIP_REGISTER_NUMBER = 16;

/** Decodes a little-endian hex value of a register (`xx` = unavailable, read as 0). */
export function decodeRegisterHex(text: string): bigint {
  let value = 0n;
  for (let i = text.length - 2; i >= 0; i -= 2) {
    const byte = text.slice(i, i + 2);
    value = (value << 8n) | BigInt(byte === 'xx' ? 0 : Number.parseInt(byte, 16));
  }
  return value;
}

/**
 * Decodes a `g` reply (hex, target byte order) with a register table. A reply shorter than the
 * table is `TRUNCATED_INPUT`, non-hex is `INVALID_INPUT`: a stub that lies about registers must not
 * give us half-decoded values.
 *
 * @example
 * ```ts
 * import { decodeGdbRegisters } from './gdb-registers.js';
 * declare const reply: string; // 1,216 hex digits from QEMU 7.2
 * decodeGdbRegisters(reply).cr3; // e.g. 0x2a10000n
 * ```
 */
export function decodeGdbRegisters(
  text: string,
  layout: readonly GdbRegister[] = X86_64_QEMU_REGISTERS,
): X86Registers {
  if (!/^([0-9a-fA-F]{2}|xx)*$/.test(text)) {
    throw new VmsightError(
      'INVALID_INPUT',
      `GDB register reply is not hex: "${text.slice(0, 40)}"`,
    );
  }
  const needed = layout.reduce((sum, reg) => sum + reg.bits / 4, 0);
  if (text.length < needed) {
    throw new VmsightError(
      'TRUNCATED_INPUT',
      `GDB register reply holds ${text.length / 2} bytes: the x86-64 layout needs ${needed / 2}`,
    );
  }
  const values = new Map<string, bigint>();
  let at = 0;
  for (const reg of layout) {
    const digits = reg.bits / 4;
    if (reg.bits <= 64) values.set(reg.name, decodeRegisterHex(text.slice(at, at + digits)));
    at += digits;
  }
  const get = (name: string): bigint => values.get(name) ?? 0n;
  return {
    values,
    raw: Buffer.from(text.replaceAll('xx', '00'), 'hex'),
    rip: get('rip'),
    rsp: get('rsp'),
    cr3: get('cr3'),
    cr4: get('cr4'),
    gsBase: get('gs_base'),
    kernelGsBase: get('k_gs_base'),
  };
}

/**
 * Register names and sizes from a target description (`<reg name=… bitsize=…/>` in document order,
 * skipping commented-out ones), to check {@link X86_64_QEMU_REGISTERS} against a live stub.
 */
export function parseTargetXmlRegisters(xml: string): GdbRegister[] {
  const withoutComments = xml.replace(/<!--[\s\S]*?-->/g, '');
  return [...withoutComments.matchAll(/<reg\s+name="([^"]+)"\s+bitsize="(\d+)"/g)].map((m) =>
    r(m[1] ?? '', Number(m[2])),
  );
}
