/**
 * Lines captured from QEMU 7.2.22 (`-dfilter <entry_SYSCALL_64>+1,<__switch_to>+1`, HMP `log cpu,exec`,
 * `-msg timestamp=on`, `memory_region_ops_*` on) running the 6.1.0-56 lab guest, for parser tests.
 */

/** What differs between two captured x86-64 `cpu` dumps; the rest of each dump was the same. */
interface CapturedDump {
  /** Host address of the translated block (`Trace 0: 0x…`). */
  readonly hostTb: string;
  /** Guest pc of the block, also printed as RIP. */
  readonly pc: string;
  /** RAX RBX RCX RDX / RSI RDI RBP RSP / R8 R9 R10 R11 / R12 R13 R14 R15, one line of four each. */
  readonly gprs: readonly [string, string, string, string];
  /** `RFL=` value and its flag letters. */
  readonly rfl: string;
  /** The fourth (attribute) field of the CS and SS lines. */
  readonly csFlags: string;
  readonly ssFlags: string;
  readonly fsBase: string;
  readonly gsBase: string;
  readonly cr2: string;
  /** Condition-code operation (`CCO=`). */
  readonly cco: string;
}

const GPR_NAMES = [
  ['RAX', 'RBX', 'RCX', 'RDX'],
  ['RSI', 'RDI', 'RBP', 'RSP'],
  ['R8 ', 'R9 ', 'R10', 'R11'],
  ['R12', 'R13', 'R14', 'R15'],
] as const;

/**
 * One dump as target/i386/cpu-dump.c x86_cpu_dump_state prints it in 64-bit mode, after its
 * `Trace` line (accel/tcg/cpu-exec.c log_cpu_exec), trailing spaces included.
 */
function capturedDump(dump: CapturedDump): string {
  const gprLines = GPR_NAMES.map((names, line) => {
    const values = (dump.gprs[line] as string).split(' ');
    return names.map((name, i) => `${name}=${values[i]}`).join(' ');
  });
  return `
Trace 0: 0x${dump.hostTb} [0000000000000000/${dump.pc}/18c0c2b0/ff000000] 
${gprLines.join('\n')}
RIP=${dump.pc} RFL=${dump.rfl} CPL=0 II=0 A20=1 SMM=0 HLT=0
ES =0000 0000000000000000 00000000 00000000
CS =0010 0000000000000000 ffffffff ${dump.csFlags} DPL=0 CS64 [-RA]
SS =0018 0000000000000000 ffffffff ${dump.ssFlags} DPL=0 DS   [-WA]
DS =0000 0000000000000000 00000000 00000000
FS =0000 ${dump.fsBase} 00000000 00000000
GS =0000 ${dump.gsBase} 00000000 00000000
LDT=0000 0000000000000000 00000000 00008200 DPL=0 LDT
TR =0040 fffffe0000003000 00004087 00008900 DPL=0 TSS64-avl
GDT=     fffffe0000001000 0000007f
IDT=     fffffe0000000000 00000fff
CR0=80050033 CR2=${dump.cr2} CR3=0000000006418000 CR4=00750ef0
DR0=0000000000000000 DR1=0000000000000000 DR2=0000000000000000 DR3=0000000000000000 
DR6=00000000ffff0ff0 DR7=0000000000000400
CCS=0000000000000000 CCD=0000000000000000 CCO=${dump.cco}
EFER=0000000000000d01
`;
}

export const SWITCH_TO_DUMP = capturedDump({
  hostTb: '7fe15cd86a40',
  pc: 'ffffffff81031080',
  gprs: [
    '0000000000000000 ffff88800f831c40 0000000000000000 00000000dd22f832',
    'ffff888005172100 ffffffff82a1aa40 ffffc900000e3e30 ffffc900000e3de0',
    '0000000000000000 0000000000000000 0000000000000000 0000000000000000',
    'ffff88800604a100 ffff888005172100 ffffffff82415590 ffff888005172bc8',
  ],
  rfl: '00000046 [---Z-P-]',
  csFlags: '00af9b00',
  ssFlags: '00cf9300',
  fsBase: '0000000000000000',
  gsBase: 'ffff88800f800000',
  cr2: '00000000005794a9',
  cco: 'DECQ',
});

export const SYSCALL_DUMP = capturedDump({
  hostTb: '7fe15e0377c0',
  pc: 'ffffffff81c00080',
  gprs: [
    '00000000000000e7 00000000005e4710 0000000000461189 000000000000003c',
    '00000000000000e7 0000000000000000 00000000005e4710 00007ffe4ac17ce8',
    'ffffffffffffffe0 0000000000000000 00007ffe4ac17d28 0000000000000246',
    '0000000000000001 0000000000000000 00000000005e3cc0 00000000005e51a0',
  ],
  rfl: '00000002 [-------]',
  csFlags: '00a09b00',
  ssFlags: '00c09300',
  fsBase: '00000000101053c0',
  gsBase: '0000000000000000',
  cr2: '000000000042ee70',
  cco: 'EFLAGS',
});

export const OTHER_LINES = `
Linking TBs 0x7fe15e1cd900 index 1 -> 0x7fe15e1cdc40
Linking TBs 0x7fe15e1cddc0 index 0 -> 0x7fe15eea5780
8694@1795317714.519617:memory_region_ops_write cpu 0 mr 0x55752405b4a0 addr 0xfee000b0 value 0x0 size 4 name 'apic-msi'
8694@1795317714.519795:memory_region_ops_write cpu 0 mr 0x55752405b4a0 addr 0xfee00380 value 0x312c46a size 4 name 'apic-msi'
`;
