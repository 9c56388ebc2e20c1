// Live job progress: graphql-ws on the API server (its address comes from /api/config at run time),
// falling back to polling when the socket cannot be opened.
import { createClient, type Client } from 'graphql-ws';
import type { JobProgressSubscription, JobProgressSubscriptionVariables } from '../gql/graphql';
import { jobProgressOp } from '../upload/upload.operations';
import { readToken } from './graphql';

export type ProgressEvent = JobProgressSubscription['jobProgress'];

let clientPromise: Promise<Client> | null = null;
let clientToken: string | null = null;

async function wsClient(): Promise<Client> {
  const token = readToken();
  if (clientPromise && clientToken === token) return clientPromise;
  if (clientPromise) void clientPromise.then((c) => c.dispose());
  clientToken = token;
  clientPromise = fetch('/api/config', { cache: 'no-store' })
    .then((res) => {
      if (!res.ok) throw new Error(`/api/config answered HTTP ${res.status}`);
      return res.json() as Promise<{ wsUrl: string }>;
    })
    .then(({ wsUrl }) =>
      createClient({
        url: wsUrl,
        lazy: true,
        retryAttempts: 2,
        connectionParams: () => (token ? { authorization: `Bearer ${token}` } : {}),
      }),
    );
  clientPromise.catch(() => {
    clientPromise = null;
  });
  return clientPromise;
}

const POLL_MS = 1500;

/**
 * Calls `onEvent` with every progress event for the jobs selected by `vars` (a job, a meeting or a
 * batch). When the socket fails, `poll` is called every 1.5 s instead; it is also called once at
 * the start, so a job that finished before the subscription opened is still seen. Returns a stop function.
 */
export function watchProgress(
  vars: JobProgressSubscriptionVariables,
  handlers: { onEvent: (event: ProgressEvent) => void; poll: () => Promise<boolean | void> },
): () => void {
  let stopped = false;
  let unsubscribe: (() => void) | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const startPolling = () => {
    if (stopped || timer) return;
    const tick = async () => {
      timer = null;
      if (stopped) return;
      let done: boolean | void = false;
      try {
        done = await handlers.poll();
      } catch {
        // A failed poll is retried on the next tick; the view shows the last known state.
      }
      if (!stopped && !done) timer = setTimeout(tick, POLL_MS);
    };
    timer = setTimeout(tick, POLL_MS);
  };

  void handlers.poll().catch(() => undefined);
  wsClient()
    .then((client) => {
      if (stopped) return;
      unsubscribe = client.subscribe<JobProgressSubscription>(
        { query: jobProgressOp.source, variables: vars as Record<string, unknown> },
        {
          next: (msg) => {
            if (msg.data) handlers.onEvent(msg.data.jobProgress);
            else if (msg.errors?.length) startPolling();
          },
          error: () => startPolling(),
          complete: () => undefined,
        },
      );
    })
    .catch(() => startPolling());

  return () => {
    stopped = true;
    unsubscribe?.();
    if (timer) clearTimeout(timer);
  };
}

export const FINISHED_STATES = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
