/** Lifts a sync iterable (an array of test chunks, a string) to the async iterable parsers take. */
export async function* toAsync<T>(items: AsyncIterable<T> | Iterable<T>): AsyncGenerator<T> {
  yield* items;
}
