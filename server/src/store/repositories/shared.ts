/**
 * What every repository shares: the connection (or the open transaction), constraint-error
 * mapping, and the paging and chunking helpers. Repositories hold no state of their own.
 */
import { randomUUID } from 'node:crypto';

import { Expression, ExpressionBuilder, Insertable, Kysely, SelectQueryBuilder, sql, SqlBool } from 'kysely';

import { AppError, InvalidArgumentError } from '../../common/errors';
import { constraintKind } from '../db-errors';
import { CursorValue } from '../cursor';
import type { DialectKind } from '../migrations';
import { Database, encodeVector, foldCase, MeetingsTable, MeetingSpeakersTable, TurnsTable } from '../rows';
import type { MeetingFilter, MeetingOrder, MeetingSpeakerInsert, Page, TurnInsert } from '../types';

/**
 * Rows per multi-row INSERT / ids per IN list: 1000 × 12 columns stays far below PostgreSQL's
 * 65 535 bind parameters and SQLite's 32 766.
 */
export const CHUNK = 1000;

export const MEETING_ORDER_COLUMNS = {
  createdAt: 'created_at',
  title: 'title_key',
  durationSec: 'duration_sec',
} as const satisfies Record<MeetingOrder['field'], keyof MeetingsTable>;

export type ConstraintErrors = { unique?: () => AppError; foreignKey?: () => AppError };

export const nowIso = (): string => new Date().toISOString();

/** The database handle a repository works on: the store's own, or the open transaction's. */
export class RepositoryContext {
  constructor(
    readonly db: Kysely<Database>,
    readonly kind: DialectKind,
  ) {}

  /** Nested calls join the open transaction (Kysely cannot nest them, and one unit of work is what callers mean). */
  async inTransaction<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this.db);
    return this.db.transaction().execute((trx) => fn(trx));
  }

  /** Turns constraint violations into the AppError the caller names; anything else passes through. */
  async guard<T>(run: () => Promise<T>, errors: ConstraintErrors): Promise<T> {
    try {
      return await run();
    } catch (error) {
      const kind = constraintKind(error);
      const make = kind && errors[kind];
      if (make) throw make();
      throw error;
    }
  }
}

export function checkFirst(first: number): void {
  if (!Number.isInteger(first) || first < 0) throw new InvalidArgumentError(`"first" must be a whole number of at least 0 (got ${first}).`);
}

/** Rows after the cursor in (sort column, id) order; the id breaks ties so pages never skip or repeat. */
export function keysetAfter(column: string, idColumn: string, direction: 'asc' | 'desc', cursor: { value: CursorValue; id: string }): Expression<SqlBool> {
  const operator = direction === 'asc' ? '>' : '<';
  return sql<SqlBool>`(${sql.ref(column)}, ${sql.ref(idColumn)}) ${sql.raw(operator)} (${cursor.value}, ${cursor.id})`;
}

/** Case-insensitive substring match on a folded `*_key` column, with LIKE wildcards escaped. */
export function likeSubstring(column: Expression<string>, text: string): Expression<SqlBool> {
  const pattern = `%${foldCase(text).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<SqlBool>`${column} like ${pattern} escape '\\'`;
}

export function instant(name: string, value: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError(`${name} "${value}" is not a date; use ISO-8601, e.g. 2025-01-31 or 2025-01-31T12:00:00Z.`);
  return date.toISOString();
}

/** createdFrom is inclusive, createdTo exclusive ([from, to), like media ranges). */
export function meetingWhere(filter: MeetingFilter) {
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

export async function count<TB extends keyof Database, O>(query: SelectQueryBuilder<Database, TB, O>): Promise<number> {
  const row = await query.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertTags(db: Kysely<Database>, meetingId: string, tags: string[]): Promise<void> {
  if (tags.length > 0)
    await db
      .insertInto('meeting_tags')
      .values(tags.map((tag) => ({ meeting_id: meetingId, tag })))
      .execute();
}

export function speakerRow(speaker: MeetingSpeakerInsert, createdAt: string): Insertable<MeetingSpeakersTable> {
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

export function turnRow(turn: TurnInsert): Insertable<TurnsTable> {
  return { id: turn.id ?? randomUUID(), meeting_id: turn.meetingId, speaker_id: turn.speakerId, start_sec: turn.startSec, end_sec: turn.endSec };
}

export function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** Rows for distinct ids, one IN list per chunk. */
export async function chunked<T>(ids: readonly string[], run: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (const chunk of chunks([...new Set(ids)])) out.push(...(await run(chunk)));
  return out;
}

export async function insertChunked<R>(rows: R[], run: (chunk: R[]) => Promise<unknown>): Promise<void> {
  for (const chunk of chunks(rows)) await run(chunk);
}

/** Records in the order of the requested ids, each once; unknown ids are left out. */
export function inIdOrder<T extends { id: string }>(ids: readonly string[], records: T[]): T[] {
  const byId = new Map(records.map((record) => [record.id, record]));
  return [...new Set(ids)].flatMap((id) => byId.get(id) ?? []);
}

export function toPage<R, T>(rows: R[], first: number | undefined, totalCount: number, toRecord: (row: R) => T, cursorOf: (row: R) => string): Page<T> {
  const hasNextPage = first !== undefined && rows.length > first;
  const kept = hasNextPage ? rows.slice(0, first) : rows;
  const last = kept[kept.length - 1];
  return { items: kept.map(toRecord), endCursor: last === undefined ? undefined : cursorOf(last), hasNextPage, totalCount };
}
