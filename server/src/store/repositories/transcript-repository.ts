/**
 * A meeting's one current transcript: its cues (kept for realignment), its attributed segments, and
 * full-text search over them (FTS5 on SQLite, tsvector + GIN on PostgreSQL; see migrations.ts).
 */
import { Expression, ExpressionBuilder, Insertable, Kysely, sql, SqlBool } from 'kysely';

import { InvalidArgumentError, NotFoundError } from '../../common/errors';
import type { TranscriptCue, TranscriptFormat } from '../../transcripts/types';
import { decodeCursor, encodeCursor } from '../cursor';
import { Database, decodeCues, toTranscript, toTranscriptSegment, TranscriptSegmentsTable } from '../rows';
import type { Page, TranscriptHit, TranscriptRecord, TranscriptSearch, TranscriptSegmentInsert, TranscriptSegmentRecord } from '../types';
import { chunked, checkFirst, insertChunked, meetingWhere, nowIso, RepositoryContext, toPage } from './shared';

const SEGMENT_ORDERING = 'transcript.position';
const SEARCH_ORDERING = 'transcripts.search';
/** Words of a search, quoted phrases counted as one. */
const MAX_SEARCH_TERMS = 20;
const MAX_SEARCH_CHARS = 500;
/** Words shown around a match in a snippet. */
const SNIPPET_WORDS = 24;

const SEGMENT_COLUMNS = ['id', 'meeting_id', 'position', 'start_sec', 'end_sec', 'text', 'speaker_id', 'overlap', 'words', 'word_count'] as const;

