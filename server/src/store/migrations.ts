/**
 * Versioned schema, in code (no migration files to ship). Each migration runs once, recorded by
 * Kysely's Migrator in `kysely_migration`; new changes go in a new entry, never in an old one.
 */
import { Kysely, Migration, sql } from 'kysely';

export type DialectKind = 'sqlite' | 'postgres';

/** Column types that differ between the dialects. */
function columnTypes(kind: DialectKind) {
  if (kind === 'postgres') {
    return {
      // Byte-order comparison, so ids, ISO instants and *_key columns sort as on SQLite (BINARY).
      key: sql`text collate "C"`,
      double: 'double precision',
      blob: 'bytea',
      bigint: 'bigint',
    } as const;
  }
  return { key: 'text', double: 'real', blob: 'blob', bigint: 'integer' } as const;
}

// Kysely<unknown>: migrations are frozen in time and must not depend on today's table types.
async function initial(db: Kysely<unknown>, kind: DialectKind): Promise<void> {
  const t = columnTypes(kind);

  await db.schema
    .createTable('uploads')
    .addColumn('id', t.key, (c) => c.primaryKey())
    .addColumn('original_name', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('bytes', t.bigint, (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('duration_sec', t.double, (c) => c.notNull())
    .addColumn('created_at', t.key, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('meetings')
    .addColumn('id', t.key, (c) => c.primaryKey())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('title_key', t.key, (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    // No cascade: an upload in use by a meeting cannot be deleted. Unique: it backs one meeting.
    .addColumn('upload_id', t.key, (c) => c.notNull().references('uploads.id'))
    .addColumn('audio_path', 'text', (c) => c.notNull())
    .addColumn('playable_path', 'text')
    .addColumn('peaks_path', 'text')
    .addColumn('duration_sec', t.double, (c) => c.notNull())
    .addColumn('num_speakers', 'integer')
    .addColumn('min_speakers', 'integer')
    .addColumn('max_speakers', 'integer')
    // A plain pointer: a foreign key would make meetings and jobs reference each other.
    .addColumn('latest_job_id', t.key)
    .addColumn('created_at', t.key, (c) => c.notNull())
    .addColumn('updated_at', t.key, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('meetings_created_idx').on('meetings').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('meetings_title_idx').on('meetings').columns(['title_key', 'id']).execute();
  await db.schema.createIndex('meetings_duration_idx').on('meetings').columns(['duration_sec', 'id']).execute();
  await db.schema.createIndex('meetings_upload_uq').on('meetings').column('upload_id').unique().execute();

  await db.schema
    .createTable('meeting_tags')
    .addColumn('meeting_id', t.key, (c) => c.notNull().references('meetings.id').onDelete('cascade'))
    .addColumn('tag', t.key, (c) => c.notNull())
    .addPrimaryKeyConstraint('meeting_tags_pk', ['meeting_id', 'tag'])
    .execute();
  await db.schema.createIndex('meeting_tags_tag_idx').on('meeting_tags').columns(['tag', 'meeting_id']).execute();

  await db.schema
    .createTable('batches')
    .addColumn('id', t.key, (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('created_at', t.key, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('batch_notes')
    .addColumn('seq', kind === 'postgres' ? 'serial' : 'integer', (c) => (kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('batch_id', t.key, (c) => c.notNull().references('batches.id').onDelete('cascade'))
    // No foreign key: a note outlives the meeting it talks about.
    .addColumn('meeting_id', t.key, (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('batch_notes_batch_idx').on('batch_notes').columns(['batch_id', 'seq']).execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', t.key, (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('meeting_id', t.key, (c) => c.notNull().references('meetings.id').onDelete('cascade'))
    .addColumn('batch_id', t.key, (c) => c.references('batches.id').onDelete('set null'))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('stage', 'text')
    .addColumn('progress', t.double, (c) => c.notNull())
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('created_at', t.key, (c) => c.notNull())
    .addColumn('started_at', t.key)
    .addColumn('finished_at', t.key)
    .execute();
  await db.schema.createIndex('jobs_state_idx').on('jobs').columns(['state', 'created_at']).execute();
  await db.schema.createIndex('jobs_batch_idx').on('jobs').columns(['batch_id', 'created_at']).execute();
  await db.schema.createIndex('jobs_meeting_idx').on('jobs').columns(['meeting_id', 'created_at']).execute();

  await db.schema
    .createTable('people')
    .addColumn('id', t.key, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', t.key, (c) => c.notNull())
    .addColumn('external_id', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('created_at', t.key, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('people_name_idx').on('people').columns(['name_key', 'id']).execute();
  await db.schema.createIndex('people_external_idx').on('people').column('external_id').execute();

  await db.schema
    .createTable('meeting_speakers')
    .addColumn('id', t.key, (c) => c.primaryKey())
    .addColumn('meeting_id', t.key, (c) => c.notNull().references('meetings.id').onDelete('cascade'))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text')
    .addColumn('person_id', t.key, (c) => c.references('people.id').onDelete('set null'))
    .addColumn('person_source', 'text')
    .addColumn('match_score', t.double)
    .addColumn('talk_time_sec', t.double, (c) => c.notNull())
    .addColumn('centroid', t.blob, (c) => c.notNull())
    .addColumn('model_name', 'text', (c) => c.notNull())
    .addColumn('model_hash', t.key, (c) => c.notNull())
    .addColumn('created_at', t.key, (c) => c.notNull())
    // Target of the turns' (meeting_id, speaker_id) key: a turn's speaker belongs to its meeting.
    .addUniqueConstraint('meeting_speakers_meeting_id_uq', ['meeting_id', 'id'])
    .execute();
  await db.schema.createIndex('meeting_speakers_person_idx').on('meeting_speakers').column('person_id').execute();
  await db.schema.createIndex('meeting_speakers_model_idx').on('meeting_speakers').column('model_hash').execute();

  await db.schema
    .createTable('turns')
    .addColumn('id', t.key, (c) => c.primaryKey())
    .addColumn('meeting_id', t.key, (c) => c.notNull().references('meetings.id').onDelete('cascade'))
    .addColumn('speaker_id', t.key, (c) => c.notNull())
    .addColumn('start_sec', t.double, (c) => c.notNull())
    .addColumn('end_sec', t.double, (c) => c.notNull())
    // No cascade: deleting a speaker that still has turns is refused (move them first).
    .addForeignKeyConstraint('turns_speaker_fk', ['meeting_id', 'speaker_id'], 'meeting_speakers', ['meeting_id', 'id'])
    .execute();
  await db.schema.createIndex('turns_meeting_start_idx').on('turns').columns(['meeting_id', 'start_sec', 'id']).execute();
  await db.schema.createIndex('turns_speaker_idx').on('turns').columns(['meeting_id', 'speaker_id']).execute();

  await db.schema
    .createTable('enrollments')
    .addColumn('id', t.key, (c) => c.primaryKey())
    .addColumn('person_id', t.key, (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('upload_id', t.key, (c) => c.references('uploads.id').onDelete('set null'))
    .addColumn('meeting_speaker_id', t.key, (c) => c.references('meeting_speakers.id').onDelete('set null'))
    .addColumn('speech_sec', t.double, (c) => c.notNull())
    .addColumn('embedding', t.blob, (c) => c.notNull())
    .addColumn('model_name', 'text', (c) => c.notNull())
    .addColumn('model_hash', t.key, (c) => c.notNull())
    .addColumn('created_at', t.key, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('enrollments_person_idx').on('enrollments').columns(['person_id', 'created_at']).execute();
  await db.schema.createIndex('enrollments_model_idx').on('enrollments').column('model_hash').execute();
  await db.schema.createIndex('enrollments_speaker_idx').on('enrollments').column('meeting_speaker_id').execute();
  await db.schema.createIndex('enrollments_upload_idx').on('enrollments').column('upload_id').execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', t.key, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', t.key, (c) => c.notNull().unique())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('webhook_url', 'text')
    .addColumn('created_at', t.key, (c) => c.notNull())
    .addColumn('revoked_at', t.key)
    .execute();
}

async function webhookDeliveries(db: Kysely<unknown>, kind: DialectKind): Promise<void> {
  const t = columnTypes(kind);
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', t.key, (c) => c.primaryKey())
    .addColumn('token_id', t.key, (c) => c.notNull().references('api_tokens.id').onDelete('cascade'))
    // No foreign key: the record outlives the job (a deleted meeting takes its jobs along).
    .addColumn('job_id', t.key, (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('reason', 'text')
    .addColumn('created_at', t.key, (c) => c.notNull())
    .addColumn('updated_at', t.key, (c) => c.notNull())
    .addColumn('finished_at', t.key)
    .execute();
  await db.schema.createIndex('webhook_deliveries_created_idx').on('webhook_deliveries').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('webhook_deliveries_token_idx').on('webhook_deliveries').columns(['token_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('webhook_deliveries_job_idx').on('webhook_deliveries').column('job_id').execute();
}

/**
 * A meeting's one current transcript: the imported cues (JSON, kept so alignment can rerun after
 * every speaker edit), and the attributed segments with their full-text index: FTS5 over the
 * segments' text on SQLite (kept in step by triggers), a generated tsvector with a GIN index on
 * PostgreSQL. The 'simple' configuration on both sides: words match as written, in any language.
 */
async function transcripts(db: Kysely<unknown>, kind: DialectKind): Promise<void> {
  const t = columnTypes(kind);
  await db.schema.alterTable('uploads').addColumn('transcript_format', 'text').execute();
  await db.schema
    .createTable('transcripts')
    .addColumn('meeting_id', t.key, (c) => c.primaryKey().references('meetings.id').onDelete('cascade'))
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('cues', 'text', (c) => c.notNull())
    .addColumn('cue_count', 'integer', (c) => c.notNull())
    .addColumn('word_count', 'integer', (c) => c.notNull())
    .addColumn('created_at', t.key, (c) => c.notNull())
    .addColumn('aligned_at', t.key, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('transcript_segments')
    // An integer key: FTS5 refers to its rows by rowid.
    .addColumn('id', kind === 'postgres' ? 'bigserial' : 'integer', (c) => (kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('meeting_id', t.key, (c) => c.notNull().references('transcripts.meeting_id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('start_sec', t.double, (c) => c.notNull())
    .addColumn('end_sec', t.double, (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    // Set null when a speaker goes (merge, re-diarization); the realignment in the same transaction sets it again.
    .addColumn('speaker_id', t.key, (c) => c.references('meeting_speakers.id').onDelete('set null'))
    .addColumn('overlap', 'integer', (c) => c.notNull())
    .addColumn('words', 'text')
    .addColumn('word_count', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('transcript_segments_position_idx').on('transcript_segments').columns(['meeting_id', 'position']).unique().execute();
  await db.schema.createIndex('transcript_segments_speaker_idx').on('transcript_segments').column('speaker_id').execute();
  if (kind === 'postgres') {
    await sql`alter table transcript_segments add column search tsvector generated always as (to_tsvector('simple', text)) stored`.execute(db);
    await sql`create index transcript_segments_search_idx on transcript_segments using gin (search)`.execute(db);
    return;
  }
  await sql`create virtual table transcript_fts using fts5(text, content='transcript_segments', content_rowid='id', tokenize='unicode61 remove_diacritics 2')`.execute(
    db,
  );
  await sql`create trigger transcript_segments_ai after insert on transcript_segments begin
    insert into transcript_fts(rowid, text) values (new.id, new.text); end`.execute(db);
  await sql`create trigger transcript_segments_ad after delete on transcript_segments begin
    insert into transcript_fts(transcript_fts, rowid, text) values ('delete', old.id, old.text); end`.execute(db);
  await sql`create trigger transcript_segments_au after update of text on transcript_segments begin
    insert into transcript_fts(transcript_fts, rowid, text) values ('delete', old.id, old.text);
    insert into transcript_fts(rowid, text) values (new.id, new.text); end`.execute(db);
}

export function migrations(kind: DialectKind): Record<string, Migration> {
  return {
    '0001_initial': { up: (db) => initial(db, kind) },
    // Webhooks are signed with a secret of their own (the token secret itself is never stored).
    '0002_webhook_secret': { up: (db) => db.schema.alterTable('api_tokens').addColumn('webhook_secret', 'text').execute() },
    // Speaker-attributed transcripts and their full-text search (and an upload's transcript, until its meeting exists).
    '0003_transcripts': { up: (db) => transcripts(db, kind) },
    // What happened to each webhook call (who was told what, when, and why it failed).
    '0004_webhook_deliveries': { up: (db) => webhookDeliveries(db, kind) },
  };
}
