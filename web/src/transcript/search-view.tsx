'use client';

import Link from 'next/link';
import { useState, type FormEvent } from 'react';
import { RequireToken } from '../auth/require-token';
import type { SearchTranscriptsQuery } from '../gql/graphql';
import { formatClock } from '../lib/format';
import { describeError, request } from '../lib/graphql';
import { speakerColor } from '../timeline/palette';
import { Snippet } from './snippet';
import { searchTranscriptsOp } from './transcript.operations';

type Hit = SearchTranscriptsQuery['searchTranscripts']['nodes'][number];

export function SearchView() {
  return (
    <RequireToken>
      <TranscriptSearch />
    </RequireToken>
  );
}

/** Search across every meeting's transcript; a result opens its meeting at the line (?t=seconds). */
function TranscriptSearch() {
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [next, setNext] = useState<{ query: string; after: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (text: string, after?: string) => {
    setBusy(true);
    try {
      const data = await request(searchTranscriptsOp, { query: text, after });
      const page = data.searchTranscripts;
      setHits((prev) => (after && prev ? [...prev, ...page.nodes] : page.nodes));
      setNext(page.pageInfo.hasNextPage && page.pageInfo.endCursor ? { query: text, after: page.pageInfo.endCursor } : null);
      setError(null);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (query.trim()) void run(query.trim());
  };

  return (
    <>
      <h1>Search transcripts</h1>
      <form className="card row" onSubmit={onSubmit} role="search">
        <label htmlFor="transcript-query" className="sr-only">
          Words to find
        </label>
        <input
          id="transcript-query"
          type="search"
          value={query}
          placeholder='refund "cancel my order"'
          onChange={(e) => setQuery(e.target.value)}
          style={{ flex: '1 1 240px' }}
        />
        <button type="submit" className="primary" disabled={busy || !query.trim()}>
          Search
        </button>
      </form>
      <p className="muted">Every word must occur in the line; put words in double quotes to find them as a phrase.</p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {hits && (
        <section className="card" aria-live="polite">
          <h2 style={{ marginTop: 0 }}>{hits.length === 0 ? 'No line matches.' : `${hits.length}${next ? '+' : ''} matching lines`}</h2>
          <ul className="search-hits" data-testid="search-hits">
            {hits.map((hit, i) => (
              <li key={`${hit.meeting.id}-${hit.start}-${i}`}>
                <Link href={`/meetings/${encodeURIComponent(hit.meeting.id)}?t=${hit.start}`} data-testid="search-hit">
                  <strong>{hit.meeting.title}</strong> at {formatClock(hit.start)}
                </Link>{' '}
                {hit.speaker && <span style={{ color: speakerColor(hit.speaker.colorIndex) }}>{hit.speaker.person?.name ?? hit.speaker.label}: </span>}
                <Snippet text={hit.snippet} />
              </li>
            ))}
          </ul>
          {next && (
            <button type="button" disabled={busy} onClick={() => void run(next.query, next.after)}>
              More results
            </button>
          )}
        </section>
      )}
    </>
  );
}
