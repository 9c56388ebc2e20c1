'use client';

import Link from 'next/link';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { RequireToken } from '../auth/require-token';
import { useSession } from '../auth/token-context';
import type { PeopleQuery } from '../gql/graphql';
import { formatDuration } from '../lib/format';
import { describeError, request } from '../lib/graphql';
import { uploadFile } from '../lib/upload-file';
import { createPersonOp, enrollFromUploadsOp, peopleOp } from './people.operations';

export function PeopleView() {
  return (
    <RequireToken>
      <PeopleList />
    </RequireToken>
  );
}

function PeopleList() {
  const { isAdmin } = useSession();
  const [text, setText] = useState('');
  const [people, setPeople] = useState<PeopleQuery['people'] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async (search: string) => {
    try {
      const data = await request(peopleOp, { text: search || undefined });
      setPeople(data.people);
      setError(null);
    } catch (err) {
      setError(describeError(err));
    }
  }, []);
  useEffect(() => {
    void load('');
  }, [load]);

  return (
    <>
      <h1>People</h1>
      <form
        className="row card"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void load(text);
        }}
      >
        <div className="field">
          <label htmlFor="people-search">Name contains</label>
          <input id="people-search" type="search" value={text} onChange={(e) => setText(e.target.value)} />
        </div>
        <button type="submit">Search</button>
      </form>
      {isAdmin && <EnrollForm onDone={() => void load(text)} />}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {people && people.length === 0 && <p className="card">Nobody enrolled yet. Enroll from clips above, or from a speaker on a meeting’s page.</p>}
      {people && people.length > 0 && (
        <div className="card table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">External id</th>
                <th scope="col">Enrollments</th>
                <th scope="col">Talk time</th>
              </tr>
            </thead>
            <tbody>
              {people.map((p) => (
                <tr key={p.id} data-testid="person-row">
                  <td>
                    <Link href={`/people/${p.id}`}>{p.name}</Link>
                  </td>
                  <td>{p.externalId ?? '—'}</td>
                  <td>{p.enrollments.length}</td>
                  <td>{formatDuration(p.totalTalkTimeSeconds)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** New person from one or more clips: each clip is uploaded, then enrolled. */
function EnrollForm({ onDone }: { onDone: () => void }) {
  const [name, setName] = useState('');
  const [externalId, setExternalId] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // A file input cannot be controlled: clear it by hand, or it keeps showing the enrolled clip.
  const fileInput = useRef<HTMLInputElement>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return setError('Type the person’s name.');
    if (files.length === 0) return setError('Choose at least one clip of this person speaking (a few seconds to a minute each).');
    setBusy(true);
    setError(null);
    try {
      const uploadIds: string[] = [];
      for (const [i, file] of files.entries()) {
        setStatus(`Uploading clip ${i + 1} of ${files.length}…`);
        uploadIds.push(await uploadFile(file, () => undefined).promise);
      }
      setStatus('Enrolling…');
      const { createPerson } = await request(createPersonOp, { input: { name: name.trim(), externalId: externalId.trim() || undefined } });
      const { enrollFromUploads } = await request(enrollFromUploadsOp, { personId: createPerson.id, uploadIds });
      const speech = enrollFromUploads.reduce((s, en) => s + en.speechSeconds, 0);
      setStatus(`Enrolled ${createPerson.name} from ${enrollFromUploads.length} clip(s), ${speech.toFixed(1)} s of speech.`);
      setName('');
      setExternalId('');
      setFiles([]);
      if (fileInput.current) fileInput.current.value = '';
      onDone();
    } catch (err) {
      setStatus(null);
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="enroll-heading">
      <h2 id="enroll-heading" style={{ marginTop: 0 }}>
        Enroll a person from clips
      </h2>
      <div className="row">
        <div className="field">
          <label htmlFor="enroll-name">Name</label>
          <input id="enroll-name" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="enroll-external">External id (optional)</label>
          <input id="enroll-external" value={externalId} onChange={(e) => setExternalId(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="enroll-files">Voice clips</label>
          <input
            id="enroll-files"
            ref={fileInput}
            type="file"
            multiple
            accept="audio/*,.wav,.mp3,.m4a,.flac,.ogg,.opus,.webm"
            onChange={(e) => setFiles(Array.from(e.target.files ?? []))}
          />
        </div>
        <button type="submit" className="primary" disabled={busy}>
          Enroll
        </button>
      </div>
      <div aria-live="polite">
        {status && <p className="ok">{status}</p>}
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </div>
    </form>
  );
}
