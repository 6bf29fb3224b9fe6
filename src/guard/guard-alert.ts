import type { IoAccess } from './io-window.js';
import type { Severity } from './rule.js';

/** An escape alert: which VM, which rule and CVEs, and the accesses that matched. */
export interface GuardAlert {
  readonly vm: string;
  readonly action: 'block' | 'alert';
  readonly ruleId: string;
  readonly cves: readonly string[];
  readonly severity: Severity;
  readonly device: string;
  readonly events: readonly IoAccess[];
  /** Set when the VM was paused: host nanoseconds from the triggering access to QMP `stop` returning. */
  readonly triggerToStoppedMs?: number;
  readonly paused: boolean;
  readonly pauseError?: string;
}

/** Pauses a VM (QMP `stop`); resuming is an operator's decision, never the guard's. */
export interface VmController {
  pause(vm: string): Promise<void>;
}

/**
 * Evidence acquisition on block (memory dump, trace window). The evidence store is built
 * separately; the guard only calls this hook.
 */
export interface EvidenceHook {
  acquire(alert: GuardAlert): Promise<void>;
}

/** Where alerts go (log, alert bus, test collector). */
export type AlertSink = (alert: GuardAlert) => void;
