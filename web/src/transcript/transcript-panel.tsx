'use client';

import { useEffect, useMemo, useRef, useState } from 'react';
import type { MeetingTranscriptQuery } from '../gql/graphql';
import { formatClock } from '../lib/format';
import { describeError, request } from '../lib/graphql';
import { activeLineIndex } from './active-line';
import { meetingTranscriptOp } from './transcript.operations';

type Line = NonNullable<MeetingTranscriptQuery['meeting']>['transcript']['nodes'][number];

/**
 * The speaker-attributed transcript beside the timeline: every line with its speaker's colour and
 * name, the line being played highlighted and kept in view, a click plays from the line.
 * `version` changes after speaker edits, so the lines are read again with their new speakers.
 */
export function TranscriptPanel(props: {
  meetingId: string;
  version: number;
  speakers: { id: string; name: string; color: string }[];
  clock: number;
  onPlay: (time: number) => void;
  onLoaded?: (lineCount: number) => void;
}) {
  const { meetingId, version, onLoaded } = props;
  const [lines, setLines] = useState<Line[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const list = useRef<HTMLOListElement>(null);

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
  }, [meetingId, version, onLoaded]);

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
    return <p className="muted">No transcript. Attach one when uploading (a .vtt, .srt or Whisper .json file), or with attachTranscript.</p>;
  return (
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
  );
}
