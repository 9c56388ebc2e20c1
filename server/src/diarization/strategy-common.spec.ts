import { EmbeddingPipeline } from './strategy-common';

/** A promise with its resolve/reject handles, so the test decides when each batch finishes. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('EmbeddingPipeline', () => {
  it('keeps one batch in flight: the next starts only after the previous finished, results in order', async () => {
    const pipeline = new EmbeddingPipeline();
    const first = deferred<string>();
    const second = deferred<string>();
    const started: string[] = [];
    const results: string[] = [];
    await pipeline.submit(
      () => (started.push('a'), first.promise),
      (r) => results.push(r),
    );
    let secondSubmitted = false;
    const submitting = pipeline
      .submit(
        () => (started.push('b'), second.promise),
        (r) => results.push(r),
      )
      .then(() => (secondSubmitted = true));
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['a']);
    expect(secondSubmitted).toBe(false);
    first.resolve('A');
    await submitting;
    expect(started).toEqual(['a', 'b']);
    expect(results).toEqual(['A']);
    second.resolve('B');
    await pipeline.drain();
    expect(results).toEqual(['A', 'B']);
  });

  it('rethrows a failed batch at drain', async () => {
    const pipeline = new EmbeddingPipeline();
    await pipeline.submit(
      () => Promise.reject(new Error('model failed')),
      () => undefined,
    );
    await expect(pipeline.drain()).rejects.toThrow('model failed');
  });
});