export class TranscriptRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async replaceTranscript(
    meetingId: string,
    transcript: { format: TranscriptFormat; cues: TranscriptCue[]; segments: TranscriptSegmentInsert[] },
  ): Promise<TranscriptRecord> {
    const now = nowIso();
    const rows = segmentRows(meetingId, transcript.segments);
    const row = {
      meeting_id: meetingId,
      format: transcript.format,
      cues: JSON.stringify(transcript.cues),
      cue_count: transcript.cues.length,
      word_count: rows.reduce((sum, r) => sum + r.word_count, 0),
      created_at: now,
      aligned_at: now,
    };
    await this.ctx.guard(
      () =>
        this.ctx.inTransaction(async (db) => {
          // The segments and their search entries go with the old row (ON DELETE CASCADE, FTS triggers).
          await db.deleteFrom('transcripts').where('meeting_id', '=', meetingId).execute();
          await db.insertInto('transcripts').values(row).execute();
          await insertSegments(db, rows);
        }),
      { foreignKey: () => new NotFoundError('meeting', meetingId) },
    );
    return toTranscript(row);
  }

  async writeTranscriptSegments(meetingId: string, segments: TranscriptSegmentInsert[]): Promise<boolean> {
    const rows = segmentRows(meetingId, segments);
    return this.ctx.inTransaction(async (db) => {
      const updated = await db
        .updateTable('transcripts')
        .set({ aligned_at: nowIso(), word_count: rows.reduce((sum, r) => sum + r.word_count, 0) })
        .where('meeting_id', '=', meetingId)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return false;
      await db.deleteFrom('transcript_segments').where('meeting_id', '=', meetingId).execute();
      await insertSegments(db, rows);
      return true;
    });
  }

  async getTranscript(meetingId: string): Promise<TranscriptRecord | undefined> {
    const row = await this.ctx.db
      .selectFrom('transcripts')
      .select(['meeting_id', 'format', 'cue_count', 'word_count', 'created_at', 'aligned_at'])
      .where('meeting_id', '=', meetingId)
      .executeTakeFirst();
    return row && toTranscript(row);
  }

  async transcriptCues(meetingId: string): Promise<TranscriptCue[] | undefined> {
    const row = await this.ctx.db.selectFrom('transcripts').select('cues').where('meeting_id', '=', meetingId).executeTakeFirst();
    return row && decodeCues(row.cues);
  }

  async transcriptSegments(meetingId: string, first?: number, after?: string): Promise<Page<TranscriptSegmentRecord>> {
    if (first !== undefined) checkFirst(first);
    let query = this.ctx.db.selectFrom('transcript_segments').select(SEGMENT_COLUMNS).where('meeting_id', '=', meetingId);
    if (after !== undefined) query = query.where('position', '>', Number(decodeCursor(after, SEGMENT_ORDERING, 'number').value));
    query = query.orderBy('position');
    if (first !== undefined) query = query.limit(first + 1);
    const rows = await query.execute();
    const total = await this.ctx.db
      .selectFrom('transcript_segments')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('meeting_id', '=', meetingId)
      .executeTakeFirstOrThrow();
    return toPage(rows, first, Number(total.n), toTranscriptSegment, (row) => encodeCursor(SEGMENT_ORDERING, row.position, meetingId));
  }

  async deleteTranscript(meetingId: string): Promise<boolean> {
    const result = await this.ctx.db.deleteFrom('transcripts').where('meeting_id', '=', meetingId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async searchTranscripts(search: TranscriptSearch, first: number, after?: string): Promise<Omit<Page<TranscriptHit>, 'totalCount'>> {
    checkFirst(first);
    const terms = searchTerms(search.text);
    // Relevance order has no key to resume from, so the cursor is the offset (bound to the same search text).
    const offset = after === undefined ? 0 : searchOffset(after, search.text);
    const db = this.ctx.db;
    const page = { limit: first + 1, offset };
    const rows: HitRow[] = await (this.ctx.kind === 'postgres' ? postgresSearch(db, terms, search, page) : sqliteSearch(db, terms, search, page));
    const hasNextPage = rows.length > first;
    const kept = hasNextPage ? rows.slice(0, first) : rows;
    return {
      items: kept.map((row) => ({
        meetingId: row.meeting_id,
        ...(row.speaker_id ? { speakerId: row.speaker_id } : {}),
        position: row.position,
        startSec: row.start_sec,
        endSec: row.end_sec,
        snippet: row.snippet,
      })),
      endCursor: kept.length > 0 ? encodeCursor(SEARCH_ORDERING, offset + kept.length, search.text) : undefined,
      hasNextPage,
    };
  }

  async transcriptWordsBySpeaker(meetingIds: readonly string[]): Promise<Array<{ meetingId: string; speakerId: string; words: number }>> {
    const rows = await chunked(meetingIds, (chunk) =>
      this.ctx.db
        .selectFrom('transcript_segments')
        .select(['meeting_id', 'speaker_id', (eb) => eb.fn.sum<number | string>('word_count').as('words')])
        .where('meeting_id', 'in', chunk)
        .where('speaker_id', 'is not', null)
        .groupBy(['meeting_id', 'speaker_id'])
        .execute(),
    );
    return rows.map((row) => ({ meetingId: row.meeting_id, speakerId: row.speaker_id!, words: Number(row.words) }));
  }
}

function searchOffset(after: string, text: string): number {
  const cursor = decodeCursor(after, SEARCH_ORDERING, 'number');
  const offset = Number(cursor.value);
  if (cursor.id !== text || !Number.isSafeInteger(offset) || offset < 0)
    throw new InvalidArgumentError('This cursor belongs to another search; pass the endCursor of a previous page of the same query, or omit "after".');
  return offset;
}

/** Whitespace-separated words; hyphenated or apostrophised words count once. */
export function countWords(text: string): number {
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

function segmentRows(meetingId: string, segments: TranscriptSegmentInsert[]): Insertable<TranscriptSegmentsTable>[] & { word_count: number }[] {
  return segments.map((s, position) => ({
    meeting_id: meetingId,
    position,
    start_sec: s.startSec,
    end_sec: s.endSec,
    text: s.text,
    speaker_id: s.speakerId ?? null,
    overlap: s.overlap ? 1 : 0,
    words: s.words && s.words.length > 0 ? JSON.stringify(s.words) : null,
    word_count: s.words && s.words.length > 0 ? s.words.length : countWords(s.text),
  }));
}

async function insertSegments(db: Kysely<Database>, rows: Insertable<TranscriptSegmentsTable>[]): Promise<void> {
  await insertChunked(rows, (chunk) => db.insertInto('transcript_segments').values(chunk).execute());
}

/**
 * The search text as terms that must all match: each "double-quoted" part is a phrase, every other
 * word a term. Hand-written: FTS5 and tsquery each have their own syntax, and user text must not be
 * parsed as either (an unbalanced quote or a bare NOT would be a syntax error or a different search).
 */
export function searchTerms(text: string): string[] {
  if (text.length > MAX_SEARCH_CHARS)
    throw new InvalidArgumentError(`The search text has ${text.length} characters; at most ${MAX_SEARCH_CHARS} are allowed. Search for fewer words.`);
  const terms: string[] = [];
  for (const match of text.matchAll(/"([^"]*)"?|([^\s"]+)/g)) {
    const term = (match[1] ?? match[2]).trim().replace(/\s+/g, ' ');
    if (/[\p{L}\p{N}]/u.test(term)) terms.push(term);
  }
  if (terms.length === 0) throw new InvalidArgumentError('The search needs at least one word (letters or digits); e.g. query: "refund policy".');
  if (terms.length > MAX_SEARCH_TERMS)
    throw new InvalidArgumentError(`The search has ${terms.length} words or phrases; at most ${MAX_SEARCH_TERMS} are allowed.`);
  return terms;
}

