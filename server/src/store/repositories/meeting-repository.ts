/** Uploads, meetings and their tags. */
import { Insertable, Updateable } from 'kysely';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../common/errors';
import { decodeCursor, encodeCursor } from '../cursor';
import { foldCase, MeetingsTable, toMeeting, toUpload, uniqueTags } from '../rows';
import type { MeetingFilter, MeetingInsert, MeetingOrder, MeetingRecord, Page, UploadRecord } from '../types';
import {
  checkFirst,
  chunked,
  count,
  inIdOrder,
  insertTags,
  keysetAfter,
  MEETING_ORDER_COLUMNS,
  meetingWhere,
  nowIso,
  RepositoryContext,
  toPage,
} from './shared';

export class MeetingRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async insertUpload(upload: UploadRecord): Promise<void> {
    await this.ctx.guard(
      () =>
        this.ctx.db
          .insertInto('uploads')
          .values({
            id: upload.id,
            original_name: upload.originalName,
            path: upload.path,
            bytes: upload.bytes,
            format: upload.format,
            duration_sec: upload.durationSec,
            created_at: upload.createdAt,
            transcript_format: upload.transcriptFormat ?? null,
          })
          .execute(),
      { unique: () => new ConflictError(`An upload with id "${upload.id}" already exists.`) },
    );
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    const row = await this.ctx.db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUpload(row);
  }

  async deleteUpload(id: string): Promise<void> {
    await this.ctx.guard(() => this.ctx.db.deleteFrom('uploads').where('id', '=', id).execute(), {
      foreignKey: () => new ConflictError(`Upload "${id}" is still used by a meeting; delete the meeting first.`),
    });
  }

  /** Uploads created before `createdBefore` (ISO) that no meeting and no enrollment uses, oldest first. */
  async unreferencedUploads(createdBefore: string, limit: number): Promise<UploadRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('uploads')
      .selectAll()
      .where('created_at', '<', createdBefore)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('meetings').select('meetings.id').whereRef('meetings.upload_id', '=', 'uploads.id'))))
      .where((eb) => eb.not(eb.exists(eb.selectFrom('enrollments').select('enrollments.id').whereRef('enrollments.upload_id', '=', 'uploads.id'))))
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map(toUpload);
  }

  /**
   * Deletes the upload only if, at that moment, no meeting and no enrollment uses it (one
   * statement, so a meeting made meanwhile keeps it). True when it was deleted.
   */
  async deleteUploadIfUnreferenced(id: string): Promise<boolean> {
    const result = await this.ctx.guard(
      () =>
        this.ctx.db
          .deleteFrom('uploads')
          .where('id', '=', id)
          .where((eb) => eb.not(eb.exists(eb.selectFrom('meetings').select('meetings.id').whereRef('meetings.upload_id', '=', 'uploads.id'))))
          .where((eb) => eb.not(eb.exists(eb.selectFrom('enrollments').select('enrollments.id').whereRef('enrollments.upload_id', '=', 'uploads.id'))))
          .executeTakeFirst(),
      { foreignKey: () => new ConflictError(`Upload "${id}" is still used by a meeting.`) },
    );
    return Number(result.numDeletedRows) > 0;
  }

  /** Which of `ids` have an uploads row. */
  async existingUploadIds(ids: readonly string[]): Promise<Set<string>> {
    const rows = await chunked(ids, (chunk) => this.ctx.db.selectFrom('uploads').select('id').where('id', 'in', chunk).execute());
    return new Set(rows.map((r) => r.id));
  }

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
    const inserted = await this.ctx.guard(
      () =>
        this.ctx.inTransaction(async (db) => {
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
    const row = await this.ctx.db.selectFrom('meetings').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toMeeting(row);
  }

  async getMeetings(ids: readonly string[]): Promise<MeetingRecord[]> {
    const rows = await chunked(ids, (chunk) => this.ctx.db.selectFrom('meetings').selectAll().where('id', 'in', chunk).execute());
    return inIdOrder(ids, rows.map(toMeeting));
  }

  async meetingOfUpload(uploadId: string): Promise<MeetingRecord | undefined> {
    const row = await this.ctx.db.selectFrom('meetings').selectAll().where('upload_id', '=', uploadId).executeTakeFirst();
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
    await this.ctx.inTransaction(async (db) => {
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

    let query = this.ctx.db.selectFrom('meetings').selectAll().where(where);
    if (after !== undefined) {
      const cursor = decodeCursor(after, ordering, order.field === 'durationSec' ? 'number' : 'string');
      query = query.where(keysetAfter(`meetings.${column}`, 'meetings.id', direction, cursor));
    }
    const rows = await query
      .orderBy(column, direction)
      .orderBy('id', direction)
      .limit(first + 1)
      .execute();
    const totalCount = await count(this.ctx.db.selectFrom('meetings').where(where));
    return toPage(rows, first, totalCount, toMeeting, (row) => encodeCursor(ordering, row[column], row.id));
  }

  async allTags(): Promise<string[]> {
    const rows = await this.ctx.db.selectFrom('meeting_tags').select('tag').distinct().orderBy('tag').execute();
    return rows.map((row) => row.tag);
  }

  async meetingIds(filter: MeetingFilter): Promise<string[]> {
    const rows = await this.ctx.db.selectFrom('meetings').select('id').where(meetingWhere(filter)).orderBy('created_at').orderBy('id').execute();
    return rows.map((row) => row.id);
  }

  async deleteMeeting(id: string): Promise<MeetingRecord | undefined> {
    // Jobs, tags, speakers, turns and the transcript (its FTS5 entries by trigger) go by ON DELETE CASCADE; enrollments keep their voice (speaker link set null).
    const row = await this.ctx.db.deleteFrom('meetings').where('id', '=', id).returningAll().executeTakeFirst();
    return row && toMeeting(row);
  }
}
