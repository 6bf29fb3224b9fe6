/**
 * The escape rule language (docs: src/guard/rules/README.md). A rule file is data: it names the
 * CVE, the device, the QEMU sources and fixes its facts were checked against, and one matcher.
 * These are the compiled, validated shapes the matcher runs; `rule-loader.ts` builds them from YAML.
 */

/** What the guard does when a rule matches. `pass` rules describe benign-known traffic. */
export const RuleAction = { BLOCK: 'block', ALERT: 'alert', PASS: 'pass' } as const;
export type RuleAction = (typeof RuleAction)[keyof typeof RuleAction];

export const Severity = {
  INFO: 'info',
  LOW: 'low',
  MEDIUM: 'medium',
  HIGH: 'high',
  CRITICAL: 'critical',
} as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/** Address space of an access: x86 port I/O or memory-mapped I/O. */
export const IoSpace = { PORT: 'port', MMIO: 'mmio' } as const;
export type IoSpace = (typeof IoSpace)[keyof typeof IoSpace];

/** A predicate over a register value: `(value & mask)` then compared. All present parts must hold. */
export interface ValueCondition {
  readonly mask?: number;
  readonly eq?: number;
  readonly ne?: number;
  readonly min?: number;
  readonly max?: number;
  readonly in?: readonly number[];
}

/**
 * One register access of the device, by offset from the device base. `index` makes it an indexed
 * register (VGA GR, VBE DISPI): the access only counts while the last value written to the index
 * register satisfies the condition.
 */
export interface AccessPattern {
  readonly offset: number;
  readonly direction: 'read' | 'write' | 'any';
  readonly value?: ValueCondition;
  readonly index?: {
    readonly offset: number;
    readonly value: ValueCondition;
    /** A 16-bit write to the index port carries the index in its low byte and data in its high byte (VGA `outw 0x3ce`). */
    readonly splitWord?: boolean;
  };
}

/** Runs of one access without an expected other access in between (FIFO overruns). */
export interface RunMatcher {
  readonly kind: 'run';
  readonly count: AccessPattern;
  readonly reset: readonly AccessPattern[];
  readonly atLeast: number;
}

/** Ordered register accesses, each later step within `within` device accesses of the first. */
export interface SequenceMatcher {
  readonly kind: 'sequence';
  readonly steps: readonly AccessPattern[];
  readonly within: number;
}

/** Any access at all to the device (a device this VM should not be using). */
export interface PresenceMatcher {
  readonly kind: 'presence';
  readonly accesses: readonly AccessPattern[];
}

/** A field of guest memory read at a device kick. */
export interface MemoryField {
  readonly at: number;
  readonly width: 1 | 2 | 4 | 8;
  readonly value: ValueCondition;
}

/**
 * At a kick (doorbell) access, read `length` bytes of guest memory at the address last written to
 * register `addressFrom` (plus `addressFrom2` as the high 32 bits, when given) and test fields.
 * `overlapsMmio` tests the little-endian u64 at that field against the VM's device MMIO windows.
 */
export interface MemoryMatcher {
  readonly kind: 'memory';
  readonly kick: AccessPattern;
  readonly addressFrom: number;
  readonly addressFromHigh?: number;
  /** Queue entry addressing: add `(kick value - minus) * stride` (NVMe SQ tail doorbells). */
  readonly entry?: { readonly stride: number; readonly minus: number };
  /** Pointer hops before the final read: `address = u32le(address + at) & mask` (EHCI QH -> qTD -> buffer). */
  readonly follow: readonly {
    readonly at: number;
    readonly mask: number;
    readonly stopBit?: number;
    /**
     * Where to read the pointer instead when the one at `at` is terminated (`stopBit` set): the
     * device may already have consumed the list and kept its place elsewhere (the EHCI QH's
     * current-qTD pointer at +0x0c once the overlay advanced, EHCI spec 3.6 / hw/usb/hcd-ehci.c).
     */
    readonly fallbackAt?: number;
  }[];
  readonly length: number;
  readonly all: readonly MemoryField[];
  readonly overlapsMmio?: { readonly at: number };
}

export type Matcher = RunMatcher | SequenceMatcher | PresenceMatcher | MemoryMatcher;

/** Where a rule's facts come from. */
export interface SourceCheck {
  readonly file: string;
  readonly fix?: string;
  readonly facts: string;
}

export interface EscapeRule {
  readonly id: string;
  readonly title: string;
  readonly cves: readonly string[];
  readonly device: string;
  readonly severity: Severity;
  readonly action: RuleAction;
  readonly space: IoSpace;
  /** Device base (port number, or MMIO BAR address) unless the VM binding overrides it. */
  readonly base: number;
  /** Size of the device's register window from `base`. */
  readonly span: number;
  readonly checkedAgainst: readonly SourceCheck[];
  readonly benignTested: readonly string[];
  /** The real-guest test that performs the trigger and asserts the block, and how. */
  readonly realTrigger?: string;
  readonly match: Matcher;
  /** The file the rule came from, for messages. */
  readonly file: string;
}

/** True when `value` satisfies `condition`. */
export function valueMatches(condition: ValueCondition, raw: number): boolean {
  const value = condition.mask === undefined ? raw : (raw & condition.mask) >>> 0;
  if (condition.eq !== undefined && value !== condition.eq) return false;
  if (condition.ne !== undefined && value === condition.ne) return false;
  if (condition.min !== undefined && value < condition.min) return false;
  if (condition.max !== undefined && value > condition.max) return false;
  if (condition.in !== undefined && !condition.in.includes(value)) return false;
  return true;
}
