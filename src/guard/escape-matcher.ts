import { accessMatches, isIndexOffset } from './access-pattern-match.js';
import { IO_STRIDE, IoKind, decodeAccess } from './io-window.js';
import { memoryMatches, type MemoryProbe, type MmioWindow } from './memory-predicate.js';
import type { AccessPattern, EscapeRule } from './rule.js';
import { RuleDispatch, type DeviceBindings, type Slot } from './rule-dispatch.js';
import { MAX_HIT_EVENTS, type RuleHit } from './rule-hit.js';
import { digestRuleStates, freshState, type RuleState } from './rule-state.js';

/**
 * The per-VM state machines of the compiled rules ({@link RuleDispatch}), run over windows of
 * accesses. Deterministic: the same state and the same window give the same hits and the same
 * next state, which is what lets the verdict cache skip matching.
 */
export class EscapeMatcher {
  readonly rules: readonly EscapeRule[];
  readonly #dispatch: RuleDispatch;
  readonly #states = new Map<string, RuleState[]>();
  readonly #probe: MemoryProbe | undefined;

  constructor(
    rules: readonly EscapeRule[],
    options: {
      bindings?: DeviceBindings;
      probe?: MemoryProbe;
      mmioWindows?: readonly MmioWindow[];
    } = {},
  ) {
    this.rules = rules;
    this.#probe = options.probe;
    this.#dispatch = new RuleDispatch(rules, options.bindings, options.mmioWindows);
  }

  /** True when the value of an access at this address can change some rule's outcome. */
  valueMatters(kind: number, address: number): boolean {
    return this.#dispatch.valueMatters(kind, address);
  }

  /** True when a pass rule covers the access: used for the benign-known check. */
  isBenignKnown(kind: number, address: number): boolean {
    for (const slot of this.#dispatch.slotsFor(kind, address))
      if (slot.rule.action === 'pass') return true;
    return false;
  }

  /** A short text that is equal for equal per-VM states (the cache key's first half). */
  stateDigest(vm: string): string {
    const states = this.#states.get(vm);
    return states === undefined ? '' : digestRuleStates(states);
  }

  /** Forgets a VM's state (it was reset or removed). */
  forget(vm: string): void {
    this.#states.delete(vm);
  }

  /** Runs every rule over the window and returns the hits in order of their trigger access. */
  scan(vm: string, io: Float64Array, times?: BigInt64Array): RuleHit[] {
    let states = this.#states.get(vm);
    if (states === undefined) {
      states = this.rules.map(freshState);
      this.#states.set(vm, states);
    }
    const hits: RuleHit[] = [];
    const count = io.length / IO_STRIDE;
    for (let i = 0; i < count; i += 1) {
      const at = i * IO_STRIDE;
      const kind = io[at] as number;
      const address = io[at + 1] as number;
      const slots = this.#dispatch.slotsFor(kind, address);
      if (slots.length === 0) continue;
      const write = kind === IoKind.PORT_WRITE || kind === IoKind.MMIO_WRITE;
      const value = io[at + 2] as number;
      const size = io[at + 3] as number;
      for (const slot of slots) {
        if (slot.rule.action === 'pass') continue;
        const state = states[slot.ruleIndex] as RuleState;
        const offset = address - slot.base;
        // A 16-bit write to an index register is "index in the low byte, data in the high byte"
        // (outw 0x3ce / outw 0x1ce); the data half is a write to the next port.
        const indexKind = isIndexOffset(slot.rule, offset);
        if (write && size === 2 && slot.rule.space === 'port' && indexKind === 'split') {
          state.index.set(offset, value & 0xff);
          this.#step(vm, slot, state, offset + 1, true, (value >>> 8) & 0xff, i, io, times, hits);
          continue;
        }
        if (write && indexKind !== false) state.index.set(offset, value);
        this.#step(vm, slot, state, offset, write, value, i, io, times, hits);
      }
    }
    return hits;
  }

  #step(
    vm: string,
    slot: Slot,
    state: RuleState,
    offset: number,
    write: boolean,
    value: number,
    index: number,
    io: Float64Array,
    times: BigInt64Array | undefined,
    hits: RuleHit[],
  ): void {
    const { rule } = slot;
    const match = rule.match;
    state.deviceAccesses += 1;
    const matches = (pattern: AccessPattern): boolean =>
      accessMatches(pattern, state.index, offset, write, value);
    const hit = (): void => {
      const trigger = decodeAccess(io, times, index);
      const events = [...state.evidence, trigger].slice(-MAX_HIT_EVENTS);
      hits.push({
        ruleId: rule.id,
        cves: rule.cves,
        action: rule.action,
        severity: rule.severity,
        device: rule.device,
        triggerIndex: index,
        events,
      });
      state.evidence = [];
    };
    switch (match.kind) {
      case 'run':
        if (match.reset.some(matches)) {
          state.count = 0;
          state.fired = false;
          state.evidence = [];
        } else if (matches(match.count)) {
          if (state.count < 2) state.evidence.push(decodeAccess(io, times, index));
          state.count += 1;
          if (state.count >= match.atLeast && !state.fired) {
            state.fired = true;
            hit();
          }
        }
        return;
      case 'sequence': {
        if (state.step > 0 && state.deviceAccesses - state.startedAt > match.within) {
          state.step = 0;
          state.evidence = [];
        }
        const expected = match.steps[state.step] as AccessPattern;
        if (matches(expected)) {
          if (state.step === 0) state.startedAt = state.deviceAccesses;
          state.step += 1;
          if (state.step === match.steps.length) {
            state.step = 0;
            hit();
          } else if (state.evidence.length < MAX_HIT_EVENTS - 1) {
            state.evidence.push(decodeAccess(io, times, index));
          }
        } else if (state.step > 0 && matches(match.steps[0] as AccessPattern)) {
          state.step = 1;
          state.startedAt = state.deviceAccesses;
          state.evidence = [decodeAccess(io, times, index)];
        }
        return;
      }
      case 'presence':
        if (!state.fired && match.accesses.some(matches)) {
          state.fired = true;
          hit();
        }
        return;
      case 'memory':
        if (write && (offset === match.addressFrom || offset === match.addressFromHigh))
          state.registers.set(offset, value);
        if (
          matches(match.kick) &&
          memoryMatches(this.#probe, this.#dispatch.mmioWindows, vm, match, state.registers, value)
        )
          hit();
        return;
    }
  }
}
