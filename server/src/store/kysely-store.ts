/**
 * The Store on Kysely: one implementation for SQLite and PostgreSQL. Rows become records only in
 * rows.ts; constraint violations become AppErrors here, named after what the caller did.
 */
import { randomUUID } from 'node:crypto';

import { Expression, ExpressionBuilder, Insertable, Kysely, Migrator, SelectQueryBuilder, sql, SqlBool, Updateable } from 'kysely';

import { AppError, ConflictError, InvalidArgumentError, NotFoundError } from '../common/errors';
import { constraintKind } from './db-errors';
import { CursorValue, decodeCursor, encodeCursor } from './cursor';
import { DialectKind, migrations } from './migrations';
import {
  Database,
  encodeVector,
  foldCase,
  JobsTable,
  MeetingsTable,
  MeetingSpeakersTable,
  PeopleTable,
  toBatch,
  toEnrollment,
  toJob,
  toMeeting,
  toPerson,
  toSpeaker,
  toToken,
  toTurn,
  toUpload,
  TurnsTable,
  uniqueTags,
} from './rows';
import type {
  ApiTokenRecord,
  BatchNote,
  BatchRecord,
  DiarizationWrite,
  EnrollmentInsert,
  EnrollmentRecord,
  JobRecord,
  JobState,
  JobUpdate,
  MeetingFilter,
  MeetingInsert,
  MeetingOrder,
  MeetingRecord,
  MeetingSpeakerInsert,
  MeetingSpeakerRecord,
  Page,
  PersonRecord,
  Store,
  TurnInsert,
  TurnRecord,
  UploadRecord,
} from './types';

/**
 * Rows per multi-row INSERT / ids per IN list: 1000 × 12 columns stays far below PostgreSQL's
 * 65 535 bind parameters and SQLite's 32 766.
 */
const CHUNK = 1000;

const MEETING_ORDER_COLUMNS = {
  createdAt: 'created_at',
  title: 'title_key',
  durationSec: 'duration_sec',
} as const satisfies Record<MeetingOrder['field'], keyof MeetingsTable>;

type ConstraintErrors = { unique?: () => AppError; foreignKey?: () => AppError };

const nowIso = (): string => new Date().toISOString();

export class KyselyStore implements Store {
  constructor(
    private readonly db: Kysely<Database>,
    readonly kind: DialectKind,
    /** PostgreSQL schema holding the tables (and Kysely's migration bookkeeping). */
    private readonly pgSchema?: string,
  ) {}

  // ---- lifecycle

  async migrate(): Promise<void> {
    if (this.db.isTransaction) throw new InvalidArgumentError('migrate() cannot run inside a transaction; call it on the store itself at start-up.');
    const migrator = new Migrator({
      db: this.db,
      provider: { getMigrations: async () => migrations(this.kind) },
      // Pinned, or Kysely would find another schema's kysely_migration table and skip ours.
      migrationTableSchema: this.pgSchema,
    });
    const { error } = await migrator.migrateToLatest();
    if (error instanceof AppError) throw error;
    if (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new AppError('INTERNAL', `Migrating the ${this.kind} database failed: ${reason}. Nothing of the failed step was kept; fix the cause and restart.`, {
        cause: error,
      });
    }
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    // A transaction-bound store shares the owner's connection: closing is the owner's job.
    if (!this.db.isTransaction) await this.db.destroy();
  }

