import { createHmac, randomUUID } from 'node:crypto';

import { ApiTokenRecord, JobRecord, Store, WebhookDeliveryRecord, WebhookDeliveryUpdate } from '../store/types';
import { JobProgressEvent } from './job-service';
import { AddressPolicy, resolveWebhookTarget } from './webhook-address-policy';
import { attemptDelivery, AttemptOutcome } from './webhook-delivery';

const FINAL_STATES = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const EVENT = 'job.finished';
/** Each retry waits this many times longer than the one before (1 s, 5 s, 25 s by default). */
const BACKOFF_FACTOR = 5;
/** Default of WebhookOptions.heartbeatMs. */
const HEARTBEAT_MS = 30_000;
/** Records read per pass when picking up deliveries a stopped process left PENDING. */
const RESUME_BATCH = 100;

/** `sha256=<hex>` of the raw body, keyed by the token's webhook secret (receivers recompute it). */
export function signWebhook(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface WebhookOptions extends AddressPolicy {
  maxAttempts: number;
  /** Wait before the first retry; the next ones grow by BACKOFF_FACTOR. */
  backoffMs: number;
  timeoutMs: number;
  /** A delivery waiting out a long backoff touches its record this often, so other processes see it is alive (default 30 s). */
  heartbeatMs?: number;
}

/** The URL as recorded: no user name or password (they are credentials of the receiver). */
export function recordedUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return raw.slice(0, 200);
  }
}

type JobEnd = Pick<JobProgressEvent, 'jobId' | 'meetingId' | 'batchId' | 'state' | 'errorCode' | 'errorMessage'>;

function jobEndOf(job: JobRecord): JobEnd {
  return { jobId: job.id, meetingId: job.meetingId, batchId: job.batchId, state: job.state, errorCode: job.errorCode, errorMessage: job.errorMessage };
}

function bodyOf(event: JobEnd): string {
  return JSON.stringify({
    event: EVENT,
    sentAt: new Date().toISOString(),
    job: {
      id: event.jobId,
      meetingId: event.meetingId,
      batchId: event.batchId ?? null,
      state: event.state,
      errorCode: event.errorCode ?? null,
      errorMessage: event.errorMessage ?? null,
    },
  });
}

/**
 * Tells every API token that has a webhook URL when a job ends: one signed POST per token and
 * event, fire-and-forget (a slow or failing receiver never holds up the queue). Each delivery is
 * recorded (webhook_deliveries): refused by the address policy, retried with backoff on network
 * errors, 408, 429 and 5xx, never following a redirect. A delivery left PENDING by a process that
 * was killed, or stopped (`close`) while it waited out a backoff or made an attempt, is resumed by
 * `start` (its remaining attempts), or failed with the reason.
 */
