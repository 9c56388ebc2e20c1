import { bodyTooLarge, proxyMaxBodyBytes, readCappedBody } from '../../../src/server/capped-body';
import { apiOrigin, forwardAuth, forwardRequestId, passHeaders, unreachable } from '../../../src/server/upstream';

export const dynamic = 'force-dynamic';

// Same-origin proxy to the GraphQL server. Queries are small: read whole, but counted, so a body
// over WEB_PROXY_MAX_BODY_MB is refused (413) after that many bytes rather than buffered.
export async function POST(req: Request): Promise<Response> {
  const maxBytes = proxyMaxBodyBytes();
  const body = await readCappedBody(req, maxBytes);
  if (!body) return bodyTooLarge(maxBytes);
  let upstream: Response;
  try {
    upstream = await fetch(`${apiOrigin()}/graphql`, {
      method: 'POST',
      headers: { 'content-type': req.headers.get('content-type') ?? 'application/json', ...forwardAuth(req), ...forwardRequestId(req) },
      body,
      cache: 'no-store',
    });
  } catch (err) {
    return unreachable(err);
  }
  return new Response(upstream.body, { status: upstream.status, headers: passHeaders(upstream, ['content-type']) });
}
