import { Client } from 'pg';

import { Store } from './types';

/** Any fixed 64-bit key; every replica of this platform uses the same one. */
const MIGRATION_LOCK_KEY = 727_100_412;

/**
 * Runs the store's migrations; on PostgreSQL under a session advisory lock, so replicas that start
 * together migrate one after the other (the later ones find nothing left to do).
 */
export async function migrateUnderLock(store: Store, databaseUrl: string | undefined): Promise<void> {
  if (store.kind !== 'postgres' || !databaseUrl) return store.migrate();
  const url = new URL(databaseUrl);
  url.searchParams.delete('schema'); // ours, not libpq's
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await store.migrate();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
