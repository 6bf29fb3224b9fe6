import { Worker } from 'node:worker_threads';
import { VmsightError } from '../core/index.js';
import type { GuestEvent } from '../events/index.js';
import type { AnalysisEngine, EngineVerdict } from './analysis-engine.js';
import { BoundedQueue, type ShedReason } from './bounded-queue.js';
import type { AlertSink, EvidenceHook, GuardAlert, VmController } from './guard-alert.js';
import { IoWindowBuilder } from './io-window.js';
import {
  transferListOf,
  type FromWorker,
  type Init,
  type LearntVerdict,
  type MemorySample,
  type ScanRequest,
  type ScanResult,
  type WindowRef,
  type WireHit,
} from './protocol.js';
import type { EscapeRule } from './rule.js';

/** Where each request ended up. Every request gets exactly one, so none is lost silently. */
export const GuardFate = {
  CACHE_HIT: 'cache-hit',
  RULE: 'rule',
  ENGINE: 'engine',
  SHED: 'shed',
} as const;
export type GuardFate = (typeof GuardFate)[keyof typeof GuardFate];

export interface GuardVerdict {
  readonly vm: string;
  readonly fate: GuardFate;
  readonly verdict: 'block' | 'alert' | 'pass' | 'unknown';
  readonly hits: readonly WireHit[];
  readonly shedReason?: ShedReason;
  readonly engine?: EngineVerdict;
}

export interface GuardCounters {
  requests: number;
  cacheHits: number;
  ruleBlock: number;
  ruleAlert: number;
  rulePass: number;
  engineAnomalous: number;
  engineNormal: number;
  shed: Record<ShedReason, number>;
  batches: number;
  workerMicros: number;
}

/** A window of one VM's I/O events to scan. */
export interface GuardWindowInput {
  readonly vm: string;
  readonly events: readonly GuestEvent[];
}

export interface EscapeGuardOptions {
  readonly rules: readonly EscapeRule[];
  readonly engine: AnalysisEngine;
  readonly bindings?: Readonly<Record<string, number>>;
  readonly mmioWindows?: readonly { base: number; size: number }[];
  /**
   * Live guest RAM files by VM (`memory-backend-file,share=on`): the worker reads the few bytes a
   * memory rule inspects at a device kick straight from them.
   */
  readonly memoryFiles?: Readonly<Record<string, string>>;
  /** Verdict cache entries (default 65,536). */
  readonly cacheCapacity?: number;
  /** Engine queue: windows waiting (default 1,024) and running at once (default 4). */
  readonly queueCapacity?: number;
  readonly engineConcurrency?: number;
  readonly controller?: VmController;
  readonly evidence?: EvidenceHook;
  readonly onAlert?: AlertSink;
}

/**
 * The VM-escape guard as the rest of vmsight sees it: windows go to the worker in batches (buffers
 * transferred), known escapes come back as `block` and are acted on at once (pause, alert,
 * evidence), benign-known and cached windows come back decided, and only unknown windows reach the
 * analysis engine through a bounded queue.
 */
export class EscapeGuard {
  readonly counters: GuardCounters = {
    requests: 0,
    cacheHits: 0,
    ruleBlock: 0,
    ruleAlert: 0,
    rulePass: 0,
    engineAnomalous: 0,
    engineNormal: 0,
    shed: { 'queue-full': 0, 'engine-error': 0, closed: 0 },
    batches: 0,
    workerMicros: 0,
  };
  readonly #worker: Worker;
  readonly #pending = new Map<
    number,
    { resolve: (result: ScanResult) => void; reject: (error: Error) => void }
  >();
  readonly #queue: BoundedQueue<
    { vm: string; tokens: Uint32Array; signature: string },
    EngineVerdict
  >;
  readonly #options: EscapeGuardOptions;
  #learnt: LearntVerdict[] = [];
  #batch = 0;
  #closed = false;

