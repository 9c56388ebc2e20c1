import { StageTimer } from './context';
import type { AudioChunk } from './stream';
import { EmbeddingPipeline, processInBatchesAhead } from './strategy-common';

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

async function* chunksOf(n: number): AsyncGenerator<AudioChunk> {
  for (let index = 0; index < n; index++) yield { index, startSample: index * 10, samples: new Float32Array(10), validSamples: 10 };
}

describe('processInBatchesAhead', () => {
  it('starts the next batch before finishing the one before it, and finishes them in order with their own results', async () => {
    const events: string[] = [];
    const total = await processInBatchesAhead(
      chunksOf(5),
      2,
      async (batch) => {
        events.push(`start ${batch.map((c) => c.index).join('')}`);
        return batch.map((c) => c.index * 10);
      },
      async (batch, started) => {
        events.push(`finish ${batch.map((c) => c.index).join('')} → ${started.join(',')}`);
      },
    );
    expect(total).toBe(50);
    expect(events).toEqual(['start 01', 'start 23', 'finish 01 → 0,10', 'start 4', 'finish 23 → 20,30', 'finish 4 → 40']);
  });

  it('rethrows a failed start or finish, and leaves no unhandled rejection behind', async () => {
    const failingStart = processInBatchesAhead(
      chunksOf(6),
      2,
      async (batch) => {
        if (batch[0].index === 2) throw new Error('model failed');
        return batch.length;
      },
      async () => undefined,
    );
    await expect(failingStart).rejects.toThrow('model failed');
    const failingFinish = processInBatchesAhead(
      chunksOf(6),
      2,
      async (batch) => {
        if (batch[0].index === 2) throw new Error('also failed');
        return batch.length;
      },
      async () => {
        throw new Error('finish failed');
      },
    );
    await expect(failingFinish).rejects.toThrow('finish failed');
  });
});

describe('StageTimer', () => {
  it('counts overlapping calls of one stage once (the seconds at least one was in flight)', async () => {
    let now = 0;
    const clock = jest.spyOn(performance, 'now').mockImplementation(() => now);
    try {
      const timer = new StageTimer();
      const a = deferred<void>();
      const b = deferred<void>();
      const first = timer.time('segmentation', () => a.promise); // 0–100 ms
      now = 50;
      const second = timer.time('segmentation', () => b.promise); // 50–150 ms, queued behind the first
      now = 100;
      a.resolve();
      await first;
      now = 150;
      b.resolve();
      await second;
      expect(timer.seconds.segmentation).toBeCloseTo(0.15, 9); // not 0.2
      // Calls one after the other add up as before.
      now = 200;
      const third = timer.time('segmentation', async () => {
        now = 230;
      });
      await third;
      expect(timer.seconds.segmentation).toBeCloseTo(0.18, 9);
    } finally {
      clock.mockRestore();
    }
  });
});
