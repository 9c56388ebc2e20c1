'use client';

import Link from 'next/link';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { RequireToken } from '../auth/require-token';
import { useSession } from '../auth/token-context';
import type { MeetingTimelineQuery, TurnExportFormat } from '../gql/graphql';
import { formatClock, formatDuration, formatPercent, stageLabel } from '../lib/format';
import { describeError, request } from '../lib/graphql';
import { FINISHED_STATES, watchProgress } from '../lib/live';
import { peopleOp } from '../people/people.operations';
import { buildLanes } from './lanes';
import { speakerColor } from './palette';
import { fetchPeaks, peaksResolution, type Peaks } from './peaks';
import { SpeakerPanel } from './speaker-panel';
import { clampView, TimelineCanvas, zoomView, type SelectedTurn, type View } from './timeline-canvas';
import { exportTurnsOp, meetingTimelineOp, meetingTurnsOp, moveTurnOp } from './timeline.operations';
import { loadAllTurnPages, type TurnNode } from './turn-pages';
import { TurnList, type TurnRow } from './turn-list';
import { TranscriptPanel } from '../transcript/transcript-panel';

type Meeting = NonNullable<MeetingTimelineQuery['meeting']>;

/** `startAt`: seconds to open the meeting at (a search result's `?t=`). */
export function MeetingView({ id, startAt }: { id: string; startAt?: number }) {
  return (
    <RequireToken>
      <MeetingLoader id={id} startAt={startAt} />
    </RequireToken>
  );
}

/** What the timeline shows: the meeting, and its turns as far as they are loaded. */
interface Loaded {
  meeting: Meeting;
  turns: TurnNode[];
  /** False while later pages of a long meeting are still coming. */
  complete: boolean;
}

function MeetingLoader({ id, startAt }: { id: string; startAt?: number }) {
  const [loaded, setLoaded] = useState<Loaded | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const loading = useRef<AbortController | null>(null);

  // The first load draws each page as it arrives; a reload after an edit keeps the old turns on
  // screen until the new ones are all there, so a long meeting does not flicker.
  const load = useCallback(async () => {
    loading.current?.abort();
    const ctrl = new AbortController();
    loading.current = ctrl;
    try {
      const data = await request(meetingTimelineOp, { id }, { signal: ctrl.signal });
      ctrl.signal.throwIfAborted();
      const meeting = data.meeting;
      if (!meeting) return setLoaded(null);
      const more = meeting.turns.pageInfo.hasNextPage;
      setLoaded((prev) => (prev && more && prev.turns.length > 0 ? { ...prev, meeting } : { meeting, turns: meeting.turns.nodes, complete: !more }));
      const turns = await loadAllTurnPages(
        meeting.turns,
        async (after) => {
          const page = await request(meetingTurnsOp, { id, after }, { signal: ctrl.signal });
          if (!page.meeting) throw new Error(`Meeting ${id} was deleted while its turns were loading.`);
          return page.meeting.turns;
        },
        { signal: ctrl.signal, onPage: (sofar) => setLoaded((prev) => (prev && !prev.complete ? { meeting, turns: sofar, complete: false } : prev)) },
      );
      setLoaded({ meeting, turns, complete: true });
      setError(null);
    } catch (err) {
      if (!ctrl.signal.aborted) setError(describeError(err));
    }
  }, [id]);

  useEffect(() => {
    void load();
    return () => loading.current?.abort();
  }, [load]);

  // While the meeting is processing, follow its job and reload when it ends.
  const status = loaded?.meeting.status;
  useEffect(() => {
    if (!status || FINISHED_STATES.has(status)) return;
    return watchProgress(
      { meetingId: id },
      {
        onEvent: (e) => {
          setLoaded((l) =>
            l && l.meeting.latestJob
              ? {
                  ...l,
                  meeting: {
                    ...l.meeting,
                    latestJob: { ...l.meeting.latestJob, state: e.state, stage: e.stage, progress: e.progress, errorMessage: e.errorMessage },
                  },
                }
              : l,
          );
          if (FINISHED_STATES.has(e.state)) void load();
        },
        poll: async () => {
          const data = await request(meetingTimelineOp, { id });
          const finished = !data.meeting || FINISHED_STATES.has(data.meeting.status);
          if (finished) await load();
          else setLoaded((l) => (l && data.meeting ? { ...l, meeting: data.meeting } : l));
          return finished;
        },
      },
    );
  }, [id, status, load]);

  if (error)
    return (
      <p role="alert" className="error">
        {error}
      </p>
    );
  if (loaded === undefined)
    return (
      <p role="status" className="muted">
        Loading meeting…
      </p>
    );
  if (loaded === null)
    return (
      <p role="alert" className="error">
        No meeting with id {id}. <Link href="/meetings">Back to the list</Link>.
      </p>
    );
  return <MeetingTimeline meeting={loaded.meeting} turnNodes={loaded.turns} complete={loaded.complete} reload={load} startAt={startAt} />;
}