export class WebhookNotifier {
  private readonly running = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  /** Records written before this instant were written by an earlier process (see start). */
  private readonly createdAt = new Date().toISOString();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: (line: string) => void,
    private readonly options: WebhookOptions,
  ) {}

  /** Called with every job event; only final states are sent. */
  notify(event: JobProgressEvent): void {
    if (!FINAL_STATES.has(event.state) || this.stopping.signal.aborted) return;
    this.track(this.send(event));
  }

  /**
   * How long a live delivery may leave its record untouched: one attempt (WEBHOOK_TIMEOUT_S) and one
   * heartbeat of a backoff, with a heartbeat of slack for name resolution and the database.
   */
  get staleAfterMs(): number {
    return 2 * this.heartbeatMs + this.options.timeoutMs;
  }

  /**
   * Picks up deliveries that a stopped process left PENDING (killed during an attempt or a backoff)
   * and resumes their remaining attempts, or fails them with the reason when they cannot go on.
   * Alone on its database (`shared: false`) every PENDING record written before this notifier was
   * made is such a delivery; with a shared queue other processes may be delivering, so only records
   * untouched for staleAfterMs are taken (each by one process: see claimWebhookDelivery), now and
   * every staleAfterMs after. Resolves with how many were taken now.
   */
  start(options: { shared: boolean }): Promise<number> {
    clearInterval(this.sweepTimer);
    if (options.shared) {
      this.sweepTimer = setInterval(() => void this.resumeStopped(true), this.staleAfterMs);
      this.sweepTimer.unref();
    }
    return this.resumeStopped(options.shared);
  }

  /**
   * Stops retrying, aborts open requests and waits for their records to be written. Deliveries with
   * attempts left stay PENDING, as a killed process leaves them: the next start (or, with a shared
   * queue, another process after staleAfterMs) goes on with them.
   */
  async close(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.sweepTimer);
    await this.sweeping;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private track(work: Promise<void>): void {
    const tracked = work
      .catch((error: unknown) => this.log(`webhooks: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  private async send(event: JobProgressEvent): Promise<void> {
    const tokens = (await this.store.listTokens()).filter((t) => t.webhookUrl && t.webhookSecret && !t.revokedAt);
    const body = bodyOf(event);
    await Promise.all(
      tokens.map(async (token) => {
        const record = await this.store.insertWebhookDelivery({
          id: randomUUID(),
          tokenId: token.id,
          jobId: event.jobId,
          event: EVENT,
          url: recordedUrl(token.webhookUrl!),
        });
        await this.deliver(token, record, body, false);
      }),
    );
  }

  /** One pass over the PENDING records of stopped processes; returns how many it took over. */
  private resumeStopped(shared: boolean): Promise<number> {
    if (this.sweeping || this.stopping.signal.aborted) return this.sweeping ?? Promise.resolve(0);
    const sweep = (async () => {
      let taken = 0;
      try {
        for (;;) {
          const before = shared ? new Date(Date.now() - this.staleAfterMs).toISOString() : this.createdAt;
          const stale = await this.store.stalePendingWebhookDeliveries(before, RESUME_BATCH);
          for (const seen of stale) {
            if (this.stopping.signal.aborted) return taken;
            // The claim moves updatedAt past `before`: the next page never lists the same record again.
            const record = await this.store.claimWebhookDelivery(seen.id, seen.updatedAt);
            if (!record) continue; // another process took it, or it finished meanwhile
            taken++;
            this.track(this.resume(record));
          }
          if (stale.length < RESUME_BATCH) return taken;
        }
      } catch (error) {
        this.log(`webhooks: could not resume the deliveries of a stopped process: ${error instanceof Error ? error.message : String(error)}`);
        return taken;
      } finally {
        this.sweeping = undefined;
      }
    })();
    this.sweeping = sweep;
    return sweep;
  }

  /** Goes on with a delivery taken over from a stopped process: its remaining attempts, with the job's outcome rebuilt from its record. */
  private async resume(record: WebhookDeliveryRecord): Promise<void> {
    const { maxAttempts } = this.options;
    const stopped = `the server stopped while delivering, after ${record.attempts} of ${maxAttempts} attempts`;
    const giveUp = (why: string) =>
      this.finish(record, { attempts: record.attempts, status: 'FAILED', statusCode: record.statusCode ?? null, reason: `${stopped}; ${why}` });
    if (record.attempts >= maxAttempts) return giveUp('none was left to resume (WEBHOOK_MAX_ATTEMPTS)');
    const token = (await this.store.listTokens()).find((t) => t.id === record.tokenId);
    if (!token || token.revokedAt) return giveUp('its token has been revoked since, so it was not resumed');
    if (!token.webhookUrl || !token.webhookSecret || recordedUrl(token.webhookUrl) !== record.url)
      return giveUp("its token's webhook URL has changed since, so it was not resumed");
    const job = await this.store.getJob(record.jobId);
    if (!job || !FINAL_STATES.has(job.state)) return giveUp('its job has been deleted or restarted since, so it was not resumed');
    this.log(`webhooks: resuming delivery ${record.id} of job ${job.id} at attempt ${record.attempts + 1} of ${maxAttempts} (${stopped})`);
    await this.deliver(token, record, bodyOf(jobEndOf(job)), true);
  }

  /** One token's delivery from the attempt after the recorded ones, attempt after attempt, recorded as it goes. */
  private async deliver(token: ApiTokenRecord, record: WebhookDeliveryRecord, body: string, resumedAfterStop: boolean): Promise<void> {
    const url = token.webhookUrl!;
    const jobId = record.jobId;
    const resumed = resumedAfterStop ? ', resumed after the server stopped' : '';
    const headers = {
      'content-type': 'application/json',
      'x-diarization-event': EVENT,
      'x-diarization-delivery': record.id,
      'x-diarization-signature': signWebhook(token.webhookSecret!, body),
    };
    const { maxAttempts, backoffMs, timeoutMs } = this.options;
    // A small hand-written loop: no retry library is a dependency of the server, and each attempt
    // must re-check the address and update the record, which a generic wrapper would not save.
    for (let attempt = record.attempts + 1; ; attempt++) {
      // Checked again at every attempt: the name may point somewhere else now (DNS rebinding).
      const target = await resolveWebhookTarget(url, this.options);
      if (!target.allowed && !target.retryable) {
        await this.finish(record, { attempts: attempt, status: 'REFUSED', statusCode: null, reason: `refused: ${target.reason}` });
        return;
      }
      const outcome: AttemptOutcome = target.allowed
        ? await attemptDelivery({ url: target.url, addresses: target.addresses, headers, body, timeoutMs, signal: this.stopping.signal })
        : { delivered: false, reason: target.reason, retryable: true };
      if (outcome.delivered) {
        await this.finish(record, { attempts: attempt, status: 'DELIVERED', statusCode: outcome.statusCode ?? null, reason: null });
        return;
      }
      if (target.allowed && outcome.statusCode === undefined && this.stopping.signal.aborted) {
        // Cut short by close before any answer: not counted (as when the process is killed), made again at the next start.
        await this.store.updateWebhookDelivery(record.id, {
          reason: `the server stopped during attempt ${attempt} of ${maxAttempts}${resumed}; it is made again when the server starts`,
        });
        this.log(`webhooks: delivery ${record.id} of job ${jobId} left PENDING at attempt ${attempt} of ${maxAttempts}: the server is stopping`);
        return;
      }
      const last = !outcome.retryable || attempt >= maxAttempts;
      const reason = `${outcome.reason} (attempt ${attempt} of ${maxAttempts}${resumed})`;
      if (last) {
        await this.finish(record, { attempts: attempt, status: 'FAILED', statusCode: outcome.statusCode ?? null, reason });
        this.log(`webhooks: delivery ${record.id} of job ${jobId} to token ${token.id} failed: ${reason}`);
        return;
      }
      await this.store.updateWebhookDelivery(record.id, { attempts: attempt, statusCode: outcome.statusCode ?? null, reason });
      await this.wait(record.id, backoffMs * BACKOFF_FACTOR ** (attempt - 1));
      if (this.stopping.signal.aborted) {
        // Left PENDING: a deploy loses no delivery; the remaining attempts go on at the next start.
        await this.store.updateWebhookDelivery(record.id, {
          reason: `${reason}; the server stopped before the next attempt, the remaining ones go on when it starts again`,
        });
        this.log(`webhooks: delivery ${record.id} of job ${jobId} left PENDING after attempt ${attempt} of ${maxAttempts}: the server is stopping`);
        return;
      }
    }
  }

  private async finish(record: WebhookDeliveryRecord, patch: Omit<WebhookDeliveryUpdate, 'finished'>): Promise<void> {
    await this.store.updateWebhookDelivery(record.id, { ...patch, finished: true });
  }

  /** Waits out a backoff, touching the record every heartbeatMs (other processes then know it is alive). */
  private async wait(id: string, ms: number): Promise<void> {
    const beat = this.heartbeatMs;
    for (let left = ms; left > 0 && !this.stopping.signal.aborted; left -= beat) {
      await this.pause(Math.min(left, beat));
      if (left > beat && !this.stopping.signal.aborted) await this.store.updateWebhookDelivery(id, {});
    }
  }

  private get heartbeatMs(): number {
    return this.options.heartbeatMs ?? HEARTBEAT_MS;
  }

  /** Waits out the backoff; shutting down cuts the wait short. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.stopping.signal;
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