  private constructor(worker: Worker, options: EscapeGuardOptions) {
    this.#worker = worker;
    this.#options = options;
    this.#queue = new BoundedQueue((item) => options.engine.analyse(item.vm, item.tokens), {
      capacity: options.queueCapacity ?? 1024,
      concurrency: options.engineConcurrency ?? 4,
    });
    worker.on('message', (message: FromWorker) => {
      if (message.batch === null) return;
      const pending = this.#pending.get(message.batch);
      if (pending === undefined) return;
      this.#pending.delete(message.batch);
      if (message.type === 'error')
        pending.reject(new VmsightError('INTERNAL', `Guard worker failed: ${message.message}`));
      else pending.resolve(message);
    });
    worker.on('error', (error) => this.#failAll(error));
    worker.on('exit', () => this.#failAll(new Error('Guard worker exited')));
  }

  /** Starts the worker and sends it the rules. */
  static start(options: EscapeGuardOptions): EscapeGuard {
    const source = import.meta.url.endsWith('.ts');
    // Source checkouts run through tsx, which a worker does not inherit: a tiny loader registers it.
    const worker = source
      ? new Worker(new URL('./guard-worker-loader.mjs', import.meta.url), {
          workerData: { entry: new URL('./guard-worker.ts', import.meta.url).href },
        })
      : new Worker(new URL('./guard-worker.js', import.meta.url));
    worker.unref();
    const init: Init = {
      type: 'init',
      rules: options.rules,
      bindings: options.bindings ?? {},
      mmioWindows: options.mmioWindows ?? [],
      cacheCapacity: options.cacheCapacity ?? 65_536,
      ...(options.memoryFiles === undefined ? {} : { memoryFiles: options.memoryFiles }),
    };
    worker.postMessage(init);
    return new EscapeGuard(worker, options);
  }

  get engineQueueHighWater(): number {
    return this.#queue.highWater;
  }

  /** Scans a batch of windows (one per VM or several); resolves when every window has its fate. */
  async scan(
    windows: readonly GuardWindowInput[],
    memory: readonly MemorySample[] = [],
  ): Promise<GuardVerdict[]> {
    const builder = new IoWindowBuilder(256);
    const refs: WindowRef[] = [];
    windows.forEach((window, id) => {
      const start = builder.count;
      for (const event of window.events) builder.addEvent(event);
      refs.push({ vm: window.vm, id, start, count: builder.count - start });
    });
    const { io, times } = builder.finish();
    return this.scanEncoded(refs, io, times, memory);
  }

  /** As {@link scan}, for windows already encoded (sensors and benchmarks encode as they read). */
  async scanEncoded(
    refs: readonly WindowRef[],
    io: Float64Array,
    times: BigInt64Array,
    memory: readonly MemorySample[] = [],
  ): Promise<GuardVerdict[]> {
    if (this.#closed)
      throw new VmsightError('INVALID_ARGUMENT', 'Cannot scan: the guard is closed');
    const batch = ++this.#batch;
    const request: ScanRequest = {
      type: 'scan',
      batch,
      windows: refs,
      io,
      times,
      memory,
      learnt: this.#learnt,
    };
    this.#learnt = [];
    const result = await new Promise<ScanResult>((resolve, reject) => {
      this.#pending.set(batch, { resolve, reject });
      this.#worker.postMessage(request, transferListOf(request));
    });
    this.counters.batches += 1;
    this.counters.workerMicros += result.scanMicros;
    this.counters.requests += result.results.length;
    const settle = async (window: (typeof result.results)[number]): Promise<GuardVerdict> => {
      switch (window.fate) {
        case 'cache-rule':
        case 'cache-engine':
          this.counters.cacheHits += 1;
          if (window.verdict === 'block' || window.verdict === 'alert')
            await this.#respond(window.vm, window.hits);
          return {
            vm: window.vm,
            fate: GuardFate.CACHE_HIT,
            verdict: window.verdict,
            hits: window.hits,
          };
        case 'rule-block':
          this.counters.ruleBlock += 1;
          await this.#respond(window.vm, window.hits);
          return { vm: window.vm, fate: GuardFate.RULE, verdict: 'block', hits: window.hits };
        case 'rule-alert':
          this.counters.ruleAlert += 1;
          await this.#respond(window.vm, window.hits);
          return { vm: window.vm, fate: GuardFate.RULE, verdict: 'alert', hits: window.hits };
        case 'rule-pass':
          this.counters.rulePass += 1;
          return { vm: window.vm, fate: GuardFate.RULE, verdict: 'pass', hits: [] };
        case 'unknown': {
          const count = refs[window.id]?.count ?? 0;
          const tokens = result.tokens.slice(window.tokenStart, window.tokenStart + count);
          const outcome = await this.#queue.offer({
            vm: window.vm,
            tokens,
            signature: window.signature,
          });
          if (!outcome.ok) {
            this.counters.shed[outcome.reason] += 1;
            return {
              vm: window.vm,
              fate: GuardFate.SHED,
              verdict: 'unknown',
              hits: [],
              shedReason: outcome.reason,
            };
          }
          this.#learnt.push({ signature: window.signature, anomalous: outcome.value.anomalous });
          if (outcome.value.anomalous) this.counters.engineAnomalous += 1;
          else this.counters.engineNormal += 1;
          return {
            vm: window.vm,
            fate: GuardFate.ENGINE,
            verdict: outcome.value.anomalous ? 'alert' : 'pass',
            hits: [],
            engine: outcome.value,
          };
        }
      }
    };
    // Most windows are decided passes: answer them without a promise each.
    const verdicts = new Array<GuardVerdict>(result.results.length);
    const waits: Promise<void>[] = [];
    result.results.forEach((window, i) => {
      if (window.fate === 'rule-pass') {
        this.counters.rulePass += 1;
        verdicts[i] = { vm: window.vm, fate: GuardFate.RULE, verdict: 'pass', hits: [] };
      } else if (
        (window.fate === 'cache-rule' || window.fate === 'cache-engine') &&
        window.verdict === 'pass'
      ) {
        this.counters.cacheHits += 1;
        verdicts[i] = { vm: window.vm, fate: GuardFate.CACHE_HIT, verdict: 'pass', hits: [] };
      } else {
        waits.push(settle(window).then((verdict) => void (verdicts[i] = verdict)));
      }
    });
    await Promise.all(waits);
    return verdicts;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.close();
    await this.#worker.terminate();
  }

  async #respond(vm: string, hits: readonly WireHit[]): Promise<void> {
    const blocking = hits.find((hit) => hit.action === 'block');
    const main = blocking ?? hits[0];
    if (main === undefined) return;
    let paused = false;
    let pauseError: string | undefined;
    let triggerToStoppedMs: number | undefined;
    if (blocking !== undefined && this.#options.controller !== undefined) {
      try {
        await this.#options.controller.pause(vm);
        paused = true;
        const trigger = main.events[main.events.length - 1]?.time;
        if (trigger !== undefined)
          triggerToStoppedMs = Number(BigInt(Date.now()) * 1_000_000n - trigger) / 1e6;
      } catch (error) {
        pauseError = error instanceof Error ? error.message : String(error);
      }
    }
    const alert: GuardAlert = {
      vm,
      action: blocking === undefined ? 'alert' : 'block',
      ruleId: main.ruleId,
      cves: [...new Set(hits.flatMap((hit) => hit.cves))],
      severity: main.severity,
      device: main.device,
      events: main.events,
      paused,
      ...(pauseError === undefined ? {} : { pauseError }),
      ...(triggerToStoppedMs === undefined ? {} : { triggerToStoppedMs }),
    };
    this.#options.onAlert?.(alert);
    if (blocking !== undefined && this.#options.evidence !== undefined) {
      await this.#options.evidence.acquire(alert).catch(() => undefined);
    }
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
