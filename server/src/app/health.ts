import { RunningPlatform } from './platform';

/**
 * /healthz for API and worker processes alike. `draining` from the moment a stop signal arrives (a
 * load balancer takes the process out before its port closes), `unavailable` while the database is
 * unreachable (and, for a worker, while Redis is: it can take no work), else `ok`. Without a valid
 * token only `{status}` leaves (no database text, host or path); a token holder gets the details.
 */
export type HealthStatus = 'ok' | 'unavailable' | 'draining';

export interface HealthDetails {
  /** Same as status === 'ok' (kept for existing clients). */
  ok: boolean;
  database: 'ok' | 'unreachable';
  /** Only with REDIS_URL: the shared queue's connection. */
  redis?: 'ok' | 'unreachable';
  queue: { queued: number; running: number };
  model: { name: string; hash: string; dim?: number };
  /** An API process with REDIS_URL never loads the engine: clips and jobs go to the workers. */
  engine: 'in-process' | 'workers';
}

export interface HealthAnswer {
  httpStatus: 200 | 503;
  body: { status: HealthStatus } | ({ status: HealthStatus } & HealthDetails);
}

export interface Health {
  readonly draining: boolean;
  /** From now on every answer is `draining` (503). */
  markDraining(): void;
  check(): Promise<{ status: HealthStatus; details: HealthDetails }>;
  /** The /healthz answer for a request with this Authorization header (details only when it is valid). */
  answer(authorization: string | undefined): Promise<HealthAnswer>;
}

export function createHealth(platform: RunningPlatform, options: { role: 'api' | 'worker' }): Health {
  let draining = false;
  const check = async (): Promise<{ status: HealthStatus; details: HealthDetails }> => {
    let database: HealthDetails['database'] = 'ok';
    try {
      await platform.store.ping();
    } catch (error) {
      // The driver's text (host, user, file path) goes to the log, never into the answer.
      platform.log(`healthz: database unreachable: ${error instanceof Error ? error.message : String(error)}`);
      database = 'unreachable';
    }
    const reachable = platform.queue.reachable?.();
    const redis: HealthDetails['redis'] = reachable === undefined ? undefined : reachable ? 'ok' : 'unreachable';
    // An API process without Redis still serves reads (enqueueing fails fast and is reconciled later).
    const usable = database === 'ok' && (options.role !== 'worker' || redis !== 'unreachable');
    const status: HealthStatus = draining ? 'draining' : usable ? 'ok' : 'unavailable';
    return {
      status,
      details: {
        ok: status === 'ok',
        database,
        ...(redis ? { redis } : {}),
        queue: platform.queue.counts(),
        model: platform.model,
        engine: platform.engine ? 'in-process' : 'workers',
      },
    };
  };
  return {
    get draining() {
      return draining;
    },
    markDraining() {
      draining = true;
    },
    check,
    async answer(authorization) {
      const [{ status, details }, viewer] = await Promise.all([
        check(),
        authorization ? platform.tokens.authenticate(authorization).catch(() => undefined) : undefined,
      ]);
      return { httpStatus: status === 'ok' ? 200 : 503, body: viewer ? { status, ...details } : { status } };
    },
  };
}
