/**
 * One webhook POST to addresses already checked by the address policy. node:http(s) is used rather
 * than fetch because it takes a `lookup` function: the connection goes to the checked addresses,
 * so a second DNS answer (rebinding) never decides where the bytes go, while TLS still verifies the
 * certificate against the URL's host name. node:http follows no redirects by itself.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

import type { ResolvedAddress } from './webhook-address-policy';

export interface AttemptOutcome {
  delivered: boolean;
  /** The receiver's HTTP status, when it answered. */
  statusCode?: number;
  /** Why the attempt did not deliver (empty when it did). */
  reason?: string;
  /** Whether another attempt may succeed: network trouble, 408, 429 and 5xx; not 3xx or other 4xx. */
  retryable: boolean;
}

export interface AttemptRequest {
  url: URL;
  addresses: ResolvedAddress[];
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Aborts the attempt when the server shuts down. */
  signal?: AbortSignal;
}

/** Answers every lookup with the checked addresses, never asking DNS again. */
function pinnedLookup(addresses: ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  };
}

function describeNetworkError(error: unknown, timeoutMs: number, timedOut: boolean): string {
  if (timedOut) return `no answer within ${timeoutMs / 1000} s`;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ABORT_ERR') return 'the server stopped before the delivery finished';
  return `could not reach the receiver (${code ?? (error instanceof Error ? error.message : String(error))})`;
}

export function classifyStatus(statusCode: number): AttemptOutcome {
  if (statusCode >= 200 && statusCode < 300) return { delivered: true, statusCode, retryable: false };
  if (statusCode >= 300 && statusCode < 400)
    return { delivered: false, statusCode, reason: `the receiver answered ${statusCode}: redirect not followed`, retryable: false };
  const retryable = statusCode === 408 || statusCode === 429 || statusCode >= 500;
  return { delivered: false, statusCode, reason: `the receiver answered ${statusCode}`, retryable };
}

/** Sends the POST once; the answer's body is never read (only its status matters). */
export function attemptDelivery(request: AttemptRequest): Promise<AttemptOutcome> {
  const { url, body, timeoutMs } = request;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: pinnedLookup(request.addresses),
        signal,
        // One connection per delivery: a pooled socket could outlive the address check.
        agent: false,
      },
      (res) => {
        res.destroy();
        resolve(classifyStatus(res.statusCode ?? 0));
      },
    );
    req.on('error', (error) =>
      resolve({ delivered: false, reason: describeNetworkError(error, timeoutMs, timeout.aborted), retryable: !request.signal?.aborted }),
    );
    req.end(body);
  });
}
