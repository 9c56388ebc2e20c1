'use client';

import type { ReactNode } from 'react';
import { useSession } from './token-context';
import { TokenForm } from './token-form';

/** Renders children once a token is stored; asks for one otherwise. `admin` views explain when the token is read-only. */
export function RequireToken({ children, admin = false }: { children: ReactNode; admin?: boolean }) {
  const session = useSession();
  if (!session.ready)
    return (
      <p className="muted" role="status">
        Checking token…
      </p>
    );
  if (!session.token) return <TokenForm />;
  return (
    <>
      {session.error && (
        <p role="alert" className="error">
          {session.error}
        </p>
      )}
      {admin && session.scope === 'READ' ? (
        <p className="notice" role="note">
          Your token ({session.tokenName}) is read-only: this page needs an admin token.
        </p>
      ) : (
        children
      )}
    </>
  );
}
