'use client';

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { TokenScope } from '../gql/graphql';
import { ApiError, describeError, readToken, request, writeToken } from '../lib/graphql';
import { viewerOp } from './auth.operations';

const COOKIE = 'diarization_token';

interface Session {
  /** false until the stored token (if any) has been checked. */
  ready: boolean;
  token: string | null;
  scope: TokenScope | null;
  tokenName: string | null;
  /** Why the stored token could not be checked (the API is down, …). */
  error: string | null;
  isAdmin: boolean;
  signIn: (token: string) => Promise<void>;
  signOut: () => void;
}

type SessionState = Pick<Session, 'ready' | 'token' | 'scope' | 'tokenName' | 'error'>;

const SessionContext = createContext<Session | null>(null);

// The media proxy reads the token from this cookie: an <audio> element cannot send headers.
function setCookie(token: string | null) {
  document.cookie = token
    ? `${COOKIE}=${encodeURIComponent(token)}; path=/api/media; SameSite=Strict`
    : `${COOKIE}=; path=/api/media; max-age=0; SameSite=Strict`;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ ready: false, token: null, scope: null, tokenName: null, error: null });

  const signIn = useCallback(async (token: string) => {
    const trimmed = token.trim();
    const data = await request(viewerOp, {}, { token: trimmed });
    writeToken(trimmed);
    setCookie(trimmed);
    setState({ ready: true, token: trimmed, scope: data.viewer.scope, tokenName: data.viewer.tokenName, error: null });
  }, []);

  const signOut = useCallback(() => {
    writeToken(null);
    setCookie(null);
    setState({ ready: true, token: null, scope: null, tokenName: null, error: null });
  }, []);

  useEffect(() => {
    const stored = readToken();
    if (!stored) {
      setState((s) => ({ ...s, ready: true }));
      return;
    }
    signIn(stored).catch((err) => {
      if (err instanceof ApiError && (err.code === 'UNAUTHENTICATED' || err.code === 'FORBIDDEN')) {
        signOut();
        return;
      }
      // The API may just be down: keep the token, say why nothing loads.
      setState({ ready: true, token: stored, scope: null, tokenName: null, error: describeError(err) });
    });
  }, [signIn, signOut]);

  const value = useMemo<Session>(() => ({ ...state, isAdmin: state.scope === 'ADMIN', signIn, signOut }), [state, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside <SessionProvider>');
  return session;
}
