import { AbortedError } from '../common/errors';
import { ConcurrencyLimiter } from './concurrency-limiter';
import { InProcessQueue } from './in-process-queue';
import { JobContext, JobEvents, JobHandlers } from './job-types';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyLimiter', () => {
  it('never lets more than `slots` runs happen at once, and hands each freed slot to the next waiter in order', async () => {
    const limiter = new ConcurrencyLimiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates: Array<() => void> = [];
    const runs = [0, 1, 2, 3, 4].map((i) =>
      limiter.run(async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(i);
        await new Promise<void>((resolve) => gates.push(resolve));
        running--;
      }),
    );
    await tick();
    expect({ busy: limiter.busy, waiting: limiter.waiting, order }).toEqual({ busy: 2, waiting: 3, order: [0, 1] });
    while (gates.length > 0) {
      gates.shift()!();
      await tick();
      await tick();
    }
    await Promise.all(runs);
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(limiter.busy).toBe(0);
  });

  it('a wait times out with the error asked for and leaves the line; an abort does too', async () => {
    const limiter = new ConcurrencyLimiter(1);
    const release = limiter.tryAcquire()!;
    await expect(limiter.acquire({ timeoutMs: 30, onTimeout: () => new Error('busy for 30 ms') })).rejects.toThrow('busy for 30 ms');
    const controller = new AbortController();
    const aborted = limiter.acquire({ signal: controller.signal });
    controller.abort(new AbortedError('clip'));
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    expect(limiter.waiting).toBe(0);
    release();
    release(); // a second call gives back nothing more
    expect(limiter.busy).toBe(0);
    expect(limiter.tryAcquire()).toBeDefined();
    expect(limiter.tryAcquire()).toBeUndefined();
  });

  it('the in-process queue takes only free slots: a waiting clip runs before the next queued job', async () => {
    const limiter = new ConcurrencyLimiter(1);
    const queue = new InProcessQueue(limiter);
    const started: string[] = [];
    const finishJob = new Map<string, () => void>();
    const events: JobEvents = { onStart: () => undefined, onProgress: () => undefined, onFinish: () => undefined };
    const handler = async (_payload: { meetingId: string }, ctx: JobContext) => {
      started.push(ctx.jobId);
      await new Promise<void>((resolve) => finishJob.set(ctx.jobId, resolve));
    };
    const handlers: JobHandlers = { diarize: handler, identify: handler };
    queue.start(handlers, events);
    await queue.enqueue({ id: 'job-1', name: 'diarize', payload: { meetingId: 'm1' } });
    await queue.enqueue({ id: 'job-2', name: 'diarize', payload: { meetingId: 'm2' } });
    await tick();
    expect(started).toEqual(['job-1']);
    const clip = limiter.run(async () => {
      started.push('clip');
    });
    finishJob.get('job-1')!();
    await clip;
    await tick();
    await tick();
    expect(started).toEqual(['job-1', 'clip', 'job-2']);
    finishJob.get('job-2')!();
    await queue.close();
  });
});
