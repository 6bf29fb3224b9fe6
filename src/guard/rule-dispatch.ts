import { patternsOf } from './access-pattern-match.js';
import { IoKind } from './io-window.js';
import type { MmioWindow } from './memory-predicate.js';
import type { EscapeRule } from './rule.js';

/** Where a device sits for one VM: overrides of the rule's default base by device name. */
export type DeviceBindings = Readonly<Record<string, number>>;

/** One rule placed at its device's base for this VM. */
export interface Slot {
  readonly rule: EscapeRule;
  readonly ruleIndex: number;
  readonly base: number;
}

const NONE: readonly Slot[] = [];

function key(space: 'port' | 'mmio', address: number): number {
  // Ports are < 2^16; MMIO addresses are stored negated so the two spaces never collide.
  return space === 'port' ? address : -address - 1;
}

/**
 * The rules compiled into per-port and per-MMIO-range dispatch tables, with the registers whose
 * values some rule inspects (the window signature keeps only those values).
 */
export class RuleDispatch {
  readonly #portSlots: (Slot[] | undefined)[] = new Array<Slot[] | undefined>(0x10000);
  readonly #mmioSlots: Slot[] = [];
  /** Port and MMIO addresses whose value (or index) some rule inspects; others normalise to 0. */
  readonly #valueAddresses = new Set<number>();
  /** The VM's MMIO windows and every rule's MMIO register window, for `overlapsMmio`. */
  readonly mmioWindows: readonly MmioWindow[];

  constructor(
    rules: readonly EscapeRule[],
    bindings: DeviceBindings | undefined,
    mmioWindows: readonly MmioWindow[] | undefined,
  ) {
    rules.forEach((rule, ruleIndex) => {
      const base = bindings?.[rule.device] ?? rule.base;
      const slot: Slot = { rule, ruleIndex, base };
      if (rule.space === 'port') {
        for (let port = base; port < Math.min(base + rule.span, 0x10000); port += 1) {
          (this.#portSlots[port] ??= []).push(slot);
        }
      } else {
        this.#mmioSlots.push(slot);
      }
      for (const pattern of patternsOf(rule)) {
        if (pattern.value !== undefined || rule.match.kind === 'run')
          this.#valueAddresses.add(key(rule.space, base + pattern.offset));
        if (pattern.index !== undefined)
          this.#valueAddresses.add(key(rule.space, base + pattern.index.offset));
      }
      if (rule.match.kind === 'memory') {
        this.#valueAddresses.add(key(rule.space, base + rule.match.addressFrom));
        if (rule.match.addressFromHigh !== undefined)
          this.#valueAddresses.add(key(rule.space, base + rule.match.addressFromHigh));
      }
    });
    this.mmioWindows = [
      ...(mmioWindows ?? []),
      ...this.#mmioSlots.map((slot) => ({ base: slot.base, size: slot.rule.span })),
    ];
  }

  /** True when the value of an access at this address can change some rule's outcome. */
  valueMatters(kind: number, address: number): boolean {
    return this.#valueAddresses.has(key(kind >= IoKind.MMIO_READ ? 'mmio' : 'port', address));
  }

  /** The rules whose register window covers the access. */
  slotsFor(kind: number, address: number): readonly Slot[] {
    if (kind < IoKind.MMIO_READ) return this.#portSlots[address] ?? NONE;
    let found: Slot[] | undefined;
    for (const slot of this.#mmioSlots) {
      if (address >= slot.base && address < slot.base + slot.rule.span) (found ??= []).push(slot);
    }
    return found ?? NONE;
  }
}
