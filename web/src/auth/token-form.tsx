'use client';

import { useState, type FormEvent } from 'react';
import { describeError } from '../lib/graphql';
import { useSession } from './token-context';

export function TokenForm() {
  const { signIn } = useSession();
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!value.trim()) {
      setError('Paste a token first.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn(value);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card narrow" aria-labelledby="token-heading">
      <h1 id="token-heading">Enter an API token</h1>
      <p className="muted">
        An <strong>admin</strong> token can upload, edit and reprocess; a <strong>read</strong> token can browse meetings and analytics. The server writes its
        admin token to <code>DATA_DIR/admin-token</code> on first start (the path is in its start-up banner).
      </p>
      <form onSubmit={submit} className="stack">
        <label htmlFor="token-input">API token</label>
        <input
          id="token-input"
          name="token"
          type="password"
          autoComplete="off"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-describedby={error ? 'token-error' : undefined}
        />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Use token'}
        </button>
        {error && (
          <p id="token-error" role="alert" className="error">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