function MeetingTimeline({
  meeting,
  turnNodes,
  complete,
  reload,
  startAt,
}: {
  meeting: Meeting;
  turnNodes: TurnNode[];
  complete: boolean;
  reload: () => Promise<void>;
  startAt?: number;
}) {
  const { isAdmin } = useSession();
  const audio = useRef<HTMLAudioElement>(null);
  const duration = meeting.durationSeconds;
  const [view, setView] = useState<View>({ start: 0, span: duration || 1 });
  const [peaks, setPeaks] = useState<Peaks | null>(null);
  const [peaksError, setPeaksError] = useState<string | null>(null);
  const [selected, setSelected] = useState<SelectedTurn | null>(null);
  const [clock, setClock] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [people, setPeople] = useState<{ id: string; name: string }[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  // Bumped by speaker edits: the transcript is read again with its new speakers.
  const [edits, setEdits] = useState(0);
  const [transcriptLines, setTranscriptLines] = useState(0);

  const lanes = useMemo(() => buildLanes(meeting.speakers, turnNodes, speakerColor), [meeting.speakers, turnNodes]);
  const turns = useMemo<TurnRow[]>(
    () => turnNodes.map((t) => ({ id: t.id, start: t.start, end: t.end, speakerId: t.speaker.id })).sort((a, b) => a.start - b.start),
    [turnNodes],
  );
  const speakerNames = useMemo(
    () => meeting.speakers.map((s) => ({ id: s.id, name: s.person?.name ?? s.label, color: speakerColor(s.colorIndex) })),
    [meeting],
  );

  useEffect(() => setView((v) => clampView(v.span > 1 || !duration ? v : { start: 0, span: duration }, duration)), [duration]);

  useEffect(() => {
    if (!duration || meeting.status !== 'SUCCEEDED' || !meeting.peaksUrl) return;
    const ctrl = new AbortController();
    fetchPeaks(meeting.id, peaksResolution(duration), ctrl.signal)
      .then(setPeaks)
      .catch((err) => {
        if (!ctrl.signal.aborted) setPeaksError(`Waveform unavailable: ${describeError(err)}`);
      });
    return () => ctrl.abort();
  }, [meeting.id, meeting.status, meeting.peaksUrl, duration]);

  const loadPeople = useCallback(() => {
    request(peopleOp, {})
      .then((d) => setPeople(d.people.map((p) => ({ id: p.id, name: p.name }))))
      .catch(() => setPeople([]));
  }, []);
  useEffect(loadPeople, [loadPeople]);

  const seek = useCallback(
    (t: number) => {
      const el = audio.current;
      if (!el) return;
      el.currentTime = t;
      setClock(t);
      // Keep the playhead in view.
      setView((v) => (t < v.start || t > v.start + v.span ? clampView({ start: t - v.span * 0.1, span: v.span }, duration) : v));
    },
    [duration],
  );

  // Opened from a search result: start at that moment (once the audio knows its length).
  const openedAt = useRef(false);
  useEffect(() => {
    const el = audio.current;
    if (openedAt.current || startAt === undefined || !Number.isFinite(startAt) || !el) return;
    openedAt.current = true;
    const t = Math.max(0, Math.min(startAt, duration || startAt));
    setClock(t);
    setView((v) => clampView({ start: t - v.span * 0.1, span: v.span }, duration));
    if (el.readyState >= 1) el.currentTime = t;
    else el.addEventListener('loadedmetadata', () => (el.currentTime = t), { once: true });
  }, [startAt, duration]);

  const togglePlay = useCallback(() => {
    const el = audio.current;
    if (!el) return;
    if (el.paused) el.play().catch((err) => setActionError(`Cannot play: ${describeError(err)}`));
    else el.pause();
  }, []);

  const playFrom = useCallback(
    (t: number) => {
      seek(t);
      audio.current?.play().catch((err) => setActionError(`Cannot play: ${describeError(err)}`));
    },
    [seek],
  );

  // Follow the playhead while playing: page the view forward when it reaches the right edge.
  useEffect(() => {
    const el = audio.current;
    if (!el) return;
    const onTime = () => {
      setClock(el.currentTime);
      const t = el.currentTime;
      setView((v) => (!el.paused && (t > v.start + v.span || t < v.start) ? clampView({ start: t - v.span * 0.05, span: v.span }, duration) : v));
    };
    const onPlay = () => setPlaying(true);
    const onPause = () => setPlaying(false);
    el.addEventListener('timeupdate', onTime);
    el.addEventListener('play', onPlay);
    el.addEventListener('pause', onPause);
    return () => {
      el.removeEventListener('timeupdate', onTime);
      el.removeEventListener('play', onPlay);
      el.removeEventListener('pause', onPause);
    };
  }, [duration]);

  // Space and arrows work anywhere on the page except in form controls (which need them).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
      if (target && (target.closest('input, select, textarea, button, a, audio, [contenteditable="true"]') || target.closest('.timeline'))) return;
      const now = audio.current?.currentTime ?? 0;
      if (e.key === ' ') togglePlay();
      else if (e.key === 'ArrowLeft') seek(Math.max(0, now - (e.shiftKey ? 30 : 5)));
      else if (e.key === 'ArrowRight') seek(Math.min(duration, now + (e.shiftKey ? 30 : 5)));
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [togglePlay, seek, duration]);

  const onChanged = useCallback(
    (msg: string) => {
      setMessage(msg);
      setActionError(null);
      setSelected(null);
      setEdits((n) => n + 1);
      void reload();
      loadPeople();
    },
    [reload, loadPeople],
  );

  const moveTurn = async (turn: TurnRow, toSpeakerId: string) => {
    try {
      await request(moveTurnOp, { turnId: turn.id, toSpeakerId });
      onChanged(`Turn at ${formatClock(turn.start)} moved to ${speakerNames.find((s) => s.id === toSpeakerId)?.name}.`);
    } catch (err) {
      setActionError(describeError(err));
    }
  };

  const download = async (format: TurnExportFormat) => {
    try {
      const data = await request(exportTurnsOp, { id: meeting.id, format });
      const text = data.meeting?.export ?? '';
      const type = format === 'JSON' ? 'application/json' : format === 'CSV' ? 'text/csv' : 'text/plain';
      const url = URL.createObjectURL(new Blob([text], { type }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `${meeting.title.replace(/[^\w.-]+/g, '_')}.${format.toLowerCase()}`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (err) {
      setActionError(describeError(err));
    }
  };

  const selectedTurn = selected ? lanes[selected.laneIndex] : null;
  const activeTurnId = selectedTurn && selected ? selectedTurn.ids[selected.index] : null;
  const job = meeting.latestJob;
  const ready = meeting.status === 'SUCCEEDED';

  return (
    <>
      <p style={{ margin: 0 }}>
        <Link href="/meetings">← Meetings</Link>
      </p>
      <h1>{meeting.title}</h1>
      <p className="muted">
        <span className={`badge ${meeting.status}`} data-testid="meeting-status">
          {meeting.status.toLowerCase()}
        </span>{' '}
        · {formatDuration(duration)} · {meeting.speakers.length} speakers ·{' '}
        <span data-testid="turn-count">{meeting.turns.totalCount.toLocaleString('en')}</span> turns{meeting.tags.length ? ` · ${meeting.tags.join(', ')}` : ''}
      </p>
      {!ready && job && (
        <div className="card" aria-live="polite">
          <label htmlFor="meeting-job">
            {job.state === 'FAILED'
              ? `Processing failed: ${job.errorMessage ?? 'unknown reason'}`
              : `${stageLabel(job.stage) || 'Queued'} ${formatPercent(job.progress)}`}
          </label>
          <progress id="meeting-job" max={1} value={job.progress} />
        </div>
      )}

      {!complete && (
        <div className="card" aria-live="polite" data-testid="turns-loading">
          <label htmlFor="turns-progress">
            Loading turns: {turnNodes.length.toLocaleString('en')} of {meeting.turns.totalCount.toLocaleString('en')}
          </label>
          <progress id="turns-progress" max={Math.max(1, meeting.turns.totalCount)} value={turnNodes.length} />
        </div>
      )}

      <div className="timeline-controls">
        <button type="button" className="primary" onClick={togglePlay} aria-pressed={playing} disabled={!ready || !meeting.audioUrl}>
          {playing ? 'Pause' : 'Play'}
        </button>
        <output aria-live="off" data-testid="clock" data-time={clock.toFixed(2)}>
          {formatClock(clock)} / {formatClock(duration)}
        </output>
        <button
          type="button"
          onClick={() => setView(zoomView(view, 0.5, clock >= view.start && clock <= view.start + view.span ? clock : view.start + view.span / 2, duration))}
        >
          Zoom in
        </button>
        <button type="button" onClick={() => setView(zoomView(view, 2, view.start + view.span / 2, duration))}>
          Zoom out
        </button>
        <button type="button" onClick={() => setView({ start: 0, span: duration })}>
          Whole meeting
        </button>
        <label htmlFor="scroll" className="sr-only">
          Scroll the timeline
        </label>
        <input
          id="scroll"
          type="range"
          min={0}
          max={Math.max(0, duration - view.span)}
          step={Math.max(0.01, view.span / 100)}
          value={view.start}
          disabled={view.span >= duration}
          onChange={(e) => setView(clampView({ start: Number(e.target.value), span: view.span }, duration))}
          style={{ flex: '1 1 160px' }}
        />
      </div>
      {ready && (
        <TimelineCanvas
          duration={duration}
          lanes={lanes}
          peaks={peaks}
          audio={audio}
          view={view}
          onViewChange={setView}
          selected={selected}
          onTurnClick={(turn) => {
            setSelected(turn);
            playFrom(lanes[turn.laneIndex].starts[turn.index]);
          }}
          onSeek={seek}
          onTogglePlay={togglePlay}
        />
      )}
      <p className="muted" style={{ fontSize: '0.85em' }}>
        Click a turn to play it; drag to scroll; Ctrl + wheel to zoom. Keys: Space play/pause, ←/→ seek 5 s (Shift: 30 s), +/− zoom.
      </p>
      {peaksError && <p className="muted">{peaksError}</p>}
      {ready && !meeting.audioUrl && (
        <p className="muted">
          This meeting has no playable audio on the server, so there is no waveform or playback; its turns can still be edited and exported.
        </p>
      )}
      <div className="timeline-controls" hidden={!meeting.audioUrl}>
        {/* Always mounted (the listeners above attach once); the source comes when the audio exists. */}
        <audio
          ref={audio}
          controls
          preload="metadata"
          src={meeting.audioUrl ? `/api/media/${encodeURIComponent(meeting.id)}/audio` : undefined}
          data-testid="audio"
        >
          Your browser cannot play this audio.
        </audio>
      </div>
      <div aria-live="polite">
        {message && (
          <p className="ok" data-testid="action-message">
            {message}
          </p>
        )}
        {actionError && (
          <p role="alert" className="error">
            {actionError}
          </p>
        )}
      </div>

      <section className="card" aria-labelledby="transcript-heading" data-testid="transcript-panel">
        <h2 id="transcript-heading" style={{ marginTop: 0 }}>
          Transcript
        </h2>
        <TranscriptPanel
          meetingId={meeting.id}
          version={edits + (ready ? 1000 : 0)}
          speakers={speakerNames}
          clock={clock}
          onPlay={playFrom}
          onLoaded={setTranscriptLines}
          canEdit={isAdmin}
        />
      </section>

      <div className="two-col">
        <div>
          <SpeakerPanel meetingId={meeting.id} speakers={meeting.speakers} people={people} canEdit={isAdmin} onChanged={onChanged} />
        </div>
        <div>
          <section className="card" aria-labelledby="turns-heading">
            <h2 id="turns-heading" style={{ marginTop: 0 }}>
              Turns
            </h2>
            <TurnList
              turns={turns}
              speakers={speakerNames}
              canEdit={isAdmin}
              activeId={activeTurnId}
              onPlay={(t) => playFrom(t.start)}
              onMove={(t, to) => void moveTurn(t, to)}
            />
          </section>
          <section className="card" aria-labelledby="export-heading">
            <h2 id="export-heading" style={{ marginTop: 0 }}>
              Export turns
            </h2>
            <div className="row">
              {(transcriptLines > 0 ? (['RTTM', 'JSON', 'CSV', 'VTT', 'SRT', 'TXT'] as const) : (['RTTM', 'JSON', 'CSV'] as const)).map((f) => (
                <button key={f} type="button" onClick={() => void download(f)}>
                  {f}
                </button>
              ))}
            </div>
          </section>
        </div>
      </div>
    </>
  );
}
