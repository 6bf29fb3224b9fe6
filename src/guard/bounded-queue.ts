/** Why a request did not reach the analysis engine. */
export const ShedReason = {
  QUEUE_FULL: 'queue-full',
  ENGINE_ERROR: 'engine-error',
  CLOSED: 'closed',
} as const;
export type ShedReason = (typeof ShedReason)[keyof typeof ShedReason];

export type QueueOutcome<R> =
  { readonly ok: true; readonly value: R } | { readonly ok: false; readonly reason: ShedReason };

/**
 * A bounded FIFO in front of a slow consumer: at most `concurrency` tasks run, at most `capacity`
 * wait; an offer beyond that is shed at once with a reason instead of growing memory without bound
 * (the burst must not take the engine down). `pressure` tells producers to slow down.
 */
export class BoundedQueue<T, R> {
  readonly #waiting: { item: T; resolve: (outcome: QueueOutcome<R>) => void }[] = [];
  readonly #run: (item: T) => Promise<R>;
  readonly capacity: number;
  readonly concurrency: number;
  #running = 0;
  #closed = false;
  highWater = 0;

  constructor(run: (item: T) => Promise<R>, options: { capacity: number; concurrency: number }) {
    this.#run = run;
    this.capacity = options.capacity;
    this.concurrency = options.concurrency;
  }

  get depth(): number {
    return this.#waiting.length;
  }

  /** True when the queue is at least three quarters full: producers should batch or wait. */
  get pressure(): boolean {
    return this.#waiting.length >= this.capacity * 0.75;
  }

  offer(item: T): Promise<QueueOutcome<R>> {
    if (this.#closed) return Promise.resolve({ ok: false, reason: ShedReason.CLOSED });
    if (this.#running < this.concurrency) return this.#start(item);
    if (this.#waiting.length >= this.capacity)
      return Promise.resolve({ ok: false, reason: ShedReason.QUEUE_FULL });
    return new Promise((resolve) => {
      this.#waiting.push({ item, resolve });
      this.highWater = Math.max(this.highWater, this.#waiting.length);
    });
  }

  close(): void {
    this.#closed = true;
    for (const waiting of this.#waiting.splice(0))
      waiting.resolve({ ok: false, reason: ShedReason.CLOSED });
  }

  async #start(item: T): Promise<QueueOutcome<R>> {
    this.#running += 1;
    try {
      return { ok: true, value: await this.#run(item) };
    } catch {
      return { ok: false, reason: ShedReason.ENGINE_ERROR };
    } finally {
      this.#running -= 1;
      const next = this.#waiting.shift();
      if (next !== undefined) void this.#start(next.item).then(next.resolve);
    }
  }
}
