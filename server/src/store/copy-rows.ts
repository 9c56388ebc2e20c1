/**
 * Copies every row of one store into another of possibly another dialect (SQLite → PostgreSQL), for
 * the embedded-to-scale-out migration. Both sides share the schema of migrations.ts and store values
 * the same way (text keys and times, float32 blobs, JSON text), so rows copy as they are.
 */
import { sql, type Kysely } from 'kysely';
import { InvalidArgumentError } from '../common/errors';
import type { Database } from './rows';
import type { DialectKind } from './migrations';

/** Tables in foreign-key order: a row's parents are copied before it. */
export const TABLES_IN_ORDER = [
  'uploads',
  'meetings',
  'meeting_tags',
  'batches',
  'batch_notes',
  'jobs',
  'people',
  'meeting_speakers',
  'turns',
  'enrollments',
  'api_tokens',
  'webhook_deliveries',
  'transcripts',
  // The SQLite source's FTS5 index is not a table to copy: PostgreSQL's tsvector column is generated.
  'transcript_segments',
] as const satisfies ReadonlyArray<keyof Database>;

const PAGE_ROWS = 500;

/** The source must be SQLite (pages by rowid); the target must be empty. Returns rows copied per table. */
export async function copyAllRows(source: Kysely<Database>, target: Kysely<Database>, targetKind: DialectKind): Promise<Record<string, number>> {
  for (const table of TABLES_IN_ORDER) {
    const row = await target
      .selectFrom(table)
      .select(sql<number>`count(*)`.as('n'))
      .executeTakeFirstOrThrow();
    if (Number(row.n) > 0) {
      throw new InvalidArgumentError(
        `The target database already has rows in "${table}": migrate into an empty database (or a new ?schema=) so nothing is overwritten.`,
      );
    }
  }
  const counts: Record<string, number> = {};
  // One transaction: a failed copy leaves the target empty, ready for another try.
  await target.transaction().execute(async (trx) => {
    for (const table of TABLES_IN_ORDER) {
      counts[table] = 0;
      for (let offset = 0; ; offset += PAGE_ROWS) {
        // Hand-written paging (no library copies rows across dialects); SQLite's rowid gives a stable order.
        const rows = await source.selectFrom(table).selectAll().orderBy(sql.raw('rowid')).limit(PAGE_ROWS).offset(offset).execute();
        if (rows.length === 0) break;
        // Each table's rows go back into the same table; the union of row types defeats Kysely's per-table typing.
        await trx
          .insertInto(table)
          .values(rows as never)
          .execute();
        counts[table] += rows.length;
        if (rows.length < PAGE_ROWS) break;
      }
    }
    if (targetKind === 'postgres') {
      // Explicit seq values do not advance PostgreSQL's serial sequence; move it past the copied ones.
      await sql`SELECT setval(pg_get_serial_sequence('batch_notes', 'seq'), COALESCE((SELECT MAX(seq) FROM batch_notes), 0) + 1, false)`.execute(trx);
      await sql`SELECT setval(pg_get_serial_sequence('transcript_segments', 'id'), COALESCE((SELECT MAX(id) FROM transcript_segments), 0) + 1, false)`.execute(
        trx,
      );
    }
  });
  return counts;
}
