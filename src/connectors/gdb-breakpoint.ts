/** `Z0`/`z0` software (int3) or `Z1`/`z1` hardware execution breakpoints. */
export type BreakpointType = 'software' | 'hardware';

export interface Breakpoint {
  readonly type: BreakpointType;
  readonly address: bigint;
  /** Breakpoint kind: the instruction length for software ones, 1 for hardware execution ones. */
  readonly kind: number;
}

const BREAKPOINT_CODE: Readonly<Record<BreakpointType, string>> = { software: '0', hardware: '1' };

/** `Z type,addr,kind` inserts, `z type,addr,kind` removes (GDB remote protocol, "z/Z packets"). */
export function breakpointPacket(packet: 'z' | 'Z', bp: Breakpoint): string {
  return `${packet}${BREAKPOINT_CODE[bp.type]},${bp.address.toString(16)},${bp.kind}`;
}