  /** Use only `tx` inside `fn`: on SQLite the outer store waits for the transaction's one connection (deadlock). */
  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    return this.inTransaction((db) => fn(db === this.db ? this : new KyselyStore(db, this.kind, this.pgSchema)));
  }

  /** Nested calls join the open transaction (Kysely cannot nest them, and one unit of work is what callers mean). */
  private async inTransaction<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this.db);
    return this.db.transaction().execute((trx) => fn(trx));
  }

  /** Turns constraint violations into the AppError the caller names; anything else passes through. */
  private async guard<T>(run: () => Promise<T>, errors: ConstraintErrors): Promise<T> {
    try {
      return await run();
    } catch (error) {
      const kind = constraintKind(error);
      const make = kind && errors[kind];
      if (make) throw make();
      throw error;
    }
  }

  // ---- uploads

  async insertUpload(upload: UploadRecord): Promise<void> {
    await this.guard(
      () =>
        this.db
          .insertInto('uploads')
          .values({
            id: upload.id,
            original_name: upload.originalName,
            path: upload.path,
            bytes: upload.bytes,
            format: upload.format,
            duration_sec: upload.durationSec,
            created_at: upload.createdAt,
          })
          .execute(),
      { unique: () => new ConflictError(`An upload with id "${upload.id}" already exists.`) },
    );
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    const row = await this.db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUpload(row);
  }

  async deleteUpload(id: string): Promise<void> {
    await this.guard(() => this.db.deleteFrom('uploads').where('id', '=', id).execute(), {
      foreignKey: () => new ConflictError(`Upload "${id}" is still used by a meeting; delete the meeting first.`),
    });
  }

  // ---- meetings

  async insertMeeting(meeting: MeetingInsert): Promise<MeetingRecord> {
    const now = nowIso();
    const tags = uniqueTags(meeting.tags);
    const row: Insertable<MeetingsTable> = {
      id: meeting.id,
      title: meeting.title,
      title_key: foldCase(meeting.title),
      tags: JSON.stringify(tags),
      upload_id: meeting.uploadId,
      audio_path: meeting.audioPath,
      playable_path: meeting.playablePath ?? null,
      peaks_path: meeting.peaksPath ?? null,
      duration_sec: meeting.durationSec,
      num_speakers: meeting.numSpeakers ?? null,
      min_speakers: meeting.minSpeakers ?? null,
      max_speakers: meeting.maxSpeakers ?? null,
      latest_job_id: null,
      created_at: now,
      updated_at: now,
    };
    const inserted = await this.guard(
      () =>
        this.inTransaction(async (db) => {
          const created = await db.insertInto('meetings').values(row).returningAll().executeTakeFirstOrThrow();
          await insertTags(db, meeting.id, tags);
          return created;
        }),
      {
        unique: () => new ConflictError(`A meeting with id "${meeting.id}" already exists, or upload "${meeting.uploadId}" already backs a meeting.`),
        foreignKey: () => new NotFoundError('upload', meeting.uploadId),
      },
    );
    return toMeeting(inserted);
  }

  async getMeeting(id: string): Promise<MeetingRecord | undefined> {
    const row = await this.db.selectFrom('meetings').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toMeeting(row);
  }

  async getMeetings(ids: readonly string[]): Promise<MeetingRecord[]> {
    const rows = await chunked(ids, (chunk) => this.db.selectFrom('meetings').selectAll().where('id', 'in', chunk).execute());
    return inIdOrder(ids, rows.map(toMeeting));
  }

  async meetingOfUpload(uploadId: string): Promise<MeetingRecord | undefined> {
    const row = await this.db.selectFrom('meetings').selectAll().where('upload_id', '=', uploadId).executeTakeFirst();
    return row && toMeeting(row);
  }

  async updateMeeting(
    id: string,
    patch: Partial<
      Pick<MeetingRecord, 'title' | 'tags' | 'playablePath' | 'peaksPath' | 'durationSec' | 'latestJobId' | 'numSpeakers' | 'minSpeakers' | 'maxSpeakers'>
    >,
  ): Promise<void> {
    // undefined = unchanged (callers spread partial inputs).
    const set: Updateable<MeetingsTable> = { updated_at: nowIso() };
    if (patch.title !== undefined) Object.assign(set, { title: patch.title, title_key: foldCase(patch.title) });
    const tags = patch.tags && uniqueTags(patch.tags);
    if (tags) set.tags = JSON.stringify(tags);
    if (patch.playablePath !== undefined) set.playable_path = patch.playablePath;
    if (patch.peaksPath !== undefined) set.peaks_path = patch.peaksPath;
    if (patch.durationSec !== undefined) set.duration_sec = patch.durationSec;
    if (patch.latestJobId !== undefined) set.latest_job_id = patch.latestJobId;
    if (patch.numSpeakers !== undefined) set.num_speakers = patch.numSpeakers;
    if (patch.minSpeakers !== undefined) set.min_speakers = patch.minSpeakers;
    if (patch.maxSpeakers !== undefined) set.max_speakers = patch.maxSpeakers;
    await this.inTransaction(async (db) => {
      const result = await db.updateTable('meetings').set(set).where('id', '=', id).executeTakeFirst();
      if (tags && Number(result.numUpdatedRows) > 0) {
        await db.deleteFrom('meeting_tags').where('meeting_id', '=', id).execute();
        await insertTags(db, id, tags);
      }
    });
  }

  async listMeetings(filter: MeetingFilter, order: MeetingOrder, first: number, after?: string): Promise<Page<MeetingRecord>> {
    checkFirst(first);
    const column = MEETING_ORDER_COLUMNS[order.field];
    if (!column) throw new InvalidArgumentError(`Unknown meeting order field "${order.field}"; use one of ${Object.keys(MEETING_ORDER_COLUMNS).join(', ')}.`);
    const direction = order.direction === 'DESC' ? 'desc' : 'asc';
    const ordering = `meetings.${order.field}`;
    const where = meetingWhere(filter);

    let query = this.db.selectFrom('meetings').selectAll().where(where);
    if (after !== undefined) {
      const cursor = decodeCursor(after, ordering, order.field === 'durationSec' ? 'number' : 'string');
      query = query.where(keysetAfter(`meetings.${column}`, 'meetings.id', direction, cursor));
    }
    const rows = await query
      .orderBy(column, direction)
      .orderBy('id', direction)
      .limit(first + 1)
      .execute();
    const totalCount = await count(this.db.selectFrom('meetings').where(where));
    return toPage(rows, first, totalCount, toMeeting, (row) => encodeCursor(ordering, row[column], row.id));
  }

  async allTags(): Promise<string[]> {
    const rows = await this.db.selectFrom('meeting_tags').select('tag').distinct().orderBy('tag').execute();
    return rows.map((row) => row.tag);
  }

  async meetingIds(filter: MeetingFilter): Promise<string[]> {
    const rows = await this.db.selectFrom('meetings').select('id').where(meetingWhere(filter)).orderBy('created_at').orderBy('id').execute();
    return rows.map((row) => row.id);
  }

  async deleteMeeting(id: string): Promise<MeetingRecord | undefined> {
    // Jobs, tags, speakers and turns go by ON DELETE CASCADE; enrollments keep their voice (speaker link set null).
    const row = await this.db.deleteFrom('meetings').where('id', '=', id).returningAll().executeTakeFirst();
    return row && toMeeting(row);
  }

  // ---- jobs and batches

  async insertJob(job: Pick<JobRecord, 'id' | 'kind' | 'meetingId' | 'batchId'>): Promise<JobRecord> {
    const row = await this.guard(
      () =>
        this.db
          .insertInto('jobs')
          .values({
            id: job.id,
            kind: job.kind,
            meeting_id: job.meetingId,
            batch_id: job.batchId ?? null,
            state: 'QUEUED',
            progress: 0,
            attempts: 0,
            created_at: nowIso(),
          })
          .returningAll()
          .executeTakeFirstOrThrow(),
      {
        unique: () => new ConflictError(`A job with id "${job.id}" already exists.`),
        foreignKey: () =>
          new AppError(
            'NOT_FOUND',
            `Cannot queue the job: meeting "${job.meetingId}"${job.batchId ? ` or batch "${job.batchId}"` : ''} does not exist. It may have been deleted.`,
          ),
      },
    );
    return toJob(row);
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toJob(row);
  }

  async lockJob(id: string): Promise<JobRecord | undefined> {
    if (!this.db.isTransaction) throw new InvalidArgumentError('lockJob() only makes sense inside a transaction.');
    // SQLite runs one write transaction at a time; PostgreSQL needs the row lock.
    const query = this.db.selectFrom('jobs').selectAll().where('id', '=', id);
    const row = await (this.kind === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
    return row && toJob(row);
  }

  async getJobs(ids: readonly string[]): Promise<JobRecord[]> {
    const rows = await chunked(ids, (chunk) => this.db.selectFrom('jobs').selectAll().where('id', 'in', chunk).execute());
    return inIdOrder(ids, rows.map(toJob));
  }

  async updateJob(id: string, patch: JobUpdate): Promise<JobRecord | undefined> {
    // undefined = unchanged, null = cleared.
    const set: Updateable<JobsTable> = {};
    if (patch.state !== undefined) set.state = patch.state;
    if (patch.stage !== undefined) set.stage = patch.stage;
    if (patch.progress !== undefined) set.progress = patch.progress;
    if (patch.errorCode !== undefined) set.error_code = patch.errorCode;
    if (patch.errorMessage !== undefined) set.error_message = patch.errorMessage;
    if (patch.attempts !== undefined) set.attempts = patch.attempts;
    if (patch.startedAt !== undefined) set.started_at = patch.startedAt;
    if (patch.finishedAt !== undefined) set.finished_at = patch.finishedAt;
    if (Object.keys(set).length === 0) return this.getJob(id);
    const row = await this.db.updateTable('jobs').set(set).where('id', '=', id).returningAll().executeTakeFirst();
    return row && toJob(row);
  }

  async jobsInState(states: readonly JobState[]): Promise<JobRecord[]> {
    if (states.length === 0) return [];
    const rows = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('state', 'in', [...states])
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toJob);
  }

  async jobsOfBatch(batchId: string): Promise<JobRecord[]> {
    const rows = await this.db.selectFrom('jobs').selectAll().where('batch_id', '=', batchId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toJob);
  }

  async jobsOfMeeting(meetingId: string): Promise<JobRecord[]> {
    const rows = await this.db.selectFrom('jobs').selectAll().where('meeting_id', '=', meetingId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toJob);
  }

  async insertBatch(batch: Pick<BatchRecord, 'id' | 'kind'>): Promise<BatchRecord> {
    const row = await this.guard(
      () => this.db.insertInto('batches').values({ id: batch.id, kind: batch.kind, created_at: nowIso() }).returningAll().executeTakeFirstOrThrow(),
      { unique: () => new ConflictError(`A batch with id "${batch.id}" already exists.`) },
    );
    return toBatch(row, []);
  }

  async getBatch(id: string): Promise<BatchRecord | undefined> {
    const row = await this.db.selectFrom('batches').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const notes = await this.db.selectFrom('batch_notes').select(['meeting_id', 'message']).where('batch_id', '=', id).orderBy('seq').execute();
    return toBatch(
      row,
      notes.map((note) => ({ meetingId: note.meeting_id, message: note.message })),
    );
  }

  async addBatchNotes(batchId: string, notes: BatchNote[]): Promise<void> {
    if (notes.length === 0) return;
    const rows = notes.map((note) => ({ batch_id: batchId, meeting_id: note.meetingId, message: note.message }));
    await this.guard(() => this.inTransaction((db) => insertChunked(rows, (chunk) => db.insertInto('batch_notes').values(chunk).execute())), {
      foreignKey: () => new NotFoundError('batch', batchId),
    });
  }

  // ---- speakers and turns

  async writeDiarization(write: DiarizationWrite): Promise<void> {
    const { meetingId } = write;
    const speakerIds = new Set(write.speakers.map((speaker) => speaker.id));
    for (const speaker of write.speakers) {
      if (speaker.meetingId !== meetingId) {
        throw new InvalidArgumentError(`Speaker "${speaker.id}" belongs to meeting "${speaker.meetingId}", not to "${meetingId}" being written.`);
      }
    }
    for (const turn of write.turns) {
      if (turn.meetingId !== meetingId || !speakerIds.has(turn.speakerId)) {
        throw new InvalidArgumentError(
          `Turn ${turn.startSec}-${turn.endSec} s refers to meeting "${turn.meetingId}" and speaker "${turn.speakerId}"; every turn must belong to meeting "${meetingId}" and one of the ${speakerIds.size} speakers written with it.`,
        );
      }
    }
    const now = nowIso();
    await this.guard(
      () =>
        this.inTransaction(async (db) => {
          const updated = await db
            .updateTable('meetings')
            .set({ duration_sec: write.durationSec, updated_at: now })
            .where('id', '=', meetingId)
            .executeTakeFirst();
          if (Number(updated.numUpdatedRows) === 0) throw new NotFoundError('meeting', meetingId);
          // Turns first: they reference the speakers.
          await db.deleteFrom('turns').where('meeting_id', '=', meetingId).execute();
          await db.deleteFrom('meeting_speakers').where('meeting_id', '=', meetingId).execute();
          await insertChunked(
            write.speakers.map((speaker) => speakerRow(speaker, now)),
            (chunk) => db.insertInto('meeting_speakers').values(chunk).execute(),
          );
          await insertChunked(write.turns.map(turnRow), (chunk) => db.insertInto('turns').values(chunk).execute());
        }),
      {
        unique: () => new ConflictError(`A speaker or turn id written for meeting "${meetingId}" is already used elsewhere; use fresh ids for a new run.`),
        foreignKey: () => new AppError('NOT_FOUND', `A speaker of meeting "${meetingId}" refers to a person that does not exist.`),
      },
    );
  }

  async speakersOfMeeting(meetingId: string): Promise<MeetingSpeakerRecord[]> {
    const rows = await this.db.selectFrom('meeting_speakers').selectAll().where('meeting_id', '=', meetingId).orderBy('label').orderBy('id').execute();
    return rows.map(toSpeaker);
  }

  async getSpeaker(id: string): Promise<MeetingSpeakerRecord | undefined> {
    const row = await this.db.selectFrom('meeting_speakers').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSpeaker(row);
  }

  async getSpeakers(ids: readonly string[]): Promise<MeetingSpeakerRecord[]> {
    const rows = await chunked(ids, (chunk) => this.db.selectFrom('meeting_speakers').selectAll().where('id', 'in', chunk).execute());
    return inIdOrder(ids, rows.map(toSpeaker));
  }

  async updateSpeaker(
    id: string,
    patch: {
      displayName?: string | null;
      personId?: string | null;
      personSource?: 'auto' | 'manual' | null;
      matchScore?: number | null;
      talkTimeSec?: number;
      centroid?: Float32Array;
    },
  ): Promise<void> {
    // undefined = unchanged, null = cleared.
    const set: Updateable<MeetingSpeakersTable> = {};
    if (patch.displayName !== undefined) set.display_name = patch.displayName;
    if (patch.personId !== undefined) set.person_id = patch.personId;
    if (patch.personSource !== undefined) set.person_source = patch.personSource;
    if (patch.matchScore !== undefined) set.match_score = patch.matchScore;
    if (patch.talkTimeSec !== undefined) set.talk_time_sec = patch.talkTimeSec;
    if (patch.centroid !== undefined) set.centroid = encodeVector(patch.centroid);
    if (Object.keys(set).length === 0) return;
    await this.guard(() => this.db.updateTable('meeting_speakers').set(set).where('id', '=', id).execute(), {
      foreignKey: () => new NotFoundError('person', patch.personId ?? ''),
    });
  }

  async insertSpeaker(speaker: MeetingSpeakerInsert): Promise<void> {
    await this.guard(() => this.db.insertInto('meeting_speakers').values(speakerRow(speaker, nowIso())).execute(), {
      unique: () => new ConflictError(`A speaker with id "${speaker.id}" already exists.`),
      foreignKey: () =>
        new AppError(
          'NOT_FOUND',
          `Cannot add speaker "${speaker.id}": meeting "${speaker.meetingId}"${speaker.personId ? ` or person "${speaker.personId}"` : ''} does not exist.`,
        ),
    });
  }

  async deleteSpeaker(id: string): Promise<void> {
    await this.guard(() => this.db.deleteFrom('meeting_speakers').where('id', '=', id).execute(), {
      foreignKey: () => new ConflictError(`Speaker "${id}" still has turns; move them to another speaker (editTurns reassign) before deleting it.`),
    });
  }

  async speakersOfPerson(personId: string): Promise<MeetingSpeakerRecord[]> {
    const rows = await this.db.selectFrom('meeting_speakers').selectAll().where('person_id', '=', personId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toSpeaker);
  }

  async speakersOfModel(modelHash: string): Promise<MeetingSpeakerRecord[]> {
    const rows = await this.db.selectFrom('meeting_speakers').selectAll().where('model_hash', '=', modelHash).orderBy('created_at').orderBy('id').execute();
    return rows.map(toSpeaker);
  }

  async countSpeakersNotOfModel(modelHash: string): Promise<number> {
    return count(this.db.selectFrom('meeting_speakers').where('model_hash', '<>', modelHash));
  }

  async turnsOfMeeting(meetingId: string, range: { from?: number; to?: number } = {}, first?: number, after?: string): Promise<Page<TurnRecord>> {
    const { page, rows } = await this.turnRows(meetingId, range, first, after);
    // The whole list in one query needs no second one to count it.
    const totalCount = first === undefined && after === undefined ? rows : await this.countTurns(meetingId, range);
    return { ...page, totalCount };
  }

  async turnsPage(
    meetingId: string,
    range: { from?: number; to?: number } = {},
    first?: number,
    after?: string,
  ): Promise<Omit<Page<TurnRecord>, 'totalCount'>> {
    return (await this.turnRows(meetingId, range, first, after)).page;
  }

  private async turnRows(meetingId: string, range: { from?: number; to?: number }, first?: number, after?: string) {
    if (first !== undefined) checkFirst(first);
    let query = this.turnsInRange(meetingId, range).selectAll();
    if (after !== undefined) query = query.where(keysetAfter('turns.start_sec', 'turns.id', 'asc', decodeCursor(after, 'turns', 'number')));
    query = query.orderBy('start_sec').orderBy('id');
    if (first !== undefined) query = query.limit(first + 1);
    const rows = await query.execute();
    const { totalCount: _unused, ...page } = toPage(rows, first, 0, toTurn, (row) => encodeCursor('turns', row.start_sec, row.id));
    return { page, rows: rows.length };
  }

  /** Overlap with [from, to): ends after `from` and starts before `to`. */
  private turnsInRange(meetingId: string, range: { from?: number; to?: number }) {
    let base = this.db.selectFrom('turns').where('meeting_id', '=', meetingId);
    if (range.from !== undefined) base = base.where('end_sec', '>', range.from);
    if (range.to !== undefined) base = base.where('start_sec', '<', range.to);
    return base;
  }

  async countTurns(meetingId: string, range: { from?: number; to?: number } = {}): Promise<number> {
    return count(this.turnsInRange(meetingId, range));
  }

  async getTurn(id: string): Promise<TurnRecord | undefined> {
    const row = await this.db.selectFrom('turns').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toTurn(row);
  }

  async editTurns(
    meetingId: string,
    edit: {
      deleteIds?: string[];
      insert?: TurnInsert[];
      reassign?: { fromSpeakerId: string; toSpeakerId: string };
      move?: { turnId: string; toSpeakerId: string };
    },
  ): Promise<void> {
    for (const turn of edit.insert ?? []) {
      if (turn.meetingId !== meetingId)
        throw new InvalidArgumentError(`An inserted turn belongs to meeting "${turn.meetingId}", not to "${meetingId}" being edited.`);
    }
    // Order: delete, reassign, move (they act on existing turns), then insert (new turns carry their final speaker).
    await this.guard(
      () =>
        this.inTransaction(async (db) => {
          const updated = await db.updateTable('meetings').set({ updated_at: nowIso() }).where('id', '=', meetingId).executeTakeFirst();
          if (Number(updated.numUpdatedRows) === 0) throw new NotFoundError('meeting', meetingId);
          for (const chunk of chunks([...new Set(edit.deleteIds ?? [])])) {
            await db.deleteFrom('turns').where('meeting_id', '=', meetingId).where('id', 'in', chunk).execute();
          }
          if (edit.reassign) {
            await db
              .updateTable('turns')
              .set({ speaker_id: edit.reassign.toSpeakerId })
              .where('meeting_id', '=', meetingId)
              .where('speaker_id', '=', edit.reassign.fromSpeakerId)
              .execute();
          }
          if (edit.move) {
            const moved = await db
              .updateTable('turns')
              .set({ speaker_id: edit.move.toSpeakerId })
              .where('meeting_id', '=', meetingId)
              .where('id', '=', edit.move.turnId)
              .executeTakeFirst();
            if (Number(moved.numUpdatedRows) === 0) throw new NotFoundError('turn', edit.move.turnId);
          }
          await insertChunked((edit.insert ?? []).map(turnRow), (chunk) => db.insertInto('turns').values(chunk).execute());
        }),
      {
        unique: () => new ConflictError(`An inserted turn of meeting "${meetingId}" reuses an existing turn id; leave ids out to get fresh ones.`),
        foreignKey: () =>
          new AppError(
            'NOT_FOUND',
            `A turn of meeting "${meetingId}" would refer to a speaker that is not one of that meeting's speakers. Use ids from the meeting's speakers.`,
          ),
      },
    );
  }

  // ---- people and enrollments

  async insertPerson(person: Omit<PersonRecord, 'createdAt'>): Promise<PersonRecord> {
    const row = await this.guard(
      () =>
        this.db
          .insertInto('people')
          .values({
            id: person.id,
            name: person.name,
            name_key: foldCase(person.name),
            external_id: person.externalId ?? null,
            metadata: JSON.stringify(person.metadata),
            created_at: nowIso(),
          })
          .returningAll()
          .executeTakeFirstOrThrow(),
      { unique: () => new ConflictError(`A person with id "${person.id}" already exists.`) },
    );
    return toPerson(row);
  }

  async getPerson(id: string): Promise<PersonRecord | undefined> {
    const row = await this.db.selectFrom('people').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toPerson(row);
  }

  async getPeople(ids: readonly string[]): Promise<PersonRecord[]> {
    const rows = await chunked(ids, (chunk) => this.db.selectFrom('people').selectAll().where('id', 'in', chunk).execute());
    return inIdOrder(ids, rows.map(toPerson));
  }

  /** Ordered by name (case-insensitive); `text` matches a name substring or the exact external id. */
  async listPeople(filter: { text?: string }, first: number, after?: string): Promise<Page<PersonRecord>> {
    checkFirst(first);
    const text = filter.text;
    const where = (eb: ExpressionBuilder<Database, 'people'>) =>
      text ? eb.or([likeSubstring(eb.ref('people.name_key'), text), eb('people.external_id', '=', text)]) : eb.and([]);
    let query = this.db.selectFrom('people').selectAll().where(where);
    if (after !== undefined) query = query.where(keysetAfter('people.name_key', 'people.id', 'asc', decodeCursor(after, 'people.name', 'string')));
    const rows = await query
      .orderBy('name_key')
      .orderBy('id')
      .limit(first + 1)
      .execute();
    const totalCount = await count(this.db.selectFrom('people').where(where));
    return toPage(rows, first, totalCount, toPerson, (row) => encodeCursor('people.name', row.name_key, row.id));
  }

  async updatePerson(id: string, patch: Partial<Pick<PersonRecord, 'name' | 'externalId' | 'metadata'>>): Promise<void> {
    const set: Updateable<PeopleTable> = {};
    if (patch.name !== undefined) Object.assign(set, { name: patch.name, name_key: foldCase(patch.name) });
    if (patch.externalId !== undefined) set.external_id = patch.externalId;
    if (patch.metadata !== undefined) set.metadata = JSON.stringify(patch.metadata);
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('people').set(set).where('id', '=', id).execute();
  }

  async deletePerson(id: string): Promise<PersonRecord | undefined> {
    return this.inTransaction(async (db) => {
      // Explicit rather than left to ON DELETE: withdrawing consent must clear identification too.
      await db.updateTable('meeting_speakers').set({ person_id: null, person_source: null, match_score: null }).where('person_id', '=', id).execute();
      await db.deleteFrom('enrollments').where('person_id', '=', id).execute();
      const row = await db.deleteFrom('people').where('id', '=', id).returningAll().executeTakeFirst();
      return row && toPerson(row);
    });
  }

  async insertEnrollment(enrollment: EnrollmentInsert): Promise<EnrollmentRecord> {
    const row = await this.guard(
      () =>
        this.db
          .insertInto('enrollments')
          .values({
            id: enrollment.id,
            person_id: enrollment.personId,
            source: enrollment.source,
            upload_id: enrollment.uploadId ?? null,
            meeting_speaker_id: enrollment.meetingSpeakerId ?? null,
            speech_sec: enrollment.speechSec,
            embedding: encodeVector(enrollment.embedding),
            model_name: enrollment.modelName,
            model_hash: enrollment.modelHash,
            created_at: nowIso(),
          })
          .returningAll()
          .executeTakeFirstOrThrow(),
      {
        unique: () => new ConflictError(`An enrollment with id "${enrollment.id}" already exists.`),
        foreignKey: () =>
          new AppError(
            'NOT_FOUND',
            `Cannot enroll: person "${enrollment.personId}" or the upload/meeting speaker the enrollment comes from does not exist. It may have been deleted.`,
          ),
      },
    );
    return toEnrollment(row);
  }

  async getEnrollment(id: string): Promise<EnrollmentRecord | undefined> {
    const row = await this.db.selectFrom('enrollments').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toEnrollment(row);
  }

  async enrollmentsOfPerson(personId: string): Promise<EnrollmentRecord[]> {
    const rows = await this.db.selectFrom('enrollments').selectAll().where('person_id', '=', personId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toEnrollment);
  }

  async enrollmentsOfModel(modelHash: string): Promise<EnrollmentRecord[]> {
    const rows = await this.db.selectFrom('enrollments').selectAll().where('model_hash', '=', modelHash).orderBy('created_at').orderBy('id').execute();
    return rows.map(toEnrollment);
  }

  async enrollmentsNotOfModel(modelHash: string): Promise<EnrollmentRecord[]> {
    const rows = await this.db.selectFrom('enrollments').selectAll().where('model_hash', '<>', modelHash).orderBy('created_at').orderBy('id').execute();
    return rows.map(toEnrollment);
  }

  async countEnrollmentsNotOfModel(modelHash: string): Promise<number> {
    return count(this.db.selectFrom('enrollments').where('model_hash', '<>', modelHash));
  }

  async deleteEnrollment(id: string): Promise<EnrollmentRecord | undefined> {
    const row = await this.db.deleteFrom('enrollments').where('id', '=', id).returningAll().executeTakeFirst();
    return row && toEnrollment(row);
  }

  // ---- tokens

  async insertToken(token: Omit<ApiTokenRecord, 'createdAt'>): Promise<ApiTokenRecord> {
    const row = await this.guard(
      () =>
        this.db
          .insertInto('api_tokens')
          .values({
            id: token.id,
            name: token.name,
            token_hash: token.tokenHash,
            scope: token.scope,
            webhook_url: token.webhookUrl ?? null,
            webhook_secret: token.webhookSecret ?? null,
            created_at: nowIso(),
            revoked_at: token.revokedAt ?? null,
          })
          .returningAll()
          .executeTakeFirstOrThrow(),
      { unique: () => new ConflictError(`A token with id "${token.id}" or the same secret already exists.`) },
    );
    return toToken(row);
  }

  async tokenByHash(tokenHash: string): Promise<ApiTokenRecord | undefined> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row && toToken(row);
  }

  async listTokens(): Promise<ApiTokenRecord[]> {
    const rows = await this.db.selectFrom('api_tokens').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toToken);
  }

  /** Idempotent: a second revoke keeps the first revocation time. */
  async revokeToken(id: string): Promise<ApiTokenRecord | undefined> {
    const row = await this.db
      .updateTable('api_tokens')
      .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(nowIso())) }))
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && toToken(row);
  }
}

