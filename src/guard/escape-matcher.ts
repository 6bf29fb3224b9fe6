import { IO_STRIDE, IoKind, decodeAccess, type IoAccess } from './io-window.js';
import { valueMatches, type AccessPattern, type EscapeRule, type MemoryMatcher } from './rule.js';

/** Guest memory the matcher may read at a device kick (a few bytes, VMI or a captured sample). */
export type MemoryProbe = (vm: string, address: number, length: number) => Uint8Array | undefined;

/** A rule that matched, with the accesses that made up the match (at most {@link MAX_HIT_EVENTS}). */
export interface RuleHit {
  readonly ruleId: string;
  readonly cves: readonly string[];
  readonly action: EscapeRule['action'];
  readonly severity: EscapeRule['severity'];
  readonly device: string;
  /** Index within the scanned window of the access that completed the match. */
  readonly triggerIndex: number;
  readonly events: readonly IoAccess[];
}

export const MAX_HIT_EVENTS = 8;

/** Where a device sits for one VM: overrides of the rule's default base by device name. */
export type DeviceBindings = Readonly<Record<string, number>>;

interface Slot {
  readonly rule: EscapeRule;
  readonly ruleIndex: number;
  readonly base: number;
}

/** Per-VM, per-rule state: small integers only, so that it digests into a cache key. */
interface RuleState {
  count: number;
  step: number;
  startedAt: number;
  deviceAccesses: number;
  fired: boolean;
  readonly index: Map<number, number>;
  readonly registers: Map<number, number>;
  evidence: IoAccess[];
}

function freshState(): RuleState {
  return {
    count: 0,
    step: 0,
    startedAt: 0,
    deviceAccesses: 0,
    fired: false,
    index: new Map(),
    registers: new Map(),
    evidence: [],
  };
}

/**
 * The rules compiled into per-port and per-MMIO-range dispatch tables, and the per-VM state
 * machines that run over windows of accesses. Deterministic: the same state and the same window
 * give the same hits and the same next state, which is what lets the verdict cache skip matching.
 */
export class EscapeMatcher {
  readonly rules: readonly EscapeRule[];
  readonly #portSlots: (Slot[] | undefined)[] = new Array<Slot[] | undefined>(0x10000);
  readonly #mmioSlots: Slot[] = [];
  /** Port and MMIO addresses whose value (or index) some rule inspects; others normalise to 0. */
  readonly #valueAddresses = new Set<number>();
  readonly #states = new Map<string, RuleState[]>();
  readonly #probe: MemoryProbe | undefined;
  readonly #mmioWindows: readonly { base: number; size: number }[];

