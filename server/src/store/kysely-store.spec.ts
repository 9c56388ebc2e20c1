import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Client } from 'pg';

import { decodeCursor, encodeCursor } from './cursor';
import { dropPostgresSchema, openStore } from './database';
import { decodeVector, encodeVector } from './rows';

import { describeStore, PG_URL, rejection } from './store-spec-support';

describe('store codecs', () => {
  it('writes embeddings as little-endian float32 and reads them back exactly', () => {
    const bytes = encodeVector(new Float32Array([1, -2, 0.5]));
    expect([...bytes]).toEqual([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x3f]);
    // An unaligned view (a Buffer from the pool) decodes too.
    const padded = Buffer.concat([Buffer.from([9]), bytes]).subarray(1);
    expect(decodeVector(padded)).toEqual(new Float32Array([1, -2, 0.5]));
    expect(() => decodeVector(Buffer.alloc(6))).toThrow(/multiple of 4/);
  });

  it('round-trips cursors and refuses foreign or forged ones', () => {
    const cursor = encodeCursor('turns', 12.5, 'a');
    expect(decodeCursor(cursor, 'turns', 'number')).toEqual({ value: 12.5, id: 'a' });
    expect(() => decodeCursor(cursor, 'meetings.title', 'string')).toThrow(/Invalid cursor/);
    expect(() => decodeCursor(encodeCursor('turns', 'x', 'a'), 'turns', 'number')).toThrow(/Invalid cursor/);
    expect(() => decodeCursor('not-base64-json', 'turns', 'number')).toThrow(/Invalid cursor/);
  });
});

describe('openStore', () => {
  it('reports an unreachable PostgreSQL with host, port and reason, never the password', async () => {
    const error = await rejection(openStore({ databaseUrl: 'postgres://app:s3cret-pw@127.0.0.1:1/platform', dataDir: os.tmpdir() }));
    expect(error.code).toBe('DATABASE_UNAVAILABLE');
    expect(error.message).toContain('Cannot connect to PostgreSQL at 127.0.0.1:1 (ECONNREFUSED)');
    expect(error.message).toContain('DATABASE_URL');
    expect(error.message).not.toContain('s3cret-pw');
  });

  it('names a missing database', async () => {
    const error = await rejection(openStore({ databaseUrl: 'postgres://postgres@127.0.0.1:5432/no_such_db_for_store_spec', dataDir: os.tmpdir() }));
    expect(error.code).toBe('DATABASE_UNAVAILABLE');
    expect(error.message).toContain('has no database "no_such_db_for_store_spec" (3D000)');
  });

  it('refuses a URL of another database and a malformed schema name', async () => {
    const other = await rejection(openStore({ databaseUrl: 'mysql://root:pw@localhost/db', dataDir: os.tmpdir() }));
    expect(other.code).toBe('INVALID_ARGUMENT');
    expect(other.message).toContain('"mysql:"');
    expect(other.message).not.toContain('pw');
    const schema = await rejection(openStore({ databaseUrl: `${PG_URL}?schema=Bad-Name`, dataDir: os.tmpdir() }));
    expect(schema.code).toBe('INVALID_ARGUMENT');
    expect(schema.message).toContain('Invalid PostgreSQL schema "Bad-Name"');
  });

  it('reports a SQLite file that cannot be created', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'store-spec-')), 'not-a-dir');
    fs.writeFileSync(file, 'x');
    const error = await rejection(openStore({ dataDir: file }));
    expect(error.code).toBe('DATABASE_UNAVAILABLE');
    expect(error.message).toContain(path.join(file, 'platform.sqlite'));
    fs.rmSync(path.dirname(file), { recursive: true });
  });

  it('isolates PostgreSQL schemas and drops them', async () => {
    const schema = `store_spec_iso_${process.pid}_${Date.now().toString(36)}`;
    const store = await openStore({ databaseUrl: `${PG_URL}?schema=${schema}`, dataDir: os.tmpdir() });
    await store.migrate();
    await store.insertUpload({ id: 'u1', originalName: 'a.wav', path: 'a', bytes: 1, format: 'wav', durationSec: 1, createdAt: new Date().toISOString() });
    await store.close();
    const client = new Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const tables = await client.query('select table_name from information_schema.tables where table_schema = $1', [schema]);
      expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toEqual(
        expect.arrayContaining(['uploads', 'meetings', 'turns', 'kysely_migration']),
      );
      await dropPostgresSchema(PG_URL, schema);
      const after = await client.query('select 1 from information_schema.schemata where schema_name = $1', [schema]);
      expect(after.rowCount).toBe(0);
    } finally {
      await client.end();
    }
  });
});

describeStore('KyselyStore', (fx) => {
  // ---- lifecycle

  it('migrates idempotently and answers ping', async () => {
    expect(fx.store.kind).toBe(fx.kind);
    await fx.store.migrate();
    await expect(fx.store.ping()).resolves.toBeUndefined();
  });

  // ---- transactions

  it('rolls a transaction back entirely on a throw, and commits otherwise', async () => {
    const uploadId = randomUUID();
    const meetingId = randomUUID();
    await expect(
      fx.store.transaction(async (tx) => {
        await tx.insertUpload({ id: uploadId, originalName: 'a.wav', path: 'a', bytes: 1, format: 'wav', durationSec: 1, createdAt: new Date().toISOString() });
        await tx.insertMeeting({ id: meetingId, title: 'rolled back', tags: ['rb'], uploadId, audioPath: 'a', durationSec: 1 });
        // Nested calls join the same transaction.
        await tx.transaction((inner) => inner.insertJob({ id: randomUUID(), kind: 'diarize', meetingId }));
        expect(await tx.getMeeting(meetingId)).toBeDefined();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await fx.store.getUpload(uploadId)).toBeUndefined();
    expect(await fx.store.getMeeting(meetingId)).toBeUndefined();
    expect(await fx.store.jobsOfMeeting(meetingId)).toEqual([]);

    const result = await fx.store.transaction(async (tx) => {
      await tx.insertUpload({ id: uploadId, originalName: 'a.wav', path: 'a', bytes: 1, format: 'wav', durationSec: 1, createdAt: new Date().toISOString() });
      const meeting = await tx.insertMeeting({ id: meetingId, title: 'committed', tags: [], uploadId, audioPath: 'a', durationSec: 1 });
      await tx.writeDiarization({ meetingId, durationSec: 1, speakers: [], turns: [] });
      return meeting.title;
    });
    expect(result).toBe('committed');
    expect((await fx.store.getMeeting(meetingId))?.title).toBe('committed');
  });
});
