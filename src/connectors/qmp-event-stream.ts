import { VmsightError } from '../core/index.js';
import type { QmpEvent } from './qmp-message.js';

export const DEFAULT_MAX_QUEUED_EVENTS = 10_000;

/**
 * One subscriber's view of a connection's asynchronous events: a bounded queue drained by
 * `for await`. A reader that falls more than `maxQueued` events behind gets `LIMIT_EXCEEDED`
 * instead of silently losing events (a monitor must not miss a STOP it was waiting for) or letting a
 * chatty QEMU grow our memory without bound.
 */
export class QmpEventStream implements AsyncIterableIterator<QmpEvent> {
  readonly #queue: QmpEvent[] = [];
  readonly #maxQueued: number;
  readonly #onReturn: () => void;
  #waiter:
    { resolve: (r: IteratorResult<QmpEvent>) => void; reject: (e: unknown) => void } | undefined;
  #ended = false;
  #failure: Error | undefined;

  constructor(maxQueued: number, onReturn: () => void) {
    this.#maxQueued = maxQueued;
    this.#onReturn = onReturn;
  }

  /** Called by the client for every event that arrives while this stream is open. */
  push(event: QmpEvent): void {
    if (this.#ended) return;
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.resolve({ value: event, done: false });
      return;
    }
    if (this.#queue.length >= this.#maxQueued) {
      this.end(
        new VmsightError(
          'LIMIT_EXCEEDED',
          `Cannot queue QMP event "${event.name}": the reader is ${this.#maxQueued} events behind`,
          { details: { maxQueued: this.#maxQueued } },
        ),
      );
      return;
    }
    this.#queue.push(event);
  }

  /** Ends the stream: queued events are still delivered, then `failure` is thrown or it is done. */
  end(failure?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#failure = failure;
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (failure === undefined) waiter.resolve({ value: undefined, done: true });
      else waiter.reject(failure);
    }
  }

  next(): Promise<IteratorResult<QmpEvent>> {
    const event = this.#queue.shift();
    if (event !== undefined) return Promise.resolve({ value: event, done: false });
    if (this.#ended) {
      if (this.#failure !== undefined) {
        const failure = this.#failure;
        this.#failure = undefined;
        return Promise.reject(failure);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** `break` out of a `for await` lands here: unsubscribe and drop what is queued. */
  return(): Promise<IteratorResult<QmpEvent>> {
    this.#queue.length = 0;
    this.end();
    this.#onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
