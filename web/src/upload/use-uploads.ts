'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import type { JobState } from '../gql/graphql';
import { describeError, request } from '../lib/graphql';
import { FINISHED_STATES, watchProgress } from '../lib/live';
import { uploadFile } from '../lib/upload-file';
import { cancelJobOp, createMeetingOp, jobOp, retryJobOp } from './upload.operations';

export type Phase = 'ready' | 'uploading' | 'creating' | 'processing' | 'done' | 'failed' | 'cancelled';

export interface UploadItem {
  key: string;
  file: File;
  /** Optional transcript (VTT, SRT or Whisper JSON) sent beside the recording. */
  transcript?: File;
  title: string;
  tags: string;
  numSpeakers: string;
  minSpeakers: string;
  maxSpeakers: string;
  phase: Phase;
  sent: number;
  total: number;
  uploadId?: string;
  meetingId?: string;
  job?: { id: string; state: JobState; stage: string | null; progress: number; errorMessage: string | null };
  error?: string;
}

export type EditableField = 'title' | 'tags' | 'numSpeakers' | 'minSpeakers' | 'maxSpeakers';

let counter = 0;

function titleFromName(name: string): string {
  return (
    name
      .replace(/\.[^.]+$/, '')
      .replace(/[_-]+/g, ' ')
      .trim() || name
  );
}

function parseCount(value: string, label: string): number | undefined {
  if (!value.trim()) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${label} must be a whole number of at least 1 (got "${value}").`);
  return n;
}

/** Validates one item's form fields into the createMeeting input (without the upload id). */
export function meetingFields(item: UploadItem) {
  const title = item.title.trim();
  if (!title) throw new Error('Give the recording a title.');
  const numSpeakers = parseCount(item.numSpeakers, 'Number of speakers');
  const minSpeakers = numSpeakers ? undefined : parseCount(item.minSpeakers, 'Minimum speakers');
  const maxSpeakers = numSpeakers ? undefined : parseCount(item.maxSpeakers, 'Maximum speakers');
  if (minSpeakers !== undefined && maxSpeakers !== undefined && minSpeakers > maxSpeakers) {
    throw new Error(`Minimum speakers (${minSpeakers}) is more than maximum (${maxSpeakers}).`);
  }
  const tags = item.tags
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return { title, tags, numSpeakers, minSpeakers, maxSpeakers };
}

export function useUploads() {
  const [items, setItems] = useState<UploadItem[]>([]);
  const aborts = useRef(new Map<string, () => void>());
  const watchers = useRef(new Map<string, () => void>());

  useEffect(() => {
    const w = watchers.current;
    return () => {
      for (const stop of w.values()) stop();
    };
  }, []);

  const patch = useCallback((key: string, change: Partial<UploadItem> | ((item: UploadItem) => Partial<UploadItem>)) => {
    setItems((list) => list.map((it) => (it.key === key ? { ...it, ...(typeof change === 'function' ? change(it) : change) } : it)));
  }, []);

  const addFiles = useCallback((files: Iterable<File>) => {
    const added: UploadItem[] = [];
    for (const file of files) {
      added.push({
        key: `u${++counter}`,
        file,
        title: titleFromName(file.name),
        tags: '',
        numSpeakers: '',
        minSpeakers: '',
        maxSpeakers: '',
        phase: 'ready',
        sent: 0,
        total: file.size,
      });
    }
    setItems((list) => [...list, ...added]);
  }, []);

  const watchJob = useCallback(
    (key: string, jobId: string) => {
      watchers.current.get(key)?.();
      const apply = (job: { state: JobState; stage: string | null; progress: number; errorMessage: string | null }) => {
        patch(key, (it) => ({
          job: { id: jobId, state: job.state, stage: job.stage, progress: job.progress, errorMessage: job.errorMessage },
          phase: job.state === 'SUCCEEDED' ? 'done' : job.state === 'FAILED' ? 'failed' : job.state === 'CANCELLED' ? 'cancelled' : it.phase,
          error: job.state === 'FAILED' ? (job.errorMessage ?? 'Processing failed.') : undefined,
        }));
        if (FINISHED_STATES.has(job.state)) {
          watchers.current.get(key)?.();
          watchers.current.delete(key);
        }
      };
      const stop = watchProgress(
        { jobId },
        {
          onEvent: (e) => {
            if (e.jobId === jobId) apply(e);
          },
          poll: async () => {
            const { job } = await request(jobOp, { id: jobId });
            if (!job) return true;
            apply(job);
            return FINISHED_STATES.has(job.state);
          },
        },
      );
      watchers.current.set(key, stop);
    },
    [patch],
  );

  const start = useCallback(
    async (item: UploadItem) => {
      let fields: ReturnType<typeof meetingFields>;
      try {
        fields = meetingFields(item);
      } catch (err) {
        patch(item.key, { error: describeError(err) });
        return;
      }
      patch(item.key, { phase: 'uploading', sent: 0, error: undefined, job: undefined });
      try {
        let uploadId = item.uploadId;
        if (!uploadId) {
          const handle = uploadFile(item.file, (sent, total) => patch(item.key, { sent, total }), item.transcript);
          aborts.current.set(item.key, handle.abort);
          uploadId = await handle.promise;
          aborts.current.delete(item.key);
          patch(item.key, { uploadId, sent: item.file.size });
        }
        patch(item.key, { phase: 'creating' });
        const { createMeeting } = await request(createMeetingOp, { input: { uploadId, ...fields } });
        const job = createMeeting.latestJob;
        patch(item.key, {
          phase: 'processing',
          meetingId: createMeeting.id,
          job: job ? { id: job.id, state: job.state, stage: job.stage, progress: job.progress, errorMessage: job.errorMessage } : undefined,
        });
        if (job) watchJob(item.key, job.id);
      } catch (err) {
        aborts.current.delete(item.key);
        const cancelled = err instanceof Error && 'code' in err && (err as { code: string }).code === 'CANCELLED';
        patch(item.key, { phase: cancelled ? 'cancelled' : 'failed', error: describeError(err) });
      }
    },
    [patch, watchJob],
  );

  const cancel = useCallback(
    async (item: UploadItem) => {
      const abort = aborts.current.get(item.key);
      if (abort) {
        abort();
        return;
      }
      if (item.job) {
        try {
          const { cancelJob } = await request(cancelJobOp, { id: item.job.id });
          patch(item.key, { phase: 'cancelled', job: { ...cancelJob } });
        } catch (err) {
          patch(item.key, { error: describeError(err) });
        }
      }
    },
    [patch],
  );

  const retry = useCallback(
    async (item: UploadItem) => {
      // A failed job is retried on the server; a failed transfer or create starts again here.
      if (item.job && item.meetingId) {
        try {
          const { retryJob } = await request(retryJobOp, { id: item.job.id });
          patch(item.key, { phase: 'processing', error: undefined, job: { ...retryJob } });
          watchJob(item.key, retryJob.id);
        } catch (err) {
          patch(item.key, { error: describeError(err) });
        }
        return;
      }
      await start(item);
    },
    [patch, start, watchJob],
  );

  const remove = useCallback((key: string) => {
    aborts.current.get(key)?.();
    watchers.current.get(key)?.();
    setItems((list) => list.filter((it) => it.key !== key));
  }, []);

  const edit = useCallback((key: string, field: EditableField, value: string) => patch(key, { [field]: value }), [patch]);
  const setTranscript = useCallback((key: string, transcript: File | undefined) => patch(key, { transcript }), [patch]);

  return { items, addFiles, start, cancel, retry, remove, edit, setTranscript };
}