type SegmentScope = ExpressionBuilder<Database & { s: TranscriptSegmentsTable }, 's'>;

/** The meeting filter, speaker and person as conditions on the segment `s`. */
function scopeOf(search: TranscriptSearch, kind: 'sqlite' | 'postgres') {
  return (eb: SegmentScope) => {
    const conditions: Expression<SqlBool>[] = [];
    const { filter } = search;
    if (Object.values(filter).some((v) => v !== undefined))
      conditions.push(eb('s.meeting_id', 'in', eb.selectFrom('meetings').select('meetings.id').where(meetingWhere(filter))));
    if (search.speakerId !== undefined) conditions.push(eb('s.speaker_id', '=', search.speakerId));
    if (search.personId !== undefined) {
      const speakers = eb.selectFrom('meeting_speakers').select('meeting_speakers.id').where('meeting_speakers.person_id', '=', search.personId);
      // PostgreSQL: an array computed once, not a join the planner would loop over every matching line (3× faster in bench:search).
      conditions.push(kind === 'postgres' ? sql<SqlBool>`s.speaker_id = any(array(${speakers}))` : eb('s.speaker_id', 'in', speakers));
    }
    return eb.and(conditions);
  };
}

interface HitRow {
  meeting_id: string;
  speaker_id: string | null;
  position: number;
  start_sec: number;
  end_sec: number;
  snippet: string;
}

function sqliteSearch(db: Kysely<Database>, terms: string[], search: TranscriptSearch, page: { limit: number; offset: number }): Promise<HitRow[]> {
  // Every term as an FTS5 string (quotes doubled): the tokenizer splits it, so it matches as a phrase.
  const match = terms.map((term) => `"${term.replace(/"/g, '""')}"`).join(' ');
  return db
    .selectFrom('transcript_fts')
    .innerJoin('transcript_segments as s', 's.id', 'transcript_fts.rowid')
    .select(['s.meeting_id', 's.speaker_id', 's.position', 's.start_sec', 's.end_sec'])
    .select(sql<string>`snippet(transcript_fts, 0, '<mark>', '</mark>', '…', ${sql.lit(SNIPPET_WORDS)})`.as('snippet'))
    .where(sql<boolean>`transcript_fts match ${match}`)
    .where(scopeOf(search, 'sqlite') as never)
    .orderBy(sql`transcript_fts.rank`)
    .orderBy('s.id')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
}

/**
 * PostgreSQL ranks at most RANKED_CANDIDATES matching lines: a phrase of everyday words matches tens
 * of thousands of lines, and checking and ranking every one took over a second (bench:search); the
 * cap bounds that, at the price of ranking a broad search among its first matches only.
 */
const RANKED_CANDIDATES = 2000;

function postgresSearch(db: Kysely<Database>, terms: string[], search: TranscriptSearch, page: { limit: number; offset: number }): Promise<HitRow[]> {
  const query = sql.join(
    terms.map((term) => sql`phraseto_tsquery('simple', ${term})`),
    sql` && `,
  );
  const options = `StartSel=<mark>, StopSel=</mark>, MaxWords=${SNIPPET_WORDS}, MinWords=8, ShortWord=0`;
  const candidates = db
    .selectFrom('transcript_segments as s')
    .select(['s.id', 's.meeting_id', 's.speaker_id', 's.position', 's.start_sec', 's.end_sec', 's.text'])
    .select(sql<number>`ts_rank(s.search, ${query})`.as('rank'))
    .where(sql<boolean>`s.search @@ (${query})`)
    .where(scopeOf(search, 'postgres'))
    .limit(RANKED_CANDIDATES);
  return db
    .selectFrom(candidates.as('c'))
    .select(['c.meeting_id', 'c.speaker_id', 'c.position', 'c.start_sec', 'c.end_sec'])
    .select(sql<string>`ts_headline('simple', c.text, ${query}, ${options})`.as('snippet'))
    .orderBy('c.rank', 'desc')
    .orderBy('c.id')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
}
