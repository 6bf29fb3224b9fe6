import type { IoAccess } from './io-window.js';
import type { EscapeRule } from './rule.js';

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
