'use client';

import { useEffect, useMemo, useRef, useState, type ChangeEvent } from 'react';
import type { MeetingTranscriptQuery } from '../gql/graphql';
import { formatClock } from '../lib/format';
import { describeError, request } from '../lib/graphql';
import { activeLineIndex } from './active-line';
import { readTranscriptFile, TRANSCRIPT_ACCEPT } from './transcript-file';
import { attachTranscriptOp, deleteTranscriptOp, meetingTranscriptOp } from './transcript.operations';

type Line = NonNullable<MeetingTranscriptQuery['meeting']>['transcript']['nodes'][number];

/**
 * The speaker-attributed transcript beside the timeline: every line with its speaker's colour and
 * name, the line being played highlighted and kept in view, a click plays from the line.
 * `version` changes after speaker edits, so the lines are read again with their new speakers.
 * With `canEdit` (an admin token) a transcript can be attached from a file, replaced or deleted here;
 * a refused file leaves the shown lines as they were, with the server's reason above them.
 */
export function TranscriptPanel(props: {
  meetingId: string;
  version: number;
  speakers: { id: string; name: string; color: string }[];
  clock: number;
  onPlay: (time: number) => void;
  onLoaded?: (lineCount: number) => void;
  canEdit: boolean;
}) {
  const { meetingId, version, onLoaded } = props;
  const [lines, setLines] = useState<Line[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Bumped after an attach, replace or delete: the lines are read again (the old ones stay meanwhile).
  const [changes, setChanges] = useState(0);
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const list = useRef<HTMLOListElement>(null);
  const replaceInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const ctrl = new AbortController();
    (async () => {
      const all: Line[] = [];
      let after: string | null = null;
      for (;;) {
        const data: MeetingTranscriptQuery = await request(meetingTranscriptOp, { id: meetingId, after }, { signal: ctrl.signal });
        const page = data.meeting?.transcript;
        if (!page) break;
        all.push(...page.nodes);
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      if (ctrl.signal.aborted) return;
      setLines(all);
      setError(null);
      onLoaded?.(all.length);
    })().catch((err) => {
      if (!ctrl.signal.aborted) setError(describeError(err));
    });
    return () => ctrl.abort();
  }, [meetingId, version, changes, onLoaded]);

  const byId = useMemo(() => new Map(props.speakers.map((s) => [s.id, s])), [props.speakers]);
  const active = lines ? activeLineIndex(lines, props.clock) : -1;

  // Keep the played line in view by scrolling the list only (never the page under the reader).
  useEffect(() => {
    const box = list.current;
    const row = active >= 0 ? box?.children[active] : undefined;
    if (!box || !(row instanceof HTMLElement)) return;
    const top = row.offsetTop; // the list is the rows' offsetParent (position: relative)
    if (top < box.scrollTop || top + row.offsetHeight > box.scrollTop + box.clientHeight) box.scrollTop = Math.max(0, top - box.clientHeight / 3);
  }, [active]);

  const act = async (doing: string, run: () => Promise<string>) => {
    setBusy(doing);
    setMessage(null);
    setActionError(null);
    try {
      setMessage(await run());
      setChanges((n) => n + 1);
    } catch (err) {
      setActionError(describeError(err));
    } finally {
      setBusy(null);
    }
  };

  const attach = (e: ChangeEvent<HTMLInputElement>, replacing: boolean) => {
    const file = e.target.files?.[0];
    e.target.value = ''; // choosing the same file again (after fixing it) fires change again
    if (!file) return;
    void act(`${replacing ? 'Replacing the transcript with' : 'Attaching'} ${file.name}…`, async () => {
      try {
        const { format, content } = await readTranscriptFile(file);
        const { attachTranscript: t } = await request(attachTranscriptOp, { meetingId, format, content });
        return `${replacing ? 'Transcript replaced by' : 'Transcript attached from'} ${file.name} (${t.format}, ${t.cueCount.toLocaleString('en')} cues).`;
      } catch (err) {
        throw new Error(`${file.name} was not attached: ${describeError(err)}`);
      }
    });
  };

  const remove = () => {
    if (!window.confirm('Delete the transcript of this meeting? Its lines and search entries go; the speakers and turns stay.')) return;
    void act('Deleting the transcript…', async () => {
      await request(deleteTranscriptOp, { meetingId });
      return 'Transcript deleted.';
    });
  };

  const feedback = (
    <div aria-live="polite">
      {busy && (
        <p role="status" className="muted">
          {busy}
        </p>
      )}
      {message && !busy && (
        <p className="ok" data-testid="transcript-message">
          {message}
        </p>
      )}
      {actionError && (
        <p role="alert" className="error" data-testid="transcript-error">
          {actionError}
        </p>
      )}
    </div>
  );

  if (error)
    return (
      <p role="alert" className="error">
        Transcript unavailable: {error}
      </p>
    );
  if (lines === null)
    return (
      <p role="status" className="muted">
        Loading transcript…
      </p>
    );
  if (lines.length === 0)
    return (
      <>
        <p className="muted" data-testid="transcript-empty">
          {props.canEdit ? 'No transcript yet.' : 'No transcript. An admin token can attach one here (a .vtt, .srt or Whisper .json file), or with the upload.'}
        </p>
        {props.canEdit && (
          <div className="field">
            <label htmlFor="transcript-attach">Attach transcript: .vtt, .srt, Whisper .json</label>
            <input id="transcript-attach" type="file" accept={TRANSCRIPT_ACCEPT} disabled={busy !== null} onChange={(e) => attach(e, false)} />
          </div>
        )}
        {feedback}
      </>
    );
  return (
    <>
      {props.canEdit && (
        <div className="row" style={{ marginBottom: 8 }}>
          <button type="button" className="small" disabled={busy !== null} onClick={() => replaceInput.current?.click()}>
            Replace
          </button>
          <input
            ref={replaceInput}
            type="file"
            accept={TRANSCRIPT_ACCEPT}
            hidden
            aria-label="Replace transcript: .vtt, .srt, Whisper .json"
            onChange={(e) => attach(e, true)}
          />
          <button type="button" className="small danger" disabled={busy !== null} onClick={remove}>
            Delete
          </button>
        </div>
      )}
      {feedback}
      <ol className="transcript-lines" ref={list} aria-label={`Transcript, ${lines.length} lines`} data-testid="transcript-lines">
        {lines.map((line, i) => {
          const speaker = line.speaker ? byId.get(line.speaker.id) : undefined;
          return (
            <li
              key={`${i}-${line.start}`}
              className={`transcript-line${i === active ? ' active' : ''}`}
              aria-current={i === active ? 'true' : undefined}
              data-start={line.start}
              style={{ borderLeftColor: speaker?.color ?? 'transparent' }}
            >
              <button
                type="button"
                className="transcript-play"
                onClick={() => props.onPlay(line.start)}
                aria-label={`Play from ${formatClock(line.start)}: ${speaker?.name ?? 'unattributed'}`}
              >
                {formatClock(line.start)}
              </button>
              <span className="transcript-speaker" style={{ color: speaker?.color }}>
                {speaker?.name ?? '…'}
                {line.overlap ? ' (overlap)' : ''}
              </span>
              <span className="transcript-text">{line.text}</span>
            </li>
          );
        })}
      </ol>
    </>
  );
}
