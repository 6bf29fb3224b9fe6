import type { QmpClient } from '../connectors/index.js';
import { VmsightError } from '../core/index.js';
import { KeyStore } from '../evidence/index.js';
import type { GuestEvent } from '../events/index.js';
import { EscapeGuard, loadRules, queryPciGuardLayout, type GuardAlert } from '../guard/index.js';
import { acquireEvidence, evidencePaths } from './evidence-service.js';

/** An escape verdict of the guard in `vmsight watch`: VM, rule, CVEs, the matching accesses. */
export interface EscapeAlertUpdate extends GuardAlert {
  readonly type: 'escape';
}

/** The evidence acquired (or not) of a VM the guard paused. */
export interface EscapeEvidenceUpdate {
  readonly type: 'evidence';
  readonly vm: string;
  readonly ruleId: string;
  readonly cves: readonly string[];
  readonly reason: string;
  /** The evidence item, when acquisition succeeded. */
  readonly itemId?: string;
  /**
   * Set when no new image was taken: the item `itemId` was acquired after this alert's trigger
   * (a burst of escapes before the pause took effect), so it already holds the VM's state.
   */
  readonly alreadyAcquired?: true;
  readonly imageSha256?: string;
  readonly error?: string;
}

export type WatchGuardUpdate = EscapeAlertUpdate | EscapeEvidenceUpdate;

export interface WatchGuardOptions {
  readonly vm: string;
  /** The VM's QMP connection: `stop` on block, `query-pci` for the rules' device bindings. */
  readonly qmp: QmpClient;
  /** The live guest RAM file, for the rules that read guest memory at a device kick. */
  readonly ramPath?: string;
  /** A rules directory instead of the built-in knowledge base. */
  readonly rulesDir?: string;
  /**
   * Acquire evidence of the paused VM on block, when the evidence store exists (keys in `home`).
   * Default true.
   */
  readonly seize?: boolean;
  /** The vmsight home of the evidence store (default `$VMSIGHT_HOME`, else `.vmsight`). */
  readonly home?: string;
  /** Receives every alert and evidence outcome, in order. */
  readonly onUpdate: (update: WatchGuardUpdate) => Promise<void>;
}

/**
 * Windows of the guard's fast path: the size the guard's own tests and benchmark batch I/O events
 * in. The matcher keeps per-VM state across windows, so a pattern split by a window edge still
 * matches.
 */
const WINDOW_EVENTS = 256;
/** A partial window is scanned after this long, so a short trigger ending a burst is not held. */
const FLUSH_MS = 100;

/**
 * The escape guard on one watched VM: the sensor's port and MMIO events go to the guard in
 * windows; `block` pauses the VM with QMP `stop` (it stays paused: resuming is the operator's
 * decision), every verdict becomes an alert update, and a block acquires evidence of the paused
 * VM when this party's evidence store exists. Windows no rule or cache decides are not analysed
 * again here: the watch's model monitor already scores every I/O event when it has an I/O model.
 */
export class WatchGuard {
  readonly #guard: EscapeGuard;
  readonly #options: WatchGuardOptions;
  /** Whether blocks acquire evidence: asked for and the store's keys exist. */
  readonly seizing: boolean;
  #window: GuestEvent[] = [];
  #chain: Promise<void> = Promise.resolve();
  #failure: Error | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The last item acquired and when its acquisition started (ns since the epoch). */
  #lastSeized: { readonly itemId: string; readonly startedNs: bigint } | undefined;
  /** Resolves when every alert so far has been handed to `onUpdate`. */
  readonly #alerted: () => Promise<void>;

  private constructor(
    guard: EscapeGuard,
    options: WatchGuardOptions,
    seizing: boolean,
    alerted: () => Promise<void>,
  ) {
    this.#guard = guard;
    this.#options = options;
    this.seizing = seizing;
    this.#alerted = alerted;
    // A failure found here is thrown by the next `push`, in the watch's own loop.
    this.#timer = setInterval(() => void this.flush().catch(() => undefined), FLUSH_MS);
  }

