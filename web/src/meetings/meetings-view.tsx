'use client';

import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import { RequireToken } from '../auth/require-token';
import type { MeetingOrderField, MeetingsQuery, OrderDirection } from '../gql/graphql';
import { formatDate, formatDuration } from '../lib/format';
import { describeError, request } from '../lib/graphql';
import { FilterForm, toMeetingFilter, useFilterChoices, useSharedFilter } from './filter';
import { meetingsOp } from './meetings.operations';

const PAGE_SIZE = 20;

const SORTS: { value: string; label: string; field: MeetingOrderField; direction: OrderDirection }[] = [
  { value: 'CREATED_AT:DESC', label: 'Newest first', field: 'CREATED_AT', direction: 'DESC' },
  { value: 'CREATED_AT:ASC', label: 'Oldest first', field: 'CREATED_AT', direction: 'ASC' },
  { value: 'TITLE:ASC', label: 'Title A–Z', field: 'TITLE', direction: 'ASC' },
  { value: 'DURATION:DESC', label: 'Longest first', field: 'DURATION', direction: 'DESC' },
  { value: 'DURATION:ASC', label: 'Shortest first', field: 'DURATION', direction: 'ASC' },
];

export function MeetingsView() {
  return (
    <RequireToken>
      <MeetingsList />
    </RequireToken>
  );
}

function MeetingsList() {
  const [filter, setFilter] = useSharedFilter();
  const choices = useFilterChoices();
  const [sort, setSort] = useState(SORTS[0].value);
  // Cursors of the pages before the current one, for "Previous".
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [data, setData] = useState<MeetingsQuery['meetings'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const after = cursors[cursors.length - 1];
  const load = useCallback(async () => {
    const order = SORTS.find((s) => s.value === sort) ?? SORTS[0];
    setLoading(true);
    try {
      const res = await request(meetingsOp, {
        filter: toMeetingFilter(filter),
        first: PAGE_SIZE,
        after,
        orderBy: { field: order.field, direction: order.direction },
      });
      setData(res.meetings);
      setError(null);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setLoading(false);
    }
  }, [filter, sort, after]);

  useEffect(() => {
    void load();
  }, [load]);

  // Keep statuses fresh while something is still processing.
  const busy = data?.nodes.some((m) => m.status === 'QUEUED' || m.status === 'RUNNING');
  useEffect(() => {
    if (!busy) return;
    const t = setInterval(() => void load(), 3000);
    return () => clearInterval(t);
  }, [busy, load]);

  const page = cursors.length;
  return (
    <>
      <h1>Meetings</h1>
      <FilterForm
        value={filter}
        choices={choices}
        onApply={(f) => {
          setCursors([null]);
          setFilter(f);
        }}
      />
      <div className="row" style={{ justifyContent: 'space-between', marginBottom: 8 }}>
        <p className="muted" role="status" style={{ margin: 0 }}>
          {loading && !data ? 'Loading…' : data ? `${data.totalCount} meeting${data.totalCount === 1 ? '' : 's'}` : ''}
        </p>
        <div className="field">
          <label htmlFor="sort">Sort</label>
          <select
            id="sort"
            value={sort}
            onChange={(e) => {
              setCursors([null]);
              setSort(e.target.value);
            }}
          >
            {SORTS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {data && data.nodes.length === 0 && (
        <p className="card">
          No meetings match. <Link href="/">Upload a recording</Link>.
        </p>
      )}
      {data && data.nodes.length > 0 && (
        <div className="card table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Status</th>
                <th scope="col">Duration</th>
                <th scope="col">Speakers</th>
                <th scope="col" className="hide-narrow">
                  Tags
                </th>
                <th scope="col" className="hide-narrow">
                  Created
                </th>
              </tr>
            </thead>
            <tbody>
              {data.nodes.map((m) => (
                <tr key={m.id} data-testid="meeting-row">
                  <td>
                    <Link href={`/meetings/${m.id}`}>{m.title}</Link>
                  </td>
                  <td>
                    <span className={`badge ${m.status}`}>{m.status.toLowerCase()}</span>
                  </td>
                  <td>{m.durationSeconds ? formatDuration(m.durationSeconds) : '—'}</td>
                  <td>{m.status === 'SUCCEEDED' ? m.speakerCount : '—'}</td>
                  <td className="hide-narrow">{m.tags.join(', ')}</td>
                  <td className="hide-narrow">{formatDate(m.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data && (page > 1 || data.pageInfo.hasNextPage) && (
        <nav className="row" aria-label="Pages">
          <button type="button" disabled={page <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
            Previous
          </button>
          <span>Page {page}</span>
          <button type="button" disabled={!data.pageInfo.hasNextPage} onClick={() => setCursors((c) => [...c, data.pageInfo.endCursor ?? null])}>
            Next
          </button>
        </nav>
      )}
    </>
  );
}
