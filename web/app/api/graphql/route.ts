import { apiOrigin, forwardAuth, passHeaders, unreachable } from '../../../src/server/upstream';

export const dynamic = 'force-dynamic';

// Same-origin proxy to the GraphQL server (queries are small: read whole).
export async function POST(req: Request): Promise<Response> {
  let upstream: Response;
  try {
    upstream = await fetch(`${apiOrigin()}/graphql`, {
      method: 'POST',
      headers: { 'content-type': req.headers.get('content-type') ?? 'application/json', ...forwardAuth(req) },
      body: await req.text(),
      cache: 'no-store',
    });
  } catch (err) {
    return unreachable(err);
  }
  return new Response(upstream.body, { status: upstream.status, headers: passHeaders(upstream, ['content-type']) });
}
