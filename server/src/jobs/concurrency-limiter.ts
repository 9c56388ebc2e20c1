import { InvalidArgumentError } from '../common/errors';

/** Gives a slot back; calling it again does nothing. */
export type ReleaseSlot = () => void;

export interface AcquireOptions {
  /** Give up after this long (rejects with what `onTimeout` makes). Unset: wait as long as it takes. */
  timeoutMs?: number;
  onTimeout?: () => Error;
  signal?: AbortSignal;
}

interface Waiter {
  grant(release: ReleaseSlot): void;
}

/**
 * The engine-run slots of one process (JOB_CONCURRENCY): meeting jobs and clip embeddings
 * (findSpeaker, enrollFromUploads) take a slot each, so no more than that many engine runs happen
 * at once. Waiters (interactive clip work, and workers' meeting jobs) are served in arrival order
 * before the in-process queue's pump, which only takes a slot nobody waits for.
 * Hand-written: p-limit (the one limiter in node_modules, a transitive copy) cannot time a wait out,
 * let a waiter leave the line, or let a queue take a slot only when it is free.
 */
export class ConcurrencyLimiter {
  private inUse = 0;
  private readonly waiters: Waiter[] = [];
  private readonly freed = new Set<() => void>();
  private readonly changed = new Set<() => void>();

  constructor(readonly slots: number) {
    if (!Number.isInteger(slots) || slots < 1) throw new InvalidArgumentError(`Job concurrency must be a positive integer; got ${slots}.`);
  }

  /** Slots taken now. */
  get busy(): number {
    return this.inUse;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** A slot now, or undefined when all are taken or someone is already waiting (they go first). */
  tryAcquire(): ReleaseSlot | undefined {
    if (this.inUse >= this.slots || this.waiters.length > 0) return undefined;
    this.inUse++;
    this.notify(this.changed);
    return this.releaser();
  }

  /** Waits for a slot (in arrival order); rejects on timeout or abort, leaving the line. */
  acquire(options: AcquireOptions = {}): Promise<ReleaseSlot> {
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    const { signal, timeoutMs, onTimeout } = options;
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    return new Promise<ReleaseSlot>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const leave = (error: Error): void => {
        const index = this.waiters.indexOf(waiter);
        if (index < 0) return;
        this.waiters.splice(index, 1);
        cleanup();
        reject(error);
        // Leaving may unblock the pump, which yields to waiters only.
        if (this.waiters.length === 0 && this.inUse < this.slots) this.notifyFreed();
      };
      const onAbort = (): void => leave(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        grant: (release) => {
          cleanup();
          resolve(release);
        },
      };
      this.waiters.push(waiter);
      if (timeoutMs !== undefined) timer = setTimeout(() => leave(onTimeout?.() ?? new Error(`No free slot within ${timeoutMs} ms.`)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Runs `fn` in a slot. */
  async run<T>(fn: () => Promise<T>, options: AcquireOptions = {}): Promise<T> {
    const release = await this.acquire(options);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Called when a slot comes free and nobody waits for it (the in-process queue pumps then). */
  onFreed(fn: () => void): () => void {
    this.freed.add(fn);
    return () => this.freed.delete(fn);
  }

  /** Called whenever the number of busy slots changes (a worker stops fetching clip tasks when all are busy). */
  onChange(fn: () => void): () => void {
    this.changed.add(fn);
    return () => this.changed.delete(fn);
  }

  private releaser(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // The slot passes straight to the next waiter: inUse stays as it is.
      if (next) next.grant(this.releaser());
      else {
        this.inUse--;
        this.notify(this.changed);
        this.notifyFreed();
      }
    };
  }

  private notifyFreed(): void {
    this.notify(this.freed);
  }

  private notify(listeners: Set<() => void>): void {
    for (const fn of listeners) fn();
  }
}
