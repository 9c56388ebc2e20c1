/**
 * One place that strips secrets from what is logged: `token=` query values in URLs and
 * Authorization headers. Every log line with a URL or headers goes through it (the structured
 * logger can use `redactUrl` / `redactHeaders` as serializers).
 */
const TOKEN_QUERY = /([?&](?:token|access_token)=)[^&#\s]*/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;

/** The URL (or any text) with `token=` query values and bearer credentials replaced by `[redacted]`. */
export function redactUrl(text: string): string {
  return text.replace(TOKEN_QUERY, '$1[redacted]').replace(BEARER, '$1 [redacted]');
}

/** A copy of the headers without credential values (authorization, cookie, proxy-authorization). */
export function redactHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = /^(authorization|proxy-authorization|cookie|set-cookie)$/i.test(name) ? '[redacted]' : value;
  }
  return out;
}
