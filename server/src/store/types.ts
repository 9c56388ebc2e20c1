/**
 * The platform's records and the one repository interface every backend implements.
 *
 * The embedded default is a SQLite file; PostgreSQL is the scale-out store. Both run the same
 * Kysely code (store/kysely-store.ts); nothing outside store/ writes SQL. Times are seconds
 * (floats) for media positions and ISO-8601 strings for wall-clock instants. Embeddings are
 * Float32Array (stored as little-endian float32 blobs).
 */
import type { TranscriptCue, TranscriptFormat, TranscriptWord } from '../transcripts/types';

export type JobState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export const JOB_STATES: readonly JobState[] = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];

/** `diarize` runs the whole pipeline; `identify` only re-matches stored speakers to enrolled people. */
export type JobKind = 'diarize' | 'identify';

export interface UploadRecord {
  id: string;
  originalName: string;
  /** Relative to DATA_DIR. */
  path: string;
  bytes: number;
  /** Format name from ffprobe (e.g. "mp3", "mov,mp4,m4a,3gp,3g2,mj2"). */
  format: string;
  durationSec: number;
  createdAt: string;
  /** A transcript file came with the recording (blob `uploads/<id>/transcript`), attached when its meeting is made. */
  transcriptFormat?: TranscriptFormat;
}

export interface MeetingRecord {
  id: string;
  title: string;
  tags: string[];
  uploadId: string;
  /** Original recording, relative to DATA_DIR. */
  audioPath: string;
  /** Browser-playable copy (Opus in WebM), relative to DATA_DIR; undefined until ingest made it. */
  playablePath?: string;
  /** Waveform peaks (min/max int8 pairs per 10 ms), relative to DATA_DIR. */
  peaksPath?: string;
  durationSec: number;
  numSpeakers?: number;
  minSpeakers?: number;
  maxSpeakers?: number;
  /** The latest job's id: the meeting's status is that job's state. */
  latestJobId?: string;
  createdAt: string;
  updatedAt: string;
}

export type MeetingInsert = Omit<MeetingRecord, 'latestJobId' | 'createdAt' | 'updatedAt'>;

