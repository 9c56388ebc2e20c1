/**
 * `npm run migrate:embedded -- --to-database postgres://... --to-storage s3://bucket [--data-dir ./data]`:
 * moves an embedded deployment to PostgreSQL + S3 (storage/migrate-embedded.ts). S3 endpoint, region and
 * credentials come from the AWS_* environment variables.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../common/errors';
import { migrateEmbedded } from '../storage/migrate-embedded';
import { runCli } from './common';

runCli(async () => {
  const { values } = parseArgs({
    options: { 'data-dir': { type: 'string' }, 'to-database': { type: 'string' }, 'to-storage': { type: 'string' } },
  });
  const toDatabase = values['to-database'];
  const toStorage = values['to-storage'];
  if (!toDatabase || !toStorage) {
    throw new InvalidArgumentError('Usage: npm run migrate:embedded -- --to-database postgres://... --to-storage s3://bucket [--data-dir ./data]');
  }
  const dataDir = path.resolve(values['data-dir'] ?? process.env.DATA_DIR ?? './data');
  const result = await migrateEmbedded({ dataDir, toDatabase, toStorage, log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stderr.write('Done. Start the servers with DATABASE_URL and STORAGE_URL set to the targets; the embedded data is left as it was.\n');
});
