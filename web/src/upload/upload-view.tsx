'use client';

import Link from 'next/link';
import { useRef, useState, type DragEvent } from 'react';
import { RequireToken } from '../auth/require-token';
import { formatBytes, formatPercent, stageLabel } from '../lib/format';
import { useUploadsContext } from './uploads-context';
import type { EditableField, UploadItem } from './use-uploads';

export function UploadView() {
  return (
    <RequireToken admin>
      <Uploader />
    </RequireToken>
  );
}

function Uploader() {
  const { items, addFiles, start, cancel, retry, remove, edit, setTranscript } = useUploadsContext();
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    addFiles(Array.from(e.dataTransfer.files));
  };
  const ready = items.filter((it) => it.phase === 'ready');

  return (
    <>
      <h1>Upload recordings</h1>
      <section className="card">
        <div
          className={`dropzone${over ? ' over' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={onDrop}
        >
          <p>Drop audio or video files here, or</p>
          <button type="button" className="primary" onClick={() => input.current?.click()}>
            Choose files…
          </button>
          <label htmlFor="file-input" className="sr-only">
            Recording files
          </label>
          <input
            id="file-input"
            ref={input}
            type="file"
            multiple
            accept="audio/*,video/*,.wav,.mp3,.m4a,.flac,.ogg,.opus,.webm,.mp4"
            hidden
            onChange={(e) => {
              if (e.target.files) addFiles(Array.from(e.target.files));
              e.target.value = '';
            }}
          />
          <p className="muted">Per file: a title, tags (comma separated) and, when you know it, the number of speakers or a range.</p>
        </div>
      </section>

      {items.length > 0 && (
        <section className="card" aria-label="Files to upload">
          <div className="row" style={{ justifyContent: 'space-between' }}>
            <h2 style={{ margin: 0 }}>Files ({items.length})</h2>
            {ready.length > 1 && (
              <button type="button" className="primary" onClick={() => ready.forEach((it) => void start(it))}>
                Upload all {ready.length}
              </button>
            )}
          </div>
          <ul style={{ listStyle: 'none', padding: 0, margin: 0 }}>
            {items.map((item) => (
              <UploadRow
                key={item.key}
                item={item}
                onEdit={(field, value) => edit(item.key, field, value)}
                onTranscript={(file) => setTranscript(item.key, file)}
                onStart={() => void start(item)}
                onCancel={() => void cancel(item)}
                onRetry={() => void retry(item)}
                onRemove={() => remove(item.key)}
              />
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

function UploadRow(props: {
  item: UploadItem;
  onEdit: (field: EditableField, value: string) => void;
  onTranscript: (file: File | undefined) => void;
  onStart: () => void;
  onCancel: () => void;
  onRetry: () => void;
  onRemove: () => void;
}) {
  const { item } = props;
  const id = (field: string) => `${item.key}-${field}`;
  const editable = item.phase === 'ready' || (item.phase === 'failed' && !item.meetingId);
  const exact = item.numSpeakers.trim() !== '';
  return (
    <li className="upload-item" data-testid="upload-item" data-phase={item.phase}>
      <p style={{ margin: '0 0 6px' }}>
        <strong>{item.file.name}</strong> <span className="muted">{formatBytes(item.file.size)}</span>
      </p>
      <div className="upload-grid">
        <div className="field wide">
          <label htmlFor={id('title')}>Title</label>
          <input id={id('title')} value={item.title} disabled={!editable} onChange={(e) => props.onEdit('title', e.target.value)} />
        </div>
        <div className="field wide">
          <label htmlFor={id('tags')}>Tags</label>
          <input id={id('tags')} value={item.tags} placeholder="sales, weekly" disabled={!editable} onChange={(e) => props.onEdit('tags', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={id('num')}>Speakers</label>
          <input
            id={id('num')}
            type="number"
            min={1}
            inputMode="numeric"
            placeholder="auto"
            value={item.numSpeakers}
            disabled={!editable}
            onChange={(e) => props.onEdit('numSpeakers', e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={id('min')}>Min</label>
          <input
            id={id('min')}
            type="number"
            min={1}
            inputMode="numeric"
            value={item.minSpeakers}
            disabled={!editable || exact}
            onChange={(e) => props.onEdit('minSpeakers', e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={id('max')}>Max</label>
          <input
            id={id('max')}
            type="number"
            min={1}
            inputMode="numeric"
            value={item.maxSpeakers}
            disabled={!editable || exact}
            onChange={(e) => props.onEdit('maxSpeakers', e.target.value)}
          />
        </div>
        <div className="field wide">
          <label htmlFor={id('transcript')}>Transcript (optional: .vtt, .srt, Whisper .json)</label>
          <input
            id={id('transcript')}
            type="file"
            accept=".vtt,.srt,.json,text/vtt,application/json"
            disabled={!editable}
            onChange={(e) => props.onTranscript(e.target.files?.[0] ?? undefined)}
          />
        </div>
      </div>
      <ItemStatus item={item} />
      <div className="row" style={{ marginTop: 6 }}>
        {item.phase === 'ready' && (
          <button type="button" className="primary" onClick={props.onStart}>
            Upload
          </button>
        )}
        {(item.phase === 'uploading' || item.phase === 'processing') && (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
        {(item.phase === 'failed' || item.phase === 'cancelled') && (
          <button type="button" onClick={props.onRetry}>
            Retry
          </button>
        )}
        {item.meetingId && item.phase === 'done' && (
          <Link className="button primary" href={`/meetings/${item.meetingId}`}>
            Open timeline
          </Link>
        )}
        {item.phase !== 'uploading' && item.phase !== 'processing' && item.phase !== 'creating' && (
          <button type="button" className="danger" onClick={props.onRemove}>
            Remove from list
          </button>
        )}
      </div>
    </li>
  );
}

function ItemStatus({ item }: { item: UploadItem }) {
  const transfer = item.total ? item.sent / item.total : 0;
  return (
    <div aria-live="polite" style={{ marginTop: 8 }}>
      {item.phase === 'uploading' && (
        <>
          <label htmlFor={`${item.key}-transfer`}>
            Uploading {formatPercent(transfer)} ({formatBytes(item.sent)} of {formatBytes(item.total)})
          </label>
          <progress id={`${item.key}-transfer`} max={1} value={transfer} />
        </>
      )}
      {item.phase === 'creating' && <p className="muted">Uploaded; registering the meeting…</p>}
      {item.job && (item.phase === 'processing' || item.phase === 'done') && (
        <>
          <label htmlFor={`${item.key}-job`} data-testid="job-status">
            <span className={`badge ${item.job.state}`}>{item.job.state.toLowerCase()}</span>{' '}
            {item.job.state === 'SUCCEEDED' ? 'Diarization finished' : stageLabel(item.job.stage) || 'Waiting for a worker'}{' '}
            {item.job.state === 'RUNNING' && formatPercent(item.job.progress)}
          </label>
          <progress id={`${item.key}-job`} max={1} value={item.job.state === 'SUCCEEDED' ? 1 : item.job.progress} />
        </>
      )}
      {item.phase === 'cancelled' && <p className="muted">Cancelled.</p>}
      {item.error && (
        <p role="alert" className="error">
          {item.error}
        </p>
      )}
    </div>
  );
}
