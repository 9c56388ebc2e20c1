import { createHmac, randomUUID } from 'node:crypto';

import { Store } from '../store/types';
import { JobProgressEvent } from './job-service';

const TIMEOUT_MS = 5000;
const FINAL_STATES = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** `sha256=<hex>` of the raw body, keyed by the token's webhook secret (receivers recompute it). */
export function signWebhook(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Tells every API token that has a webhook URL when a job ends: one signed POST per token and
 * event, fire-and-forget (a slow or failing receiver never holds up the queue; failures are logged).
 */
export class WebhookNotifier {
  constructor(
    private readonly store: Store,
    private readonly log: (line: string) => void,
  ) {}

  /** Called with every job event; only final states are sent. */
  notify(event: JobProgressEvent): void {
    if (!FINAL_STATES.has(event.state)) return;
    this.send(event).catch((error: unknown) => this.log(`webhooks: ${error instanceof Error ? error.message : String(error)}`));
  }

  private async send(event: JobProgressEvent): Promise<void> {
    const tokens = (await this.store.listTokens()).filter((t) => t.webhookUrl && t.webhookSecret && !t.revokedAt);
    const body = JSON.stringify({
      event: 'job.finished',
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
    await Promise.all(
      tokens.map(async (token) => {
        try {
          const res = await fetch(token.webhookUrl!, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-diarization-event': 'job.finished',
              'x-diarization-delivery': randomUUID(),
              'x-diarization-signature': signWebhook(token.webhookSecret!, body),
            },
            body,
            signal: AbortSignal.timeout(TIMEOUT_MS),
          });
          if (!res.ok) this.log(`webhooks: ${token.webhookUrl} answered ${res.status} for job ${event.jobId}`);
        } catch (error) {
          this.log(`webhooks: could not reach ${token.webhookUrl} for job ${event.jobId}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }),
    );
  }
}
