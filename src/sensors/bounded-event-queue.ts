import { OverflowPolicy } from './sensor.js';

export interface BoundedEventQueueOptions {
  /** Most items held. Default 65,536. */
  readonly capacity?: number;
  readonly policy?: OverflowPolicy;
}

export const DEFAULT_QUEUE_CAPACITY = 65_536;

/**
 * A single-producer, single-consumer queue between a sensor's reader and its consumer, bounded so
 * a slow consumer never grows memory: under `backpressure` `push` waits for room (the producer
 * stops reading its source), under `drop` it counts and discards.
 *
 * @example
 * ```ts
 * import { BoundedEventQueue } from './bounded-event-queue.js';
 * const queue = new BoundedEventQueue<number>({ capacity: 2, policy: 'drop' });
 * await queue.push(1);
 * queue.close();
 * for await (const item of queue) console.log(item); // 1
 * ```
 */
export class BoundedEventQueue<T> implements AsyncIterable<T> {
  readonly capacity: number;
  readonly policy: OverflowPolicy;
  #items: T[] = [];
  #head = 0;
  #closed = false;
  #error: Error | undefined;
  #dropped = 0;
  #delivered = 0;
  #wakeConsumer: (() => void) | undefined;
  #wakeProducer: (() => void) | undefined;

  constructor(options: BoundedEventQueueOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_QUEUE_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Queue capacity ${capacity} is not a positive integer`);
    }
    this.capacity = capacity;
    this.policy = options.policy ?? OverflowPolicy.BACKPRESSURE;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }
  get dropped(): number {
    return this.#dropped;
  }
  get delivered(): number {
    return this.#delivered;
  }

  /** Adds an item; resolves at once unless the queue is full under `backpressure`. */
  push(item: T): Promise<void> | undefined {
    if (this.#closed) return undefined;
    if (this.size >= this.capacity) {
      if (this.policy === OverflowPolicy.DROP) {
        this.#dropped += 1;
        return undefined;
      }
      return new Promise<void>((resolve) => {
        this.#wakeProducer = resolve;
      }).then(() => this.push(item));
    }
    this.#items.push(item);
    this.#wake();
    return undefined;
  }

  /** Adds an item if there is room, otherwise counts it as dropped; never waits, whatever the policy. */
  offer(item: T): boolean {
    if (this.#closed) return false;
    if (this.size >= this.capacity) {
      this.#dropped += 1;
      return false;
    }
    this.#items.push(item);
    this.#wake();
    return true;
  }

  /** No more items: the iterator ends once the queue is drained (or throws `error`). */
  close(error?: Error): void {
    this.#closed = true;
    if (error !== undefined && this.#error === undefined) this.#error = error;
    this.#wake();
    const producer = this.#wakeProducer;
    this.#wakeProducer = undefined;
    producer?.();
  }

  #wake(): void {
    const consumer = this.#wakeConsumer;
    this.#wakeConsumer = undefined;
    consumer?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.#head < this.#items.length) {
        const item = this.#items[this.#head] as T;
        this.#head += 1;
        if (this.#head >= 4096 && this.#head * 2 >= this.#items.length) {
          this.#items = this.#items.slice(this.#head);
          this.#head = 0;
        }
        this.#delivered += 1;
        const producer = this.#wakeProducer;
        this.#wakeProducer = undefined;
        producer?.();
        yield item;
        continue;
      }
      if (this.#closed) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => {
        this.#wakeConsumer = resolve;
      });
    }
  }
}
