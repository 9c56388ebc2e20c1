// Server-side only: reads a request body with a byte counter, so a huge (or endless) body is
// refused after `maxBytes` instead of being buffered whole. Hand-written: Next.js route handlers
// have no body limit of their own, and req.text() reads everything.

/** The server's MAX_TRANSCRIPT_MB default (server/src/config/server-config.ts). */
const DEFAULT_MAX_TRANSCRIPT_MB = 10;

const positive = (value: string | undefined): number | undefined => {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(n) && n > 0 ? n : undefined;
};

/**
 * By default the API's own GraphQL body limit (express.json in server/src/app/http-app.ts): 2 MB
 * plus twice MAX_TRANSCRIPT_MB, so a transcript the API would take (attached from the meeting page)
 * gets through, and one over MAX_TRANSCRIPT_MB reaches the API and is refused with its message.
 */
function defaultMaxBodyMb(): number {
  return 2 + 2 * (positive(process.env.MAX_TRANSCRIPT_MB) ?? DEFAULT_MAX_TRANSCRIPT_MB);
}

/** WEB_PROXY_MAX_BODY_MB, read per request (nothing baked in at build time). */
export function proxyMaxBodyBytes(): number {
  return Math.round((positive(process.env.WEB_PROXY_MAX_BODY_MB) ?? defaultMaxBodyMb()) * 1024 * 1024);
}

export function bodyTooLarge(maxBytes: number): Response {
  const mb = Number((maxBytes / (1024 * 1024)).toPrecision(3));
  return Response.json(
    {
      error: {
        code: 'BODY_TOO_LARGE',
        message: `The request body is larger than the web app's limit of ${mb} MB (WEB_PROXY_MAX_BODY_MB). Send a smaller query or transcript, or raise WEB_PROXY_MAX_BODY_MB with the API's MAX_TRANSCRIPT_MB.`,
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
