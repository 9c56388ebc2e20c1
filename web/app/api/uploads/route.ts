import { apiOrigin, forwardAuth, forwardRequestId, passHeaders, unreachable } from '../../../src/server/upstream';

export const dynamic = 'force-dynamic';

// Streams the multipart body through to the server as it arrives: a 1 GB recording is never buffered here.
export async function POST(req: Request): Promise<Response> {
  const headers: Record<string, string> = { ...forwardAuth(req), ...forwardRequestId(req) };
  for (const name of ['content-type', 'content-length']) {
    const value = req.headers.get(name);
    if (value) headers[name] = value;
  }
  let upstream: Response;
  try {
    upstream = await fetch(`${apiOrigin()}/uploads`, {
      method: 'POST',
      headers,
      body: req.body,
      duplex: 'half',
      cache: 'no-store',
      signal: req.signal,
    } as RequestInit & { duplex: 'half' });
  } catch (err) {
    return unreachable(err);
  }
  return new Response(upstream.body, { status: upstream.status, headers: passHeaders(upstream, ['content-type']) });
}