  static async start(options: WatchGuardOptions): Promise<WatchGuard> {
    const [rules, layout, seizing] = await Promise.all([
      loadRules(options.rulesDir),
      queryPciGuardLayout(options.qmp),
      options.seize === false
        ? Promise.resolve(false)
        : KeyStore.exists(
            evidencePaths(options.home === undefined ? {} : { home: options.home }).keys,
          ),
    ]);
    // Updates go out in order, one after the other (the watch's queue applies backpressure).
    let alerted: Promise<void> = Promise.resolve();
    const guard = EscapeGuard.start({
      rules,
      // Unknown windows are the model monitor's business (see the class comment).
      engine: { analyse: () => Promise.resolve({ anomalous: false, score: 0 }) },
      bindings: layout.bindings,
      mmioWindows: layout.mmioWindows,
      ...(options.ramPath === undefined ? {} : { memoryFiles: { [options.vm]: options.ramPath } }),
      controller: {
        pause: async () => void (await options.qmp.execute('stop', {}, { timeoutMs: 10_000 })),
      },
      onAlert: (alert) => {
        // A closed update queue (the consumer left) is the only way this fails: nothing to tell.
        alerted = alerted
          .then(() => options.onUpdate({ type: 'escape', ...alert }))
          .catch(() => undefined);
      },
      // The guard calls this after onAlert, for blocks only, with the VM already paused.
      evidence: {
        acquire: async (alert) => {
          await alerted;
          await self.#seize(alert);
        },
      },
    });
    // Declared after the guard, used only by its hooks, which run after this line.
    const self = new WatchGuard(guard, options, seizing, () => alerted);
    return self;
  }

  /** Windows of I/O events the guard has decided so far. */
  get windows(): number {
    return this.#guard.counters.requests;
  }

  /**
   * Adds one sensor event (only port I/O and MMIO are scanned); resolves once a full window has
   * been scanned, so a guest producing I/O faster than the guard decides is slowed, not outrun.
   */
  async push(event: GuestEvent): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    if (event.type !== 'port-io' && event.type !== 'mmio') return;
    this.#window.push(event);
    if (this.#window.length >= WINDOW_EVENTS) await this.flush();
  }

  /** Scans the events not scanned yet; rejects if the guard failed. */
  async flush(): Promise<void> {
    if (this.#window.length > 0) {
      const events = this.#window;
      this.#window = [];
      this.#chain = this.#chain.then(() => this.#scan(events));
    }
    await this.#chain;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Scans what is left, then stops the guard's worker. */
  async close(): Promise<void> {
    if (this.#timer === undefined) return this.flush();
    clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      await this.flush();
    } finally {
      await this.#guard.close();
      await this.#alerted();
    }
  }

  async #scan(events: readonly GuestEvent[]): Promise<void> {
    if (this.#failure !== undefined) return;
    try {
      await this.#guard.scan([{ vm: this.#options.vm, events }]);
    } catch (error) {
      this.#failure = error instanceof Error ? error : new VmsightError('INTERNAL', String(error));
    }
  }

  /** Evidence of the paused VM; never throws: the outcome is an update either way. */
  async #seize(alert: GuardAlert): Promise<void> {
    if (!this.seizing || !alert.paused) return;
    const reason = `escape guard: rule ${alert.ruleId} (${alert.cves.join(', ')}) matched on ${alert.device}; VM paused`;
    const base = {
      type: 'evidence',
      vm: alert.vm,
      ruleId: alert.ruleId,
      cves: alert.cves,
      reason,
    } as const;
    // One image per pause: a trigger older than the last acquisition is already in that image.
    const trigger = alert.events.at(-1)?.time;
    const last = this.#lastSeized;
    if (last !== undefined && trigger !== undefined && trigger < last.startedNs) {
      await this.#options.onUpdate({ ...base, itemId: last.itemId, alreadyAcquired: true });
      return;
    }
    const startedNs = BigInt(Date.now()) * 1_000_000n;
    try {
      const item = await acquireEvidence({
        vm: this.#options.vm,
        reason,
        qmp: this.#options.qmp,
        // The RAM file is read while the VM is paused (it is already); QEMU's dump otherwise.
        from: this.#options.ramPath === undefined ? 'qmp' : 'shm',
        ...(this.#options.home === undefined ? {} : { home: this.#options.home }),
      });
      this.#lastSeized = { itemId: item.id, startedNs };
      await this.#options.onUpdate({
        ...base,
        itemId: item.id,
        ...(item.imageSha256 === undefined ? {} : { imageSha256: item.imageSha256 }),
      });
    } catch (error) {
      await this.#options.onUpdate({
        ...base,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