// ---- query helpers

function checkFirst(first: number): void {
  if (!Number.isInteger(first) || first < 0) throw new InvalidArgumentError(`"first" must be a whole number of at least 0 (got ${first}).`);
}

/** Rows after the cursor in (sort column, id) order; the id breaks ties so pages never skip or repeat. */
function keysetAfter(column: string, idColumn: string, direction: 'asc' | 'desc', cursor: { value: CursorValue; id: string }): Expression<SqlBool> {
  const operator = direction === 'asc' ? '>' : '<';
  return sql<SqlBool>`(${sql.ref(column)}, ${sql.ref(idColumn)}) ${sql.raw(operator)} (${cursor.value}, ${cursor.id})`;
}

/** Case-insensitive substring match on a folded `*_key` column, with LIKE wildcards escaped. */
function likeSubstring(column: Expression<string>, text: string): Expression<SqlBool> {
  const pattern = `%${foldCase(text).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<SqlBool>`${column} like ${pattern} escape '\\'`;
}

function instant(name: string, value: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError(`${name} "${value}" is not a date; use ISO-8601, e.g. 2025-01-31 or 2025-01-31T12:00:00Z.`);
  return date.toISOString();
}

/** createdFrom is inclusive, createdTo exclusive ([from, to), like media ranges). */
function meetingWhere(filter: MeetingFilter) {
  return (eb: ExpressionBuilder<Database, 'meetings'>): Expression<SqlBool> => {
    const conditions: Expression<SqlBool>[] = [];
    if (filter.text) conditions.push(likeSubstring(eb.ref('meetings.title_key'), filter.text));
    if (filter.tag !== undefined) {
      const tag = filter.tag;
      conditions.push(
        eb.exists(
          eb.selectFrom('meeting_tags').select('meeting_tags.tag').whereRef('meeting_tags.meeting_id', '=', 'meetings.id').where('meeting_tags.tag', '=', tag),
        ),
      );
    }
    if (filter.personId !== undefined) {
      const personId = filter.personId;
      conditions.push(
        eb.exists(
          eb
            .selectFrom('meeting_speakers')
            .select('meeting_speakers.id')
            .whereRef('meeting_speakers.meeting_id', '=', 'meetings.id')
            .where('meeting_speakers.person_id', '=', personId),
        ),
      );
    }
    if (filter.createdFrom !== undefined) conditions.push(eb('meetings.created_at', '>=', instant('createdFrom', filter.createdFrom)));
    if (filter.createdTo !== undefined) conditions.push(eb('meetings.created_at', '<', instant('createdTo', filter.createdTo)));
    // An empty id list matches nothing (`or` of no terms).
    if (filter.ids !== undefined) conditions.push(filter.ids.length > 0 ? eb('meetings.id', 'in', [...filter.ids]) : eb.or([]));
    return eb.and(conditions);
  };
}

async function count<TB extends keyof Database, O>(query: SelectQueryBuilder<Database, TB, O>): Promise<number> {
  const row = await query.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function insertTags(db: Kysely<Database>, meetingId: string, tags: string[]): Promise<void> {
  if (tags.length > 0)
    await db
      .insertInto('meeting_tags')
      .values(tags.map((tag) => ({ meeting_id: meetingId, tag })))
      .execute();
}

function speakerRow(speaker: MeetingSpeakerInsert, createdAt: string): Insertable<MeetingSpeakersTable> {
  return {
    id: speaker.id,
    meeting_id: speaker.meetingId,
    label: speaker.label,
    display_name: speaker.displayName ?? null,
    person_id: speaker.personId ?? null,
    person_source: speaker.personSource ?? null,
    match_score: speaker.matchScore ?? null,
    talk_time_sec: speaker.talkTimeSec,
    centroid: encodeVector(speaker.centroid),
    model_name: speaker.modelName,
    model_hash: speaker.modelHash,
    created_at: createdAt,
  };
}

function turnRow(turn: TurnInsert): Insertable<TurnsTable> {
  return { id: turn.id ?? randomUUID(), meeting_id: turn.meetingId, speaker_id: turn.speakerId, start_sec: turn.startSec, end_sec: turn.endSec };
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** Rows for distinct ids, one IN list per chunk. */
async function chunked<T>(ids: readonly string[], run: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (const chunk of chunks([...new Set(ids)])) out.push(...(await run(chunk)));
  return out;
}

async function insertChunked<R>(rows: R[], run: (chunk: R[]) => Promise<unknown>): Promise<void> {
  for (const chunk of chunks(rows)) await run(chunk);
}

/** Records in the order of the requested ids, each once; unknown ids are left out. */
function inIdOrder<T extends { id: string }>(ids: readonly string[], records: T[]): T[] {
  const byId = new Map(records.map((record) => [record.id, record]));
  return [...new Set(ids)].flatMap((id) => byId.get(id) ?? []);
}

function toPage<R, T>(rows: R[], first: number | undefined, totalCount: number, toRecord: (row: R) => T, cursorOf: (row: R) => string): Page<T> {
  const hasNextPage = first !== undefined && rows.length > first;
  const kept = hasNextPage ? rows.slice(0, first) : rows;
  const last = kept[kept.length - 1];
  return { items: kept.map(toRecord), endCursor: last === undefined ? undefined : cursorOf(last), hasNextPage, totalCount };
}
