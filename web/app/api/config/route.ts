export const dynamic = 'force-dynamic';

// Route handlers cannot upgrade to WebSocket, so the browser opens graphql-ws on the API server
// directly: same host name the page was loaded from, the API's port, read at request time.
export function GET(req: Request): Response {
  const url = new URL(req.url);
  const forwardedHost = req.headers.get('x-forwarded-host') ?? req.headers.get('host');
  const hostname = forwardedHost ? new URL(`http://${forwardedHost}`).hostname : url.hostname;
  const secure = (req.headers.get('x-forwarded-proto') ?? url.protocol.replace(':', '')) === 'https';
  const port = process.env.API_PORT ?? '4000';
  const wsHost = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
  return Response.json({ wsUrl: `${secure ? 'wss' : 'ws'}://${wsHost}:${port}/graphql` }, { headers: { 'cache-control': 'no-store' } });
}
