/** Meeting speakers and their turns: diarization writes, turn pages, turn edits. */
import { Updateable } from 'kysely';
import { AppError, ConflictError, InvalidArgumentError, NotFoundError } from '../../common/errors';
import { decodeCursor, encodeCursor } from '../cursor';
import { encodeVector, MeetingSpeakersTable, toSpeaker, toTurn } from '../rows';
import type { DiarizationWrite, MeetingSpeakerInsert, MeetingSpeakerRecord, Page, TurnInsert, TurnRecord } from '../types';
import { checkFirst, chunked, chunks, count, inIdOrder, insertChunked, keysetAfter, nowIso, RepositoryContext, speakerRow, toPage, turnRow } from './shared';

export class SpeakerRepository {
  constructor(private readonly ctx: RepositoryContext) {}

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
    await this.ctx.guard(
      () =>
        this.ctx.inTransaction(async (db) => {
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
    const rows = await this.ctx.db.selectFrom('meeting_speakers').selectAll().where('meeting_id', '=', meetingId).orderBy('label').orderBy('id').execute();
    return rows.map(toSpeaker);
  }

  async getSpeaker(id: string): Promise<MeetingSpeakerRecord | undefined> {
    const row = await this.ctx.db.selectFrom('meeting_speakers').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSpeaker(row);
  }

  async getSpeakers(ids: readonly string[]): Promise<MeetingSpeakerRecord[]> {
    const rows = await chunked(ids, (chunk) => this.ctx.db.selectFrom('meeting_speakers').selectAll().where('id', 'in', chunk).execute());
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
    await this.ctx.guard(() => this.ctx.db.updateTable('meeting_speakers').set(set).where('id', '=', id).execute(), {
      foreignKey: () => new NotFoundError('person', patch.personId ?? ''),
    });
  }

  async insertSpeaker(speaker: MeetingSpeakerInsert): Promise<void> {
    await this.ctx.guard(() => this.ctx.db.insertInto('meeting_speakers').values(speakerRow(speaker, nowIso())).execute(), {
      unique: () => new ConflictError(`A speaker with id "${speaker.id}" already exists.`),
      foreignKey: () =>
        new AppError(
          'NOT_FOUND',
          `Cannot add speaker "${speaker.id}": meeting "${speaker.meetingId}"${speaker.personId ? ` or person "${speaker.personId}"` : ''} does not exist.`,
        ),
    });
  }

  async deleteSpeaker(id: string): Promise<void> {
    await this.ctx.guard(() => this.ctx.db.deleteFrom('meeting_speakers').where('id', '=', id).execute(), {
      foreignKey: () => new ConflictError(`Speaker "${id}" still has turns; move them to another speaker (editTurns reassign) before deleting it.`),
    });
  }

  async speakersOfPerson(personId: string): Promise<MeetingSpeakerRecord[]> {
    const rows = await this.ctx.db.selectFrom('meeting_speakers').selectAll().where('person_id', '=', personId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toSpeaker);
  }

  async speakersOfModel(modelHash: string): Promise<MeetingSpeakerRecord[]> {
    const rows = await this.ctx.db.selectFrom('meeting_speakers').selectAll().where('model_hash', '=', modelHash).orderBy('created_at').orderBy('id').execute();
    return rows.map(toSpeaker);
  }

  async countSpeakersNotOfModel(modelHash: string): Promise<number> {
    return count(this.ctx.db.selectFrom('meeting_speakers').where('model_hash', '<>', modelHash));
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
    let base = this.ctx.db.selectFrom('turns').where('meeting_id', '=', meetingId);
    if (range.from !== undefined) base = base.where('end_sec', '>', range.from);
    if (range.to !== undefined) base = base.where('start_sec', '<', range.to);
    return base;
  }

  async countTurns(meetingId: string, range: { from?: number; to?: number } = {}): Promise<number> {
    return count(this.turnsInRange(meetingId, range));
  }

  async getTurn(id: string): Promise<TurnRecord | undefined> {
    const row = await this.ctx.db.selectFrom('turns').selectAll().where('id', '=', id).executeTakeFirst();
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
    await this.ctx.guard(
      () =>
        this.ctx.inTransaction(async (db) => {
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
}
