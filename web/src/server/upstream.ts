// Server-side only: where the GraphQL server is, read per request so nothing is baked in at build time.
export function apiOrigin(): string {
  const host = process.env.API_HOST ?? '127.0.0.1';
  const port = process.env.API_PORT ?? '4000';
  return `http://${host}:${port}`;
}

export const TOKEN_COOKIE = 'diarization_token';

/**
 * The caller's Authorization header, or the token cookie the app sets for requests that cannot carry
 * headers (an <audio> element fetching media).
 */
export function forwardAuth(req: Request): Record<string, string> {
  const header = req.headers.get('authorization');
  if (header) return { authorization: header };
  const cookie = req.headers.get('cookie') ?? '';
  const match = cookie.split(/;\s*/).find((c) => c.startsWith(`${TOKEN_COOKIE}=`));
  if (!match) return {};
  return { authorization: `Bearer ${decodeURIComponent(match.slice(TOKEN_COOKIE.length + 1))}` };
}

/** The API gives every request an id (server/src/http/request-log.ts) and writes it on each of its log lines. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * The browser's (or a client's) `x-request-id`, passed on so the API logs under the same id (it keeps
 * a sane one and replaces anything else); none: the API makes one, which passHeaders brings back.
 */
export function forwardRequestId(req: Request): Record<string, string> {
  const id = req.headers.get(REQUEST_ID_HEADER);
  return id ? { [REQUEST_ID_HEADER]: id } : {};
}

export function unreachable(err: unknown): Response {
  const reason = err instanceof Error ? err.message : String(err);
  return Response.json(
    {
      error: {
        code: 'API_UNREACHABLE',
        message: `The diarization API at ${apiOrigin()} is not answering (${reason}). Start the server (npm start) or set API_PORT for the web app.`,
      },
    },
    { status: 502 },
  );
}

/**
 * Copy the response headers that matter to the browser (never content-encoding: fetch already decoded),
 * and always the API's `x-request-id`, so a browser request can be followed into the API log.
 */
export function passHeaders(upstream: Response, names: string[]): Headers {
  const out = new Headers();
  for (const name of [...names, REQUEST_ID_HEADER]) {
    const value = upstream.headers.get(name);
    if (value !== null) out.set(name, value);
  }
  return out;
}
