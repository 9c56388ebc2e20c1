import { createHmac, randomUUID } from 'node:crypto';

import { ApiTokenRecord, Store, WebhookDeliveryRecord, WebhookDeliveryUpdate } from '../store/types';
import { JobProgressEvent } from './job-service';
import { AddressPolicy, resolveWebhookTarget } from './webhook-address-policy';
import { attemptDelivery, AttemptOutcome } from './webhook-delivery';

const FINAL_STATES = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const EVENT = 'job.finished';
/** Each retry waits this many times longer than the one before (1 s, 5 s, 25 s by default). */
const BACKOFF_FACTOR = 5;

/** `sha256=<hex>` of the raw body, keyed by the token's webhook secret (receivers recompute it). */
export function signWebhook(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface WebhookOptions extends AddressPolicy {
  maxAttempts: number;
  /** Wait before the first retry; the next ones grow by BACKOFF_FACTOR. */
  backoffMs: number;
  timeoutMs: number;
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

/**
 * Tells every API token that has a webhook URL when a job ends: one signed POST per token and
 * event, fire-and-forget (a slow or failing receiver never holds up the queue). Each delivery is
 * recorded (webhook_deliveries): refused by the address policy, retried with backoff on network
 * errors, 408, 429 and 5xx, never following a redirect.
 */
export class WebhookNotifier {
  private readonly running = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

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

  /** Stops retrying, aborts open requests and waits for their records to be written. */
  async close(): Promise<void> {
    this.stopping.abort();
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
    const body = JSON.stringify({
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
    await Promise.all(tokens.map((token) => this.deliver(token, event.jobId, body)));
  }

  /** One token's delivery, attempt after attempt, recorded as it goes. */
  private async deliver(token: ApiTokenRecord, jobId: string, body: string): Promise<void> {
    const url = token.webhookUrl!;
    const record = await this.store.insertWebhookDelivery({ id: randomUUID(), tokenId: token.id, jobId, event: EVENT, url: recordedUrl(url) });
    const headers = {
      'content-type': 'application/json',
      'x-diarization-event': EVENT,
      'x-diarization-delivery': record.id,
      'x-diarization-signature': signWebhook(token.webhookSecret!, body),
    };
    const { maxAttempts, backoffMs, timeoutMs } = this.options;
    // A small hand-written loop: no retry library is a dependency of the server, and each attempt
    // must re-check the address and update the record, which a generic wrapper would not save.
    for (let attempt = 1; ; attempt++) {
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
      const last = !outcome.retryable || attempt >= maxAttempts || this.stopping.signal.aborted;
      const reason = `${outcome.reason} (attempt ${attempt} of ${maxAttempts})`;
      if (last) {
        await this.finish(record, { attempts: attempt, status: 'FAILED', statusCode: outcome.statusCode ?? null, reason });
        this.log(`webhooks: delivery ${record.id} of job ${jobId} to token ${token.id} failed: ${reason}`);
        return;
      }
      await this.store.updateWebhookDelivery(record.id, { attempts: attempt, statusCode: outcome.statusCode ?? null, reason });
      await this.pause(backoffMs * BACKOFF_FACTOR ** (attempt - 1));
      if (this.stopping.signal.aborted) {
        await this.finish(record, {
          attempts: attempt,
          status: 'FAILED',
          statusCode: outcome.statusCode ?? null,
          reason: `${reason}; the server stopped before the next attempt`,
        });
        return;
      }
    }
  }

  private async finish(record: WebhookDeliveryRecord, patch: Omit<WebhookDeliveryUpdate, 'finished'>): Promise<void> {
    await this.store.updateWebhookDelivery(record.id, { ...patch, finished: true });
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
