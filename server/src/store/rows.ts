/**
 * Table rows as the database returns them, and the one place where rows become records.
 *
 * Both dialects store the same shapes: ids and ISO instants as text, media times as doubles,
 * embeddings as little-endian float32 blobs, metadata and tags as JSON text. `*_key` columns hold
 * the lower-cased title/name that case-insensitive search and ordering use (JS lower-casing, so
 * SQLite, whose lower() is ASCII-only, and PostgreSQL agree).
 */
import type { ColumnType, Generated, Selectable } from 'kysely';

import { AppError } from '../common/errors';
import type { TranscriptCue, TranscriptFormat, TranscriptWord } from '../transcripts/types';
import type {
  ApiTokenRecord,
  BatchNote,
  BatchRecord,
  EnrollmentRecord,
  JobKind,
  JobRecord,
  JobState,
  MeetingRecord,
  MeetingSpeakerRecord,
  PersonRecord,
  TokenScope,
  TranscriptRecord,
  TranscriptSegmentRecord,
  TurnRecord,
  UploadRecord,
  WebhookDeliveryRecord,
  WebhookDeliveryStatus,
} from './types';

/** PostgreSQL returns BIGINT as a string, SQLite as a number. */
type BigIntColumn = ColumnType<number | string, number, number>;

export interface UploadsTable {
  id: string;
  original_name: string;
  path: string;
  bytes: BigIntColumn;
  format: string;
  duration_sec: number;
  created_at: string;
  /** Set when a transcript file came with the recording (kept under uploads/<id>/transcript). */
  transcript_format: string | null;
}