  constructor(
    rules: readonly EscapeRule[],
    options: {
      bindings?: DeviceBindings;
      probe?: MemoryProbe;
      mmioWindows?: readonly { base: number; size: number }[];
    } = {},
  ) {
    this.rules = rules;
    this.#probe = options.probe;
    rules.forEach((rule, ruleIndex) => {
      const base = options.bindings?.[rule.device] ?? rule.base;
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
    this.#mmioWindows = [
      ...(options.mmioWindows ?? []),
      ...this.#mmioSlots.map((slot) => ({ base: slot.base, size: slot.rule.span })),
    ];
  }

  /** True when the value of an access at this address can change some rule's outcome. */
  valueMatters(kind: number, address: number): boolean {
    return this.#valueAddresses.has(key(kind >= IoKind.MMIO_READ ? 'mmio' : 'port', address));
  }

  /** Indexes of the pass rules covering the access, or none: used for the benign-known check. */
  isBenignKnown(kind: number, address: number): boolean {
    for (const slot of this.#slotsFor(kind, address)) if (slot.rule.action === 'pass') return true;
    return false;
  }

  /** A short text that is equal for equal per-VM states (the cache key's first half). */
  stateDigest(vm: string): string {
    const states = this.#states.get(vm);
    if (states === undefined) return '';
    let digest = '';
    states.forEach((state, i) => {
      if (
        state.count === 0 &&
        state.step === 0 &&
        !state.fired &&
        state.index.size === 0 &&
        state.registers.size === 0
      )
        return;
      digest += `${i}:${state.count},${state.step},${state.step === 0 ? 0 : state.deviceAccesses - state.startedAt},${state.fired ? 1 : 0}`;
      for (const [offset, value] of state.index) digest += `,i${offset}=${value}`;
      for (const [offset, value] of state.registers) digest += `,r${offset}=${value}`;
      digest += ';';
    });
    return digest;
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
      const slots = this.#slotsFor(kind, address);
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

  #slotsFor(kind: number, address: number): readonly Slot[] {
    if (kind < IoKind.MMIO_READ) return this.#portSlots[address] ?? NONE;
    let found: Slot[] | undefined;
    for (const slot of this.#mmioSlots) {
      if (address >= slot.base && address < slot.base + slot.rule.span) (found ??= []).push(slot);
    }
    return found ?? NONE;
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
      accessMatches(pattern, state, offset, write, value);
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
        if (matches(match.kick) && this.#memoryMatches(vm, match, state, value)) hit();
        return;
    }
  }

  #memoryMatches(vm: string, match: MemoryMatcher, state: RuleState, kickValue: number): boolean {
    const low = state.registers.get(match.addressFrom);
    if (low === undefined || this.#probe === undefined) return false;
    const high =
      match.addressFromHigh === undefined ? 0 : (state.registers.get(match.addressFromHigh) ?? 0);
    let address = high * 2 ** 32 + low;
    if (match.entry !== undefined)
      address += Math.max(0, kickValue - match.entry.minus) * match.entry.stride;
    // Each hop is a guest pointer: attacker-controlled, so it is only ever used as a probe address.
    const u32At = (at: number): number | undefined => {
      const bytes = this.#probe?.(vm, at, 4);
      if (bytes === undefined || bytes.length < 4) return undefined;
      return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
    };
    for (const hop of match.follow) {
      let raw = u32At(address + hop.at);
      if (raw === undefined) return false;
      const terminated = (value: number): boolean =>
        hop.stopBit !== undefined && ((value >>> hop.stopBit) & 1) === 1;
      // Terminated: the list is consumed, the device's own place is the last chance; a zero
      // there means it never started (nothing to inspect).
      if (terminated(raw) && hop.fallbackAt !== undefined) {
        const current = u32At(address + hop.fallbackAt);
        if (current === undefined || (current & hop.mask) === 0) return false;
        raw = current;
      } else if (terminated(raw)) return false;
      address = (raw & hop.mask) >>> 0;
    }
    const bytes = this.#probe(vm, address, match.length);
    if (bytes === undefined || bytes.length < match.length) return false;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const field of match.all) {
      const value =
        field.width === 1
          ? view.getUint8(field.at)
          : field.width === 2
            ? view.getUint16(field.at, true)
            : field.width === 4
              ? view.getUint32(field.at, true)
              : Number(view.getBigUint64(field.at, true));
      if (!valueMatches(field.value, value)) return false;
    }
    if (match.overlapsMmio !== undefined) {
      const target = Number(view.getBigUint64(match.overlapsMmio.at, true));
      if (
        !this.#mmioWindows.some(
          (window) => target >= window.base && target < window.base + window.size,
        )
      )
        return false;
    }
    return true;
  }
}

const NONE: readonly Slot[] = [];

function key(space: 'port' | 'mmio', address: number): number {
  // Ports are < 2^16; MMIO addresses are stored negated so the two spaces never collide.
  return space === 'port' ? address : -address - 1;
}

function patternsOf(rule: EscapeRule): AccessPattern[] {
  const match = rule.match;
  switch (match.kind) {
    case 'run':
      return [match.count, ...match.reset];
    case 'sequence':
      return [...match.steps];
    case 'presence':
      return [...match.accesses];
    case 'memory':
      return [match.kick];
  }
}

/** Whether `offset` is an index register of the rule, and whether word writes to it split. */
function isIndexOffset(rule: EscapeRule, offset: number): false | 'split' | 'whole' {
  for (const pattern of patternsOf(rule)) {
    if (pattern.index?.offset === offset)
      return pattern.index.splitWord === true ? 'split' : 'whole';
  }
  return false;
}

function accessMatches(
  pattern: AccessPattern,
  state: RuleState,
  offset: number,
  write: boolean,
  value: number,
): boolean {
  if (pattern.offset !== offset) return false;
  if (pattern.direction === 'write' && !write) return false;
  if (pattern.direction === 'read' && write) return false;
  if (pattern.value !== undefined && !valueMatches(pattern.value, value)) return false;
  if (pattern.index !== undefined) {
    const current = state.index.get(pattern.index.offset);
    if (current === undefined || !valueMatches(pattern.index.value, current)) return false;
  }
  return true;
}
