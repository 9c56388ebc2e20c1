'use client';

import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import { RequireToken } from '../auth/require-token';
import type { BatchFieldsFragment, JobKind, MeetingsQuery } from '../gql/graphql';
import { formatDuration, formatPercent, stageLabel } from '../lib/format';
import { describeError, request } from '../lib/graphql';
import { watchProgress } from '../lib/live';
import { describeFilter, FilterForm, toMeetingFilter, useFilterChoices, useSharedFilter } from '../meetings/filter';
import { meetingsOp } from '../meetings/meetings.operations';
import { batchOp, reprocessOp } from './reprocess.operations';

export function ReprocessView() {
  return (
    <RequireToken admin>
      <Reprocess />
    </RequireToken>
  );
}

function Reprocess() {
  const [filter, setFilter] = useSharedFilter();
  const choices = useFilterChoices();
  const [meetings, setMeetings] = useState<MeetingsQuery['meetings'] | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [kind, setKind] = useState<JobKind>('DIARIZE');
  const [batch, setBatch] = useState<BatchFieldsFragment | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    request(meetingsOp, { filter: toMeetingFilter(filter), first: 100 })
      .then((d) => {
        setMeetings(d.meetings);
        setSelected(new Set());
      })
      .catch((err) => setError(describeError(err)));
  }, [filter]);

  const start = async (useFilter: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const input = useFilter ? { filter: toMeetingFilter(filter), kind } : { meetingIds: [...selected], kind };
      const { reprocess } = await request(reprocessOp, { input });
      setBatch(reprocess);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const toggle = (id: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const total = meetings?.totalCount ?? 0;
  return (
    <>
      <h1>Reprocess meetings</h1>
      <FilterForm value={filter} onApply={setFilter} choices={choices} />
      <section className="card" aria-labelledby="choose-heading">
        <h2 id="choose-heading" style={{ marginTop: 0 }}>
          What to run
        </h2>
        <fieldset className="row" style={{ border: 'none', padding: 0, margin: '0 0 10px' }}>
          <legend className="sr-only">Kind of reprocessing</legend>
          <label>
            <input type="radio" name="kind" value="DIARIZE" checked={kind === 'DIARIZE'} onChange={() => setKind('DIARIZE')} /> Full diarization (new turns;
            renames carry over)
          </label>
          <label>
            <input type="radio" name="kind" value="IDENTIFY" checked={kind === 'IDENTIFY'} onChange={() => setKind('IDENTIFY')} /> Identification only (after
            enrollment changes)
          </label>
        </fieldset>
        {meetings && meetings.nodes.length > 0 ? (
          <div className="table-wrap" style={{ maxHeight: 320, overflowY: 'auto' }}>
            <table>
              <thead>
                <tr>
                  <th scope="col">
                    <input
                      type="checkbox"
                      aria-label="Select all listed meetings"
                      checked={selected.size > 0 && selected.size === meetings.nodes.length}
                      onChange={(e) => setSelected(e.target.checked ? new Set(meetings.nodes.map((m) => m.id)) : new Set())}
                    />
                  </th>
                  <th scope="col">Title</th>
                  <th scope="col">Status</th>
                  <th scope="col">Duration</th>
                </tr>
              </thead>
              <tbody>
                {meetings.nodes.map((m) => (
                  <tr key={m.id}>
                    <td>
                      <input type="checkbox" id={`sel-${m.id}`} checked={selected.has(m.id)} onChange={() => toggle(m.id)} />
                    </td>
                    <td>
                      <label htmlFor={`sel-${m.id}`} style={{ fontWeight: 'normal' }}>
                        {m.title}
                      </label>
                    </td>
                    <td>
                      <span className={`badge ${m.status}`}>{m.status.toLowerCase()}</span>
                    </td>
                    <td>{formatDuration(m.durationSeconds)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="muted">{meetings ? 'No meetings match the filter.' : 'Loading…'}</p>
        )}
        <div className="row" style={{ marginTop: 10 }}>
          <button type="button" className="primary" disabled={busy || selected.size === 0} onClick={() => void start(false)}>
            Reprocess {selected.size} selected
          </button>
          <button type="button" disabled={busy || total === 0} onClick={() => void start(true)}>
            Reprocess all {total} matching ({describeFilter(filter, choices?.people)})
          </button>
        </div>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </section>
      {batch && <BatchProgress initial={batch} />}
    </>
  );
}

const DONE = (b: BatchFieldsFragment) => b.queued + b.running === 0;

function BatchProgress({ initial }: { initial: BatchFieldsFragment }) {
  const [batch, setBatch] = useState(initial);
  const refresh = useCallback(async () => {
    const { batch: b } = await request(batchOp, { id: initial.id });
    if (b) setBatch(b);
    return !b || DONE(b);
  }, [initial.id]);

  useEffect(() => {
    setBatch(initial);
    // Events carry one job's state; the batch query gives the aggregate, so refetch on each event.
    let pending: ReturnType<typeof setTimeout> | null = null;
    const stop = watchProgress(
      { batchId: initial.id },
      {
        onEvent: () => {
          if (!pending)
            pending = setTimeout(() => {
              pending = null;
              void refresh().catch(() => undefined);
            }, 300);
        },
        poll: refresh,
      },
    );
    return () => {
      stop();
      if (pending) clearTimeout(pending);
    };
  }, [initial, refresh]);

  const done = DONE(batch);
  return (
    <section className="card" aria-labelledby="batch-heading" data-testid="batch" data-done={done ? 'true' : 'false'}>
      <h2 id="batch-heading" style={{ marginTop: 0 }}>
        Batch {batch.kind === 'IDENTIFY' ? 'identification' : 'diarization'}: {done ? 'finished' : 'running'}
      </h2>
      <label htmlFor="batch-progress">
        {formatPercent(done ? 1 : batch.progress)} · {batch.succeeded} succeeded, {batch.running} running, {batch.queued} queued
        {batch.failed ? `, ${batch.failed} failed` : ''}
        {batch.cancelled ? `, ${batch.cancelled} cancelled` : ''} of {batch.total}
      </label>
      <progress id="batch-progress" max={1} value={done ? 1 : batch.progress} />
      <ul>
        {batch.jobs.map((j) => (
          <li key={j.id}>
            {j.meeting ? <Link href={`/meetings/${j.meeting.id}`}>{j.meeting.title}</Link> : j.id}:{' '}
            <span className={`badge ${j.state}`}>{j.state.toLowerCase()}</span> {j.state === 'RUNNING' && `${stageLabel(j.stage)} ${formatPercent(j.progress)}`}
            {j.errorMessage && <span className="error"> {j.errorMessage}</span>}
          </li>
        ))}
      </ul>
      {batch.notes.length > 0 && (
        <>
          <h3>Could not carry over</h3>
          <ul>
            {batch.notes.map((n, i) => (
              <li key={i}>{n.message}</li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
