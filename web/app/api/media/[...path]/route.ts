import { apiOrigin, forwardAuth, forwardRequestId, passHeaders, unreachable } from '../../../../src/server/upstream';

export const dynamic = 'force-dynamic';

const PASSED = ['content-type', 'content-length', 'content-range', 'accept-ranges', 'etag', 'last-modified', 'cache-control'];

// Audio (with Range, so the browser can seek) and peaks, streamed from the server.
async function proxy(req: Request, params: Promise<{ path: string[] }>): Promise<Response> {
  const { path } = await params;
  const search = new URL(req.url).search;
  const headers: Record<string, string> = { ...forwardAuth(req), ...forwardRequestId(req) };
  for (const name of ['range', 'if-range', 'if-none-match', 'if-modified-since']) {
    const value = req.headers.get(name);
    if (value) headers[name] = value;
  }
  let upstream: Response;
  try {
    upstream = await fetch(`${apiOrigin()}/media/${path.map(encodeURIComponent).join('/')}${search}`, {
      method: req.method,
      headers,
      cache: 'no-store',
      signal: req.signal,
    });
  } catch (err) {
    return unreachable(err);
  }
  return new Response(req.method === 'HEAD' ? null : upstream.body, {
    status: upstream.status,
    headers: passHeaders(upstream, PASSED),
  });
}

export function GET(req: Request, ctx: { params: Promise<{ path: string[] }> }): Promise<Response> {
  return proxy(req, ctx.params);
}

export function HEAD(req: Request, ctx: { params: Promise<{ path: string[] }> }): Promise<Response> {
  return proxy(req, ctx.params);
}
