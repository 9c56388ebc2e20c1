/**
 * One place that strips secrets from what is logged: `token=` query values in URLs and
 * Authorization headers. Every log line with a URL or headers goes through it (the structured
 * logger can use `redactUrl` / `redactHeaders` as serializers).
 */
const TOKEN_QUERY = /([?&](?:token|access_token)=)[^&#\s]*/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
// The password of a connection string (redis://user:secret@host, postgres://u:secret@db/...).
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi;

/** The text with `token=` query values, bearer credentials and URL passwords replaced by `[redacted]`. */
export function redactUrl(text: string): string {
  return text.replace(TOKEN_QUERY, '$1[redacted]').replace(BEARER, '$1 [redacted]').replace(URL_PASSWORD, '$1[redacted]@');
}

/** A copy of the headers without credential values (authorization, cookie, proxy-authorization). */
export function redactHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = /^(authorization|proxy-authorization|cookie|set-cookie)$/i.test(name) ? '[redacted]' : value;
  }
  return out;
}

// What a client (a READ token holder, a webhook receiver) may see of a server-side message: no
// absolute paths, no addresses, no connection strings. Hand-written: no library does this.
const URL_WITH_SCHEME = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>]+/gi;
const POSIX_PATH = /(?<![\w.~:/\\-])\/(?:[^\s/"'`<>():,;]+\/)+[^\s/"'`<>():,;]*/g;
const WINDOWS_PATH = /\b[A-Za-z]:\\[^\s"'`<>]*/g;
const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g;
// Bracketed, full (8 groups) or compressed (`::`) forms; a time like 10:30:15 is none of them.
const IPV6 =
  /\[[0-9a-f:.]+\](?::\d{1,5})?|\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|(?:\b[0-9a-f]{1,4})?(?::[0-9a-f]{1,4})*::(?:[0-9a-f]{1,4}\b:?)*(?:\d{1,5}\b)?/gi;
const HOST_PORT = /\b(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+):\d{2,5}\b/gi;
const MAX_CLIENT_MESSAGE = 600;

/**
 * The message with absolute paths reduced to their file name, URLs and host:port / IP addresses
 * replaced, and at most 600 characters. Idempotent: safe on text that was sanitised before.
 */
export function sanitizeForClients(message: string): string {
  const base = (p: string) =>
    p
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() || '[path]';
  const text = message
    .replace(URL_WITH_SCHEME, '[url]')
    .replace(WINDOWS_PATH, base)
    .replace(POSIX_PATH, base)
    .replace(IPV4, '[address]')
    .replace(IPV6, (m) => (/\d/.test(m) ? '[address]' : m))
    .replace(HOST_PORT, '[address]');
  return text.length > MAX_CLIENT_MESSAGE ? `${text.slice(0, MAX_CLIENT_MESSAGE - 1)}…` : text;
}
