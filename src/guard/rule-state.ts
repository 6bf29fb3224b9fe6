import type { IoAccess } from './io-window.js';

/** Per-VM, per-rule state: small integers only, so that it digests into a cache key. */
export interface RuleState {
  count: number;
  step: number;
  startedAt: number;
  deviceAccesses: number;
  fired: boolean;
  readonly index: Map<number, number>;
  readonly registers: Map<number, number>;
  evidence: IoAccess[];
}

export function freshState(): RuleState {
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

/** A short text that is equal for equal rule states (the cache key's first half). */
export function digestRuleStates(states: readonly RuleState[]): string {
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
