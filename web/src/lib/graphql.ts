// A small typed GraphQL-over-HTTP helper: operations are plain strings (marked /* GraphQL */ so
// codegen finds them) paired with their generated result and variable types.

export interface TypedOperation<TData, TVars> {
  readonly source: string;
  /** Phantom fields: carry the types only. */
  readonly __data?: TData;
  readonly __vars?: TVars;
}

export function op<TData, TVars = Record<string, never>>(source: string): TypedOperation<TData, TVars> {
  return { source };
}

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

/** An error from the API, with the server's stable code when it sent one. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const TOKEN_KEY = 'diarization.token';

export function readToken(): string | null {
  if (typeof window === 'undefined') return null;
  return window.localStorage.getItem(TOKEN_KEY);
}

export function writeToken(token: string | null): void {
  if (token) window.localStorage.setItem(TOKEN_KEY, token);
  else window.localStorage.removeItem(TOKEN_KEY);
}

export function authHeaders(token = readToken()): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

export async function request<TData, TVars>(
  operation: TypedOperation<TData, TVars>,
  variables?: TVars,
  options: { token?: string | null; signal?: AbortSignal } = {},
): Promise<TData> {
  const token = options.token === undefined ? readToken() : options.token;
  let res: Response;
  try {
    res = await fetch('/api/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders(token) },
      body: JSON.stringify({ query: operation.source, variables: variables ?? {} }),
      signal: options.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError('Cannot reach the web server. Check that it is running and reload.', 'NETWORK');
  }
  let body: { data?: TData | null; errors?: GraphQLErrorShape[]; error?: { code: string; message: string } };
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`The API answered HTTP ${res.status} without JSON.`, 'BAD_RESPONSE', res.status);
  }
  if (body.errors?.length) {
    const first = body.errors[0];
    throw new ApiError(first.message, first.extensions?.code ?? 'GRAPHQL_ERROR', res.status);
  }
  if (body.error) throw new ApiError(body.error.message, body.error.code, res.status);
  if (!res.ok || !body.data) throw new ApiError(`The API answered HTTP ${res.status}.`, 'HTTP_ERROR', res.status);
  return body.data;
}

/** Words a person can act on, for the codes the UI meets most. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    switch (err.code) {
      case 'UNAUTHENTICATED':
        return `${err.message} — enter a valid token (Token, top right).`;
      case 'FORBIDDEN':
        return `${err.message} — this needs an admin token.`;
      case 'API_UNREACHABLE':
        return `${err.message}`;
      default:
        return err.message;
    }
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