export interface JobRecord {
  id: string;
  kind: JobKind;
  meetingId: string;
  batchId?: string;
  state: JobState;
  /** Current pipeline stage while RUNNING (decode, segmentation, …). */
  stage?: string;
  /** Overall fraction done, 0..1. */
  progress: number;
  /** Actionable reason when FAILED. */
  errorCode?: string;
  errorMessage?: string;
  attempts: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface BatchRecord {
  id: string;
  kind: JobKind;
  createdAt: string;
  /** Per-meeting notes from carrying manual work over (what could not be carried). */
  notes: BatchNote[];
}

export interface BatchNote {
  meetingId: string;
  message: string;
}

export interface MeetingSpeakerRecord {
  id: string;
  meetingId: string;
  /** Engine label (SPEAKER_00, …) of the run that produced it. */
  label: string;
  /** Name given by a person (rename); undefined = anonymous. */
  displayName?: string;
  personId?: string;
  /** How personId was set: by identification, or by a person (never overwritten automatically). */
  personSource?: 'auto' | 'manual';
  /** Cosine similarity of the identification match. */
  matchScore?: number;
  talkTimeSec: number;
  /** [dim] L2-normalised centroid of the speaker's speech. */
  centroid: Float32Array;
  modelName: string;
  modelHash: string;
  createdAt: string;
}

export type MeetingSpeakerInsert = Omit<MeetingSpeakerRecord, 'createdAt'>;

export interface TurnRecord {
  id: string;
  meetingId: string;
  speakerId: string;
  startSec: number;
  endSec: number;
}

export type TurnInsert = Omit<TurnRecord, 'id'> & { id?: string };

export interface PersonRecord {
  id: string;
  name: string;
  externalId?: string;
  metadata: Record<string, unknown>;
  createdAt: string;
}

export interface EnrollmentRecord {
  id: string;
  personId: string;
  /** Where the voice came from. */
  source: 'clip' | 'speaker';
  uploadId?: string;
  meetingSpeakerId?: string;
  /** Seconds of speech the embedding was computed from. */
  speechSec: number;
  /** [dim] L2-normalised. */
  embedding: Float32Array;
  modelName: string;
  modelHash: string;
  createdAt: string;
}

export type EnrollmentInsert = Omit<EnrollmentRecord, 'createdAt'>;

export type TokenScope = 'read' | 'admin';

export interface ApiTokenRecord {
  id: string;
  name: string;
  /** sha256 of the secret; the secret itself is shown once and never stored. */
  tokenHash: string;
  scope: TokenScope;
  webhookUrl?: string;
  /** HMAC key for signing webhook calls (shown once, with the token). */
  webhookSecret?: string;
  createdAt: string;
  revokedAt?: string;
}

/** PENDING while attempts remain; REFUSED: the address policy stopped it before any connection. */
export type WebhookDeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED' | 'REFUSED';

export interface WebhookDeliveryRecord {
  id: string;
  tokenId: string;
  jobId: string;
  event: string;
  /** Without user name or password (the signing secret is never part of it). */
  url: string;
  attempts: number;
  status: WebhookDeliveryStatus;
  /** The receiver's HTTP status at the last attempt, when it answered. */
  statusCode?: number;
  /** Why the last attempt did not deliver. */
  reason?: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
}

export interface WebhookDeliveryUpdate {
  attempts?: number;
  status?: WebhookDeliveryStatus;
  statusCode?: number | null;
  reason?: string | null;
  finished?: boolean;
}

/** A meeting's current transcript (the cues themselves are read with transcriptCues). */
export interface TranscriptRecord {
  meetingId: string;
  format: TranscriptFormat;
  cueCount: number;
  wordCount: number;
  createdAt: string;
  /** When the segments were last attributed to the meeting's speakers. */
  alignedAt: string;
}

/** One attributed line: a cue, or the part of one where its words change speaker. */
export interface TranscriptSegmentRecord {
  meetingId: string;
  /** 0-based order in the transcript. */
  position: number;
  startSec: number;
  endSec: number;
  text: string;
  /** Absent only while the meeting has no speakers (not diarized yet). */
  speakerId?: string;
  overlap: boolean;
  words?: TranscriptWord[];
  wordCount: number;
}

export type TranscriptSegmentInsert = Omit<TranscriptSegmentRecord, 'meetingId' | 'position' | 'wordCount'>;

export interface TranscriptSearch {
  /** Words must all occur in the segment; "double-quoted" parts as a phrase. */
  text: string;
  filter: MeetingFilter;
  personId?: string;
  speakerId?: string;
}

export interface TranscriptHit {
  meetingId: string;
  speakerId?: string;
  position: number;
  startSec: number;
  endSec: number;
  /** The segment's text around the match, matched words between <mark> and </mark> (plain text, not HTML-escaped). */
  snippet: string;
}

export interface MeetingFilter {
  /** Case-insensitive substring of the title. */
  text?: string;
  tag?: string;
  personId?: string;
  createdFrom?: string;
  createdTo?: string;
  ids?: string[];
}

export type MeetingOrderField = 'createdAt' | 'title' | 'durationSec';
export interface MeetingOrder {
  field: MeetingOrderField;
  direction: 'ASC' | 'DESC';
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor of the last item, for `after`. */
  endCursor?: string;
  hasNextPage: boolean;
  totalCount: number;
}

export interface JobUpdate {
  state?: JobState;
  stage?: string | null;
  progress?: number;
  errorCode?: string | null;
  errorMessage?: string | null;
  attempts?: number;
  startedAt?: string | null;
  finishedAt?: string | null;
}

/** The result of one diarization run, replacing a meeting's speakers and turns atomically. */
export interface DiarizationWrite {
  meetingId: string;
  durationSec: number;
  speakers: MeetingSpeakerInsert[];
  /** speakerId refers to speakers[].id. */
  turns: TurnInsert[];
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Creates tables that are missing (idempotent). */
  migrate(): Promise<void>;
  /** Round trip to the database, for /healthz. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Runs `fn` in one transaction; a throw rolls everything back. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;

  // uploads
  insertUpload(upload: UploadRecord): Promise<void>;
  getUpload(id: string): Promise<UploadRecord | undefined>;
  deleteUpload(id: string): Promise<void>;
  /** Uploads created before `createdBefore` (ISO) that no meeting and no enrollment uses (the upload sweep). */
  unreferencedUploads(createdBefore: string, limit: number): Promise<UploadRecord[]>;
  /** Deletes the upload only if nothing uses it at that moment; true when it was deleted. */
  deleteUploadIfUnreferenced(id: string): Promise<boolean>;
  /** Which of `ids` have an uploads row. */
  existingUploadIds(ids: readonly string[]): Promise<Set<string>>;

