/**
 * Opens the store: a postgres:// DATABASE_URL selects PostgreSQL, otherwise a SQLite file in
 * DATA_DIR. Connectivity is checked here, so a server with an unreachable database fails at start
 * with a DATABASE_UNAVAILABLE error instead of on the first request.
 */
import fs from 'node:fs';
import path from 'node:path';

import SqliteDatabase from 'better-sqlite3';
import { Driver, Kysely, PostgresDialect, sql, SqliteDialect } from 'kysely';
import { Client, Pool } from 'pg';

import { InvalidArgumentError } from '../common/errors';
import { PostgresTarget, postgresConnectionError, sqliteOpenError } from './db-errors';
import { KyselyStore } from './kysely-store';
import type { Database } from './rows';

export const SQLITE_FILE_NAME = 'platform.sqlite';

export interface StoreConfig {
  /** postgres:// or postgresql:// URL; unset = SQLite. May carry `?schema=name`. */
  databaseUrl?: string;
  dataDir: string;
  /** PostgreSQL schema for every table (created when missing); overrides `?schema=`. Default public. */
  schema?: string;
  /** PostgreSQL pool size. */
  maxConnections?: number;
}

const CONNECT_TIMEOUT_MS = 5000;
const SQLITE_BUSY_TIMEOUT_MS = 5000;

export function isPostgresUrl(url: string | undefined): boolean {
  return !!url && /^postgres(ql)?:\/\//i.test(url);
}

export async function openStore(config: StoreConfig): Promise<KyselyStore> {
  if (config.databaseUrl === undefined || config.databaseUrl === '') return openSqlite(path.join(config.dataDir, SQLITE_FILE_NAME));
  if (!isPostgresUrl(config.databaseUrl)) {
    throw new InvalidArgumentError(
      `DATABASE_URL must be a postgres:// or postgresql:// URL (got one starting "${config.databaseUrl.split(':')[0]}:"). Leave it unset to use the embedded SQLite file in DATA_DIR.`,
    );
  }
  return openPostgres(config.databaseUrl, config.schema, config.maxConnections ?? 10);
}

function openSqlite(file: string): KyselyStore {
  let sqlite: SqliteDatabase.Database;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    sqlite = new SqliteDatabase(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    // WAL: readers never block the writer; NORMAL sync is durable across crashes of the process.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
  } catch (error) {
    throw sqliteOpenError(file, error);
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return new KyselyStore(db, 'sqlite');
}

interface PostgresLocation {
  target: PostgresTarget;
  /** The URL without our own `schema` parameter. */
  connectionString: string;
  schema?: string;
}

export function parsePostgresUrl(databaseUrl: string, schemaOverride?: string): PostgresLocation {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    // The URL is not echoed: it may hold a password.
    throw new InvalidArgumentError('DATABASE_URL is not a valid URL. Use postgres://user:password@host:5432/database.');
  }
  const schema = schemaOverride ?? (url.searchParams.get('schema') || undefined);
  url.searchParams.delete('schema');
  if (schema !== undefined) assertSchemaName(schema);
  // The same fallbacks as pg, so the error names what pg actually tried.
  const env = process.env;
  const user = decodeURIComponent(url.username) || env.PGUSER || env.USER || 'postgres';
  return {
    target: {
      host: url.hostname || env.PGHOST || 'localhost',
      port: Number(url.port) || Number(env.PGPORT) || 5432,
      database: decodeURIComponent(url.pathname.replace(/^\//, '')) || env.PGDATABASE || user,
      user,
    },
    connectionString: url.toString(),
    schema,
  };
}

function assertSchemaName(schema: string): void {
  // Lower case only: search_path folds unquoted names, CREATE SCHEMA gets a quoted one.
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new InvalidArgumentError(`Invalid PostgreSQL schema "${schema}": use 1-63 lower-case letters, digits and underscores, not starting with a digit.`);
  }
}

/** Reports failed connects (at start and later) as DATABASE_UNAVAILABLE with host and port. */
class ReportingPostgresDialect extends PostgresDialect {
  constructor(
    config: ConstructorParameters<typeof PostgresDialect>[0],
    private readonly target: PostgresTarget,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const acquire = driver.acquireConnection.bind(driver);
    driver.acquireConnection = async () => {
      try {
        return await acquire();
      } catch (error) {
        throw postgresConnectionError(this.target, error);
      }
    };
    return driver;
  }
}

async function openPostgres(databaseUrl: string, schemaOverride: string | undefined, maxConnections: number): Promise<KyselyStore> {
  const { target, connectionString, schema } = parsePostgresUrl(databaseUrl, schemaOverride);
  const effectiveSchema = schema ?? 'public';
  const pool = new Pool({
    connectionString,
    max: maxConnections,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // Every unqualified table name resolves in this schema (tests isolate themselves this way).
    options: `-c search_path=${effectiveSchema}`,
  });
  // An idle client losing its server emits 'error' on the pool; unhandled, that kills the process.
  // The next query reports the outage through the dialect instead.
  pool.on('error', () => undefined);
  // A client checked out when its connection drops emits 'error' on itself (pg-pool listens only
  // while it is idle): the running query already fails with it, so the event must not kill the process.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new ReportingPostgresDialect({ pool }, target) });
  try {
    await sql`select 1`.execute(db);
    // Replicas starting together race on "if not exists": the loser's unique violation means the schema is there.
    if (schema !== undefined)
      await sql`create schema if not exists ${sql.id(schema)}`.execute(db).catch((error: unknown) => {
        if ((error as { code?: string }).code !== '23505') throw error;
      });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new KyselyStore(db, 'postgres', effectiveSchema);
}

/** Drops a schema made for an isolated test run, with everything in it. */
export async function dropPostgresSchema(databaseUrl: string, schema: string): Promise<void> {
  if (schema === 'public') throw new InvalidArgumentError('Refusing to drop the public schema.');
  await inPostgresSchema(databaseUrl, schema, `drop schema if exists "${schema}" cascade`);
}

/** Refreshes the planner's statistics of a schema's tables (what autovacuum does some time after a bulk load). */
export async function analyzePostgresSchema(databaseUrl: string, schema: string): Promise<void> {
  await inPostgresSchema(databaseUrl, schema, `set search_path to "${schema}"; analyze`);
}

async function inPostgresSchema(databaseUrl: string, schema: string, statement: string): Promise<void> {
  assertSchemaName(schema);
  const { target, connectionString } = parsePostgresUrl(databaseUrl);
  const client = new Client({ connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  try {
    await client.connect();
  } catch (error) {
    throw postgresConnectionError(target, error);
  }
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