export interface MeetingsTable {
  id: string;
  title: string;
  title_key: string;
  /** JSON array, read with the row; meeting_tags indexes the same tags for the filter. */
  tags: string;
  upload_id: string;
  audio_path: string;
  playable_path: string | null;
  peaks_path: string | null;
  duration_sec: number;
  num_speakers: number | null;
  min_speakers: number | null;
  max_speakers: number | null;
  latest_job_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface MeetingTagsTable {
  meeting_id: string;
  tag: string;
}

export interface JobsTable {
  id: string;
  kind: JobKind;
  meeting_id: string;
  batch_id: string | null;
  state: JobState;
  stage: string | null;
  progress: number;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface BatchesTable {
  id: string;
  kind: JobKind;
  created_at: string;
}

export interface BatchNotesTable {
  /** Insertion order of the notes. */
  seq: Generated<number>;
  batch_id: string;
  meeting_id: string;
  message: string;
}

export interface MeetingSpeakersTable {
  id: string;
  meeting_id: string;
  label: string;
  display_name: string | null;
  person_id: string | null;
  person_source: 'auto' | 'manual' | null;
  match_score: number | null;
  talk_time_sec: number;
  centroid: Uint8Array;
  model_name: string;
  model_hash: string;
  created_at: string;
}

export interface TurnsTable {
  id: string;
  meeting_id: string;
  speaker_id: string;
  start_sec: number;
  end_sec: number;
}

export interface PeopleTable {
  id: string;
  name: string;
  name_key: string;
  external_id: string | null;
  metadata: string;
  created_at: string;
}

export interface EnrollmentsTable {
  id: string;
  person_id: string;
  source: 'clip' | 'speaker';
  upload_id: string | null;
  meeting_speaker_id: string | null;
  speech_sec: number;
  embedding: Uint8Array;
  model_name: string;
  model_hash: string;
  created_at: string;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  token_hash: string;
  scope: TokenScope;
  webhook_url: string | null;
  webhook_secret: string | null;
  created_at: string;
  revoked_at: string | null;
}

export interface WebhookDeliveriesTable {
  id: string;
  token_id: string;
  job_id: string;
  event: string;
  url: string;
  attempts: number;
  status: WebhookDeliveryStatus;
  status_code: number | null;
  reason: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface TranscriptsTable {
  meeting_id: string;
  format: string;
  /** JSON array of the imported cues (TranscriptCue[]), sorted by start. */
  cues: string;
  cue_count: number;
  word_count: number;
  created_at: string;
  aligned_at: string;
}

/** PostgreSQL adds a generated `search` tsvector column (never selected, so not typed here). */
export interface TranscriptSegmentsTable {
  id: Generated<number | string>;
  meeting_id: string;
  position: number;
  start_sec: number;
  end_sec: number;
  text: string;
  speaker_id: string | null;
  /** 0/1: SQLite has no boolean. */
  overlap: number;
  /** JSON array of TranscriptWord, or null when the file had no word times. */
  words: string | null;
  word_count: number;
}

/** SQLite only: the FTS5 index over transcript_segments.text (the hidden column named like the table takes MATCH). */
export interface TranscriptFtsTable {
  rowid: number;
  text: string;
  transcript_fts: string;
}

export interface Database {
  uploads: UploadsTable;
  meetings: MeetingsTable;
  meeting_tags: MeetingTagsTable;
  jobs: JobsTable;
  batches: BatchesTable;
  batch_notes: BatchNotesTable;
  meeting_speakers: MeetingSpeakersTable;
  turns: TurnsTable;
  people: PeopleTable;
  enrollments: EnrollmentsTable;
  api_tokens: ApiTokensTable;
  webhook_deliveries: WebhookDeliveriesTable;
  transcripts: TranscriptsTable;
  transcript_segments: TranscriptSegmentsTable;
  transcript_fts: TranscriptFtsTable;
}

/** The key that case-insensitive search and ordering use. */
export function foldCase(text: string): string {
  return text.toLowerCase();
}

/** Explicit little-endian, so the blobs read the same on any host. */
export function encodeVector(vector: Float32Array): Buffer {
  const out = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) out.writeFloatLE(vector[i], i * 4);
  return out;
}

export function decodeVector(blob: Uint8Array): Float32Array {
  if (blob.byteLength % 4 !== 0) {
    throw new AppError(
      'INTERNAL',
      `A stored embedding has ${blob.byteLength} bytes, not a multiple of 4 (float32); the row is corrupt. Re-enroll or reprocess it.`,
    );
  }
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const out = new Float32Array(blob.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Unique tags in their first-seen order. */
export function uniqueTags(tags: readonly string[]): string[] {
  return [...new Set(tags)];
}

function opt<T>(value: T | null): T | undefined {
  return value ?? undefined;
}

export function toUpload(row: Selectable<UploadsTable>): UploadRecord {
  return {
    id: row.id,
    originalName: row.original_name,
    path: row.path,
    bytes: Number(row.bytes),
    format: row.format,
    durationSec: row.duration_sec,
    createdAt: row.created_at,
    ...(row.transcript_format ? { transcriptFormat: row.transcript_format as TranscriptFormat } : {}),
  };
}

export function toMeeting(row: Selectable<MeetingsTable>): MeetingRecord {
  return {
    id: row.id,
    title: row.title,
    tags: JSON.parse(row.tags) as string[],
    uploadId: row.upload_id,
    audioPath: row.audio_path,
    playablePath: opt(row.playable_path),
    peaksPath: opt(row.peaks_path),
    durationSec: row.duration_sec,
    numSpeakers: opt(row.num_speakers),
    minSpeakers: opt(row.min_speakers),
    maxSpeakers: opt(row.max_speakers),
    latestJobId: opt(row.latest_job_id),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toJob(row: Selectable<JobsTable>): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    meetingId: row.meeting_id,
    batchId: opt(row.batch_id),
    state: row.state,
    stage: opt(row.stage),
    progress: row.progress,
    errorCode: opt(row.error_code),
    errorMessage: opt(row.error_message),
    attempts: row.attempts,
    createdAt: row.created_at,
    startedAt: opt(row.started_at),
    finishedAt: opt(row.finished_at),
  };
}

export function toBatch(row: Selectable<BatchesTable>, notes: BatchNote[]): BatchRecord {
  return { id: row.id, kind: row.kind, createdAt: row.created_at, notes };
}

export function toSpeaker(row: Selectable<MeetingSpeakersTable>): MeetingSpeakerRecord {
  return {
    id: row.id,
    meetingId: row.meeting_id,
    label: row.label,
    displayName: opt(row.display_name),
    personId: opt(row.person_id),
    personSource: opt(row.person_source),
    matchScore: opt(row.match_score),
    talkTimeSec: row.talk_time_sec,
    centroid: decodeVector(row.centroid),
    modelName: row.model_name,
    modelHash: row.model_hash,
    createdAt: row.created_at,
  };
}

export function toTurn(row: Selectable<TurnsTable>): TurnRecord {
  return { id: row.id, meetingId: row.meeting_id, speakerId: row.speaker_id, startSec: row.start_sec, endSec: row.end_sec };
}

export function toPerson(row: Selectable<PeopleTable>): PersonRecord {
  return {
    id: row.id,
    name: row.name,
    externalId: opt(row.external_id),
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    createdAt: row.created_at,
  };
}

export function toEnrollment(row: Selectable<EnrollmentsTable>): EnrollmentRecord {
  return {
    id: row.id,
    personId: row.person_id,
    source: row.source,
    uploadId: opt(row.upload_id),
    meetingSpeakerId: opt(row.meeting_speaker_id),
    speechSec: row.speech_sec,
    embedding: decodeVector(row.embedding),
    modelName: row.model_name,
    modelHash: row.model_hash,
    createdAt: row.created_at,
  };
}

export function toToken(row: Selectable<ApiTokensTable>): ApiTokenRecord {
  return {
    id: row.id,
    name: row.name,
    tokenHash: row.token_hash,
    scope: row.scope,
    webhookUrl: opt(row.webhook_url),
    webhookSecret: opt(row.webhook_secret),
    createdAt: row.created_at,
    revokedAt: opt(row.revoked_at),
  };
}

export function toWebhookDelivery(row: Selectable<WebhookDeliveriesTable>): WebhookDeliveryRecord {
  return {
    id: row.id,
    tokenId: row.token_id,
    jobId: row.job_id,
    event: row.event,
    url: row.url,
    attempts: row.attempts,
    status: row.status,
    statusCode: opt(row.status_code),
    reason: opt(row.reason),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: opt(row.finished_at),
  };
}

export function toTranscript(row: Omit<Selectable<TranscriptsTable>, 'cues'>): TranscriptRecord {
  return {
    meetingId: row.meeting_id,
    format: row.format as TranscriptFormat,
    cueCount: row.cue_count,
    wordCount: row.word_count,
    createdAt: row.created_at,
    alignedAt: row.aligned_at,
  };
}

export function decodeCues(json: string): TranscriptCue[] {
  return JSON.parse(json) as TranscriptCue[];
}

export function toTranscriptSegment(row: Selectable<TranscriptSegmentsTable>): TranscriptSegmentRecord {
  return {
    meetingId: row.meeting_id,
    position: row.position,
    startSec: row.start_sec,
    endSec: row.end_sec,
    text: row.text,
    ...(row.speaker_id ? { speakerId: row.speaker_id } : {}),
    overlap: Boolean(row.overlap),
    ...(row.words ? { words: JSON.parse(row.words) as TranscriptWord[] } : {}),
    wordCount: row.word_count,
  };
}