  // meetings
  insertMeeting(meeting: MeetingInsert): Promise<MeetingRecord>;
  getMeeting(id: string): Promise<MeetingRecord | undefined>;
  getMeetings(ids: readonly string[]): Promise<MeetingRecord[]>;
  /** The meeting made from an upload, if any (an upload backs at most one meeting). */
  meetingOfUpload(uploadId: string): Promise<MeetingRecord | undefined>;
  updateMeeting(
    id: string,
    patch: Partial<
      Pick<MeetingRecord, 'title' | 'tags' | 'playablePath' | 'peaksPath' | 'durationSec' | 'latestJobId' | 'numSpeakers' | 'minSpeakers' | 'maxSpeakers'>
    >,
  ): Promise<void>;
  listMeetings(filter: MeetingFilter, order: MeetingOrder, first: number, after?: string): Promise<Page<MeetingRecord>>;
  /** Every distinct tag in use, sorted. */
  allTags(): Promise<string[]>;
  /** Every meeting id matching the filter (batch reprocessing, aggregate analytics). */
  meetingIds(filter: MeetingFilter): Promise<string[]>;
  /** Deletes the meeting with its jobs, speakers, turns and transcript (search entries too); returns it (for file cleanup) or undefined. */
  deleteMeeting(id: string): Promise<MeetingRecord | undefined>;

  // jobs and batches
  insertJob(job: Pick<JobRecord, 'id' | 'kind' | 'meetingId' | 'batchId'>): Promise<JobRecord>;
  getJob(id: string): Promise<JobRecord | undefined>;
  getJobs(ids: readonly string[]): Promise<JobRecord[]>;
  /** Inside a transaction: reads the job and holds its row until the transaction ends (ownership checks). */
  lockJob(id: string): Promise<JobRecord | undefined>;
  updateJob(id: string, patch: JobUpdate): Promise<JobRecord | undefined>;
  jobsInState(states: readonly JobState[]): Promise<JobRecord[]>;
  /** Jobs per state (the metrics' jobs gauge and queue depth); states with no job are left out. */
  countJobsByState(): Promise<Partial<Record<JobState, number>>>;
  jobsOfBatch(batchId: string): Promise<JobRecord[]>;
  jobsOfMeeting(meetingId: string): Promise<JobRecord[]>;
  insertBatch(batch: Pick<BatchRecord, 'id' | 'kind'>): Promise<BatchRecord>;
  getBatch(id: string): Promise<BatchRecord | undefined>;
  addBatchNotes(batchId: string, notes: BatchNote[]): Promise<void>;

  // speakers and turns
  /** Replaces the meeting's speakers and turns with a new run's, in one transaction. */
  writeDiarization(write: DiarizationWrite): Promise<void>;
  speakersOfMeeting(meetingId: string): Promise<MeetingSpeakerRecord[]>;
  getSpeaker(id: string): Promise<MeetingSpeakerRecord | undefined>;
  getSpeakers(ids: readonly string[]): Promise<MeetingSpeakerRecord[]>;
  updateSpeaker(
    id: string,
    patch: {
      displayName?: string | null;
      personId?: string | null;
      personSource?: 'auto' | 'manual' | null;
      matchScore?: number | null;
      talkTimeSec?: number;
      centroid?: Float32Array;
    },
  ): Promise<void>;
  insertSpeaker(speaker: MeetingSpeakerInsert): Promise<void>;
  deleteSpeaker(id: string): Promise<void>;
  /** Speakers of every meeting assigned to the person. */
  speakersOfPerson(personId: string): Promise<MeetingSpeakerRecord[]>;
  /** All speakers made by a model (index rebuilds). */
  speakersOfModel(modelHash: string): Promise<MeetingSpeakerRecord[]>;
  /** Speakers whose model differs from the given one (the switch-model guard). */
  countSpeakersNotOfModel(modelHash: string): Promise<number>;
  /** Turns in time order; `from`/`to` keep turns overlapping [from, to). */
  turnsOfMeeting(meetingId: string, range?: { from?: number; to?: number }, first?: number, after?: string): Promise<Page<TurnRecord>>;
  /** One page of turns without counting them (a page request needs no second query). */
  turnsPage(meetingId: string, range?: { from?: number; to?: number }, first?: number, after?: string): Promise<Omit<Page<TurnRecord>, 'totalCount'>>;
  /** Turns overlapping the range (all of the meeting's without one). */
  countTurns(meetingId: string, range?: { from?: number; to?: number }): Promise<number>;
  getTurn(id: string): Promise<TurnRecord | undefined>;
  /** Replaces turns of one meeting (split, merge, move): deletes `deleteIds`, inserts `insert`, re-points `reassign`. */
  editTurns(
    meetingId: string,
    edit: {
      deleteIds?: string[];
      insert?: TurnInsert[];
      reassign?: { fromSpeakerId: string; toSpeakerId: string };
      move?: { turnId: string; toSpeakerId: string };
    },
  ): Promise<void>;

