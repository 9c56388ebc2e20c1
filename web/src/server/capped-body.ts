// Server-side only: reads a request body with a byte counter, so a huge (or endless) body is
// refused after `maxBytes` instead of being buffered whole. Hand-written: Next.js route handlers
// have no body limit of their own, and req.text() reads everything.

/** The API's own GraphQL body limit is 2 MB (express.json in server/src/app/http-app.ts): the same by default. */
const DEFAULT_MAX_BODY_MB = 2;

/** WEB_PROXY_MAX_BODY_MB, read per request (nothing baked in at build time). */
export function proxyMaxBodyBytes(): number {
  const mb = Number(process.env.WEB_PROXY_MAX_BODY_MB ?? DEFAULT_MAX_BODY_MB);
  return Math.round((Number.isFinite(mb) && mb > 0 ? mb : DEFAULT_MAX_BODY_MB) * 1024 * 1024);
}

export function bodyTooLarge(maxBytes: number): Response {
  const mb = Number((maxBytes / (1024 * 1024)).toPrecision(3));
  return Response.json(
    {
      error: {
        code: 'BODY_TOO_LARGE',
        message: `The request body is larger than the web app's limit of ${mb} MB (WEB_PROXY_MAX_BODY_MB). Send a smaller query (large transcripts: split them over several requests).`,
      },
    },
    { status: 413, headers: { connection: 'close' } },
  );
}

/** The body as UTF-8 text, or undefined once it exceeds `maxBytes` (the rest is never read). */
export async function readCappedBody(req: Request, maxBytes: number): Promise<string | undefined> {
  const declared = Number(req.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) return undefined;
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  const decoder = new TextDecoder();
  return chunks.map((chunk, i) => decoder.decode(chunk, { stream: i < chunks.length - 1 })).join('');
}
