import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedEventQueue } from './bounded-event-queue.js';

async function drain<T>(queue: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of queue) items.push(item);
  return items;
}

describe('BoundedEventQueue', () => {
  it('counts and discards what does not fit under the drop policy', async () => {
    const queue = new BoundedEventQueue<number>({ capacity: 2, policy: 'drop' });
    for (let i = 0; i < 5; i += 1) assert.equal(queue.push(i), undefined);
    queue.close();
    assert.deepEqual(await drain(queue), [0, 1]);
    assert.equal(queue.dropped, 3);
    assert.equal(queue.delivered, 2);
  });

  it('makes the producer wait under backpressure and loses nothing', async () => {
    const queue = new BoundedEventQueue<number>({ capacity: 3, policy: 'backpressure' });
    let maxSize = 0;
    const producer = (async () => {
      for (let i = 0; i < 1000; i += 1) {
        await queue.push(i);
        maxSize = Math.max(maxSize, queue.size);
      }
      queue.close();
    })();
    const items = await drain(queue);
    await producer;
    assert.equal(items.length, 1000);
    assert.deepEqual(items.slice(0, 5), [0, 1, 2, 3, 4]);
    assert.ok(maxSize <= 3);
    assert.equal(queue.dropped, 0);
  });

  it('ends the iteration with the error the producer closed it with', async () => {
    const queue = new BoundedEventQueue<number>();
    await queue.push(1);
    queue.close(new Error('log reader failed'));
    await assert.rejects(drain(queue), /log reader failed/);
  });

  it('rejects a capacity that is not a positive integer', () => {
    assert.throws(() => new BoundedEventQueue({ capacity: 0 }), RangeError);
  });
});