  // people and enrollments
  insertPerson(person: Omit<PersonRecord, 'createdAt'>): Promise<PersonRecord>;
  getPerson(id: string): Promise<PersonRecord | undefined>;
  getPeople(ids: readonly string[]): Promise<PersonRecord[]>;
  listPeople(filter: { text?: string }, first: number, after?: string): Promise<Page<PersonRecord>>;
  updatePerson(id: string, patch: Partial<Pick<PersonRecord, 'name' | 'externalId' | 'metadata'>>): Promise<void>;
  /** Deletes the person, every enrollment of theirs, and unassigns their meeting speakers. */
  deletePerson(id: string): Promise<PersonRecord | undefined>;
  insertEnrollment(enrollment: EnrollmentInsert): Promise<EnrollmentRecord>;
  getEnrollment(id: string): Promise<EnrollmentRecord | undefined>;
  enrollmentsOfPerson(personId: string): Promise<EnrollmentRecord[]>;
  enrollmentsOfModel(modelHash: string): Promise<EnrollmentRecord[]>;
  /** Enrollments another model made (to re-embed after a model switch). */
  enrollmentsNotOfModel(modelHash: string): Promise<EnrollmentRecord[]>;
  countEnrollmentsNotOfModel(modelHash: string): Promise<number>;
  deleteEnrollment(id: string): Promise<EnrollmentRecord | undefined>;

  // tokens
  insertToken(token: Omit<ApiTokenRecord, 'createdAt'>): Promise<ApiTokenRecord>;
  tokenByHash(tokenHash: string): Promise<ApiTokenRecord | undefined>;
  listTokens(): Promise<ApiTokenRecord[]>;
  revokeToken(id: string): Promise<ApiTokenRecord | undefined>;

  // transcripts (one current transcript per meeting)
  /** Replaces the meeting's transcript (cues and segments) in one transaction. */
  replaceTranscript(
    meetingId: string,
    transcript: { format: TranscriptFormat; cues: TranscriptCue[]; segments: TranscriptSegmentInsert[] },
  ): Promise<TranscriptRecord>;
  /** Replaces only the segments (a realignment after speaker edits); false when the meeting has no transcript. */
  writeTranscriptSegments(meetingId: string, segments: TranscriptSegmentInsert[]): Promise<boolean>;
  getTranscript(meetingId: string): Promise<TranscriptRecord | undefined>;
  transcriptCues(meetingId: string): Promise<TranscriptCue[] | undefined>;
  /** Segments in transcript order; every one without `first`. */
  transcriptSegments(meetingId: string, first?: number, after?: string): Promise<Page<TranscriptSegmentRecord>>;
  deleteTranscript(meetingId: string): Promise<boolean>;
  /** Best matches first; `after` is the endCursor of the previous page of the same search. */
  searchTranscripts(search: TranscriptSearch, first: number, after?: string): Promise<Omit<Page<TranscriptHit>, 'totalCount'>>;
  /** Words per speaker over the meetings' transcripts (speakers without a transcript are absent). */
  transcriptWordsBySpeaker(meetingIds: readonly string[]): Promise<Array<{ meetingId: string; speakerId: string; words: number }>>;

  // webhook deliveries
  insertWebhookDelivery(delivery: Pick<WebhookDeliveryRecord, 'id' | 'tokenId' | 'jobId' | 'event' | 'url'>): Promise<WebhookDeliveryRecord>;
  /** Sets the given fields and updatedAt (finishedAt too when `finished`). */
  updateWebhookDelivery(id: string, patch: WebhookDeliveryUpdate): Promise<WebhookDeliveryRecord | undefined>;
  getWebhookDelivery(id: string): Promise<WebhookDeliveryRecord | undefined>;
  /** PENDING deliveries last updated before `updatedBefore` (ISO), least recently updated first: left by a process that stopped. */
  stalePendingWebhookDeliveries(updatedBefore: string, limit: number): Promise<WebhookDeliveryRecord[]>;
  /** Takes over a PENDING delivery still as it was seen (same updatedAt) and touches it; undefined when another process took it or it finished. */
  claimWebhookDelivery(id: string, seenUpdatedAt: string): Promise<WebhookDeliveryRecord | undefined>;
  /** Newest first; narrowed to one token or one job when given. */
  listWebhookDeliveries(filter: { tokenId?: string; jobId?: string }, first: number, after?: string): Promise<Page<WebhookDeliveryRecord>>;
}
