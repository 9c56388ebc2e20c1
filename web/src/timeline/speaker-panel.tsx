'use client';

import Link from 'next/link';
import { useState, type FormEvent } from 'react';
import type { SpeakerFieldsFragment } from '../gql/graphql';
import { formatDuration } from '../lib/format';
import { describeError, request } from '../lib/graphql';
import { createPersonOp, enrollFromSpeakerOp } from '../people/people.operations';
import { speakerColor } from './palette';
import { assignSpeakerOp, mergeSpeakersOp, renameSpeakerOp, splitSpeakerOp } from './timeline.operations';

interface Props {
  meetingId: string;
  speakers: SpeakerFieldsFragment[];
  people: { id: string; name: string }[];
  canEdit: boolean;
  /** Reload the meeting (and people) after a change. */
  onChanged: (message: string) => void;
}

export function SpeakerPanel({ meetingId, speakers, people, canEdit, onChanged }: Props) {
  const total = speakers.reduce((s, sp) => s + sp.talkTimeSeconds, 0) || 1;
  const [open, setOpen] = useState<string | null>(null);
  return (
    <section className="card" aria-labelledby="speakers-heading">
      <h2 id="speakers-heading" style={{ marginTop: 0 }}>
        Speakers
      </h2>
      <ul className="speaker-list">
        {speakers.map((s) => (
          <li key={s.id} data-testid="speaker-row" data-speaker-id={s.id}>
            <span className="swatch" style={{ background: speakerColor(s.colorIndex) }} aria-hidden="true" />
            <span>
              <strong data-testid="speaker-name">{s.person?.name ?? s.label}</strong>
              {s.person && s.person.name !== s.label && <span className="muted"> ({s.label})</span>}
              {s.person && (
                <>
                  <br />
                  <Link href={`/people/${s.person.id}`} className="muted">
                    {s.matchScore != null ? `identified (similarity ${s.matchScore.toFixed(2)})` : 'assigned person'}
                  </Link>
                </>
              )}
            </span>
            <span title={`${formatDuration(s.talkTimeSeconds)} (${Math.round((100 * s.talkTimeSeconds) / total)}%)`}>
              <span className="talkbar" aria-hidden="true" style={{ display: 'block' }}>
                <span style={{ width: `${(100 * s.talkTimeSeconds) / total}%`, background: speakerColor(s.colorIndex) }} />
              </span>
              <span className="muted" style={{ fontSize: '0.85em' }}>
                {formatDuration(s.talkTimeSeconds)} · {Math.round((100 * s.talkTimeSeconds) / total)}%
              </span>
            </span>
            {canEdit ? (
              <button
                type="button"
                className="small"
                aria-expanded={open === s.id}
                aria-controls={`edit-${s.id}`}
                onClick={() => setOpen(open === s.id ? null : s.id)}
              >
                Edit
              </button>
            ) : (
              <span />
            )}
            {open === s.id && (
              <div id={`edit-${s.id}`} style={{ gridColumn: '1 / -1' }}>
                <SpeakerEditor meetingId={meetingId} speaker={s} speakers={speakers} people={people} onChanged={onChanged} />
              </div>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function SpeakerEditor({ meetingId, speaker, speakers, people, onChanged }: Omit<Props, 'canEdit'> & { speaker: SpeakerFieldsFragment }) {
  const [name, setName] = useState(speaker.label);
  const [personId, setPersonId] = useState(speaker.person?.id ?? '');
  const [enrollName, setEnrollName] = useState('');
  const [enrollTo, setEnrollTo] = useState('');
  const [mergeId, setMergeId] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const others = speakers.filter((s) => s.id !== speaker.id);
  const id = (f: string) => `${speaker.id}-${f}`;

  /** Runs a form's action; on success clears that form's fields (`reset`) and reports the change. */
  const run = (action: () => Promise<string>, reset?: () => void) => async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const message = await action();
      reset?.();
      onChanged(message);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="stack editor">
      <form
        className="row"
        onSubmit={run(async () => {
          if (!name.trim()) throw new Error('A speaker name cannot be empty.');
          await request(renameSpeakerOp, { speakerId: speaker.id, name: name.trim() });
          return `Renamed to ${name.trim()}.`;
        })}
      >
        <div className="field">
          <label htmlFor={id('name')}>Name</label>
          <input id={id('name')} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <button type="submit" disabled={busy}>
          Rename
        </button>
      </form>

      <form
        className="row"
        onSubmit={run(async () => {
          await request(assignSpeakerOp, { speakerId: speaker.id, personId: personId || null });
          return personId ? `Assigned to ${people.find((p) => p.id === personId)?.name}.` : 'Person removed from this speaker.';
        })}
      >
        <div className="field">
          <label htmlFor={id('person')}>Person</label>
          <select id={id('person')} value={personId} onChange={(e) => setPersonId(e.target.value)}>
            <option value="">Nobody (anonymous)</option>
            {people.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" disabled={busy}>
          Assign
        </button>
      </form>

      <form
        className="row"
        onSubmit={run(
          async () => {
            let target = enrollTo;
            let label = people.find((p) => p.id === enrollTo)?.name ?? '';
            if (!target) {
              if (!enrollName.trim()) throw new Error('Type the new person’s name, or pick an existing person.');
              const { createPerson } = await request(createPersonOp, { input: { name: enrollName.trim() } });
              target = createPerson.id;
              label = createPerson.name;
            }
            const { enrollFromSpeaker } = await request(enrollFromSpeakerOp, { personId: target, speakerId: speaker.id });
            return `Enrolled ${label} from this speaker (${enrollFromSpeaker.speechSeconds.toFixed(1)} s of speech).`;
          },
          () => setEnrollName(''),
        )}
      >
        <div className="field">
          <label htmlFor={id('enroll-to')}>Enroll voice as</label>
          <select id={id('enroll-to')} value={enrollTo} onChange={(e) => setEnrollTo(e.target.value)}>
            <option value="">A new person…</option>
            {people.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
        {!enrollTo && (
          <div className="field">
            <label htmlFor={id('enroll-name')}>New person’s name</label>
            <input id={id('enroll-name')} value={enrollName} onChange={(e) => setEnrollName(e.target.value)} />
          </div>
        )}
        <button type="submit" disabled={busy}>
          Enroll
        </button>
      </form>

      {others.length > 0 && (
        <form
          className="row"
          onSubmit={run(
            async () => {
              if (!mergeId) throw new Error('Pick the speaker to merge into this one.');
              await request(mergeSpeakersOp, { meetingId, keepSpeakerId: speaker.id, mergeSpeakerId: mergeId });
              return 'Speakers merged.';
            },
            () => setMergeId(''),
          )}
        >
          <div className="field">
            <label htmlFor={id('merge')}>Merge into this speaker</label>
            <select id={id('merge')} value={mergeId} onChange={(e) => setMergeId(e.target.value)}>
              <option value="">Choose a speaker…</option>
              {others.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.person?.name ?? o.label}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" disabled={busy}>
            Merge
          </button>
        </form>
      )}

      <form
        className="row"
        onSubmit={run(
          async () => {
            const a = Number(from);
            const b = Number(to);
            if (!(from.trim() && to.trim()) || !Number.isFinite(a) || !Number.isFinite(b) || a < 0 || b <= a) {
              throw new Error('Give the range to split off in seconds, with "from" before "to" (e.g. 30 and 95.5).');
            }
            await request(splitSpeakerOp, { speakerId: speaker.id, from: a, to: b });
            return `Turns between ${a} s and ${b} s are now a new speaker.`;
          },
          () => {
            setFrom('');
            setTo('');
          },
        )}
      >
        <div className="field">
          <label htmlFor={id('from')}>Split off from (s)</label>
          <input id={id('from')} inputMode="decimal" size={7} value={from} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={id('to')}>to (s)</label>
          <input id={id('to')} inputMode="decimal" size={7} value={to} onChange={(e) => setTo(e.target.value)} />
        </div>
        <button type="submit" disabled={busy}>
          Split
        </button>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}
