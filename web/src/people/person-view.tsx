'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useState } from 'react';
import { RequireToken } from '../auth/require-token';
import { useSession } from '../auth/token-context';
import type { PersonQuery } from '../gql/graphql';
import { formatDate, formatDuration } from '../lib/format';
import { describeError, request } from '../lib/graphql';
import { deletePersonOp, personOp, removeEnrollmentOp } from './people.operations';

export function PersonView({ id }: { id: string }) {
  return (
    <RequireToken>
      <PersonDetails id={id} />
    </RequireToken>
  );
}

function PersonDetails({ id }: { id: string }) {
  const { isAdmin } = useSession();
  const router = useRouter();
  const [person, setPerson] = useState<PersonQuery['person'] | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setPerson((await request(personOp, { id })).person);
    } catch (err) {
      setError(describeError(err));
    }
  }, [id]);
  useEffect(() => {
    void load();
  }, [load]);

  const removeEnrollment = async (enrollmentId: string) => {
    try {
      await request(removeEnrollmentOp, { id: enrollmentId });
      await load();
    } catch (err) {
      setError(describeError(err));
    }
  };

  const deletePerson = async () => {
    if (!person || !window.confirm(`Delete ${person.name} and every voice sample of theirs? This cannot be undone.`)) return;
    try {
      await request(deletePersonOp, { id: person.id });
      router.push('/people');
    } catch (err) {
      setError(describeError(err));
    }
  };

  if (error)
    return (
      <p role="alert" className="error">
        {error}
      </p>
    );
  if (person === undefined)
    return (
      <p role="status" className="muted">
        Loading…
      </p>
    );
  if (person === null)
    return (
      <p role="alert" className="error">
        No person with id {id}. <Link href="/people">Back to people</Link>.
      </p>
    );
  return (
    <>
      <p style={{ margin: 0 }}>
        <Link href="/people">← People</Link>
      </p>
      <h1>{person.name}</h1>
      <div className="stat-grid" style={{ marginBottom: 16 }}>
        <div className="stat">
          <b>{formatDuration(person.totalTalkTimeSeconds)}</b>total talk time
        </div>
        <div className="stat">
          <b>{person.meetings.length}</b>meetings
        </div>
        <div className="stat">
          <b>{person.enrollments.length}</b>enrollments
        </div>
        {person.externalId && (
          <div className="stat">
            <b>{person.externalId}</b>external id
          </div>
        )}
      </div>
      <section className="card" aria-labelledby="meetings-heading">
        <h2 id="meetings-heading" style={{ marginTop: 0 }}>
          Meetings
        </h2>
        {person.meetings.length === 0 ? (
          <p className="muted">Not identified in any meeting yet.</p>
        ) : (
          <ul>
            {person.meetings.map((m) => (
              <li key={m.id}>
                <Link href={`/meetings/${m.id}`}>{m.title}</Link>{' '}
                <span className="muted">
                  · {formatDuration(m.durationSeconds)} · {formatDate(m.createdAt)}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="card table-wrap" aria-labelledby="enrollments-heading">
        <h2 id="enrollments-heading" style={{ marginTop: 0 }}>
          Enrollments
        </h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Speech</th>
              <th scope="col">Model</th>
              <th scope="col">Added</th>
              {isAdmin && (
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {person.enrollments.map((en) => (
              <tr key={en.id}>
                <td>{en.source}</td>
                <td>{en.speechSeconds.toFixed(1)} s</td>
                <td>{en.modelName}</td>
                <td>{formatDate(en.createdAt)}</td>
                {isAdmin && (
                  <td>
                    <button type="button" className="small danger" onClick={() => void removeEnrollment(en.id)}>
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {isAdmin && (
        <button type="button" className="danger" onClick={() => void deletePerson()}>
          Delete person and all voice data
        </button>
      )}
    </>
  );
}
