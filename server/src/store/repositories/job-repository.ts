/** Jobs and batches (with their notes). */
import { Updateable } from 'kysely';
import { AppError, ConflictError, NotFoundError, InvalidArgumentError } from '../../common/errors';
import { JobsTable, toBatch, toJob } from '../rows';
import type { BatchNote, BatchRecord, JobRecord, JobState, JobUpdate } from '../types';
import { chunked, inIdOrder, insertChunked, nowIso, RepositoryContext } from './shared';

export class JobRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async insertJob(job: Pick<JobRecord, 'id' | 'kind' | 'meetingId' | 'batchId'>): Promise<JobRecord> {
    const row = await this.ctx.guard(
      () =>
        this.ctx.db
          .insertInto('jobs')
          .values({
            id: job.id,
            kind: job.kind,
            meeting_id: job.meetingId,
            batch_id: job.batchId ?? null,
            state: 'QUEUED',
            progress: 0,
            attempts: 0,
            created_at: nowIso(),
          })
          .returningAll()
          .executeTakeFirstOrThrow(),
      {
        unique: () => new ConflictError(`A job with id "${job.id}" already exists.`),
        foreignKey: () =>
          new AppError(
            'NOT_FOUND',
            `Cannot queue the job: meeting "${job.meetingId}"${job.batchId ? ` or batch "${job.batchId}"` : ''} does not exist. It may have been deleted.`,
          ),
      },
    );
    return toJob(row);
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const row = await this.ctx.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toJob(row);
  }

  async lockJob(id: string): Promise<JobRecord | undefined> {
    if (!this.ctx.db.isTransaction) throw new InvalidArgumentError('lockJob() only makes sense inside a transaction.');
    // SQLite runs one write transaction at a time; PostgreSQL needs the row lock.
    const query = this.ctx.db.selectFrom('jobs').selectAll().where('id', '=', id);
    const row = await (this.ctx.kind === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
    return row && toJob(row);
  }

  async getJobs(ids: readonly string[]): Promise<JobRecord[]> {
    const rows = await chunked(ids, (chunk) => this.ctx.db.selectFrom('jobs').selectAll().where('id', 'in', chunk).execute());
    return inIdOrder(ids, rows.map(toJob));
  }

  async updateJob(id: string, patch: JobUpdate): Promise<JobRecord | undefined> {
    // undefined = unchanged, null = cleared.
    const set: Updateable<JobsTable> = {};
    if (patch.state !== undefined) set.state = patch.state;
    if (patch.stage !== undefined) set.stage = patch.stage;
    if (patch.progress !== undefined) set.progress = patch.progress;
    if (patch.errorCode !== undefined) set.error_code = patch.errorCode;
    if (patch.errorMessage !== undefined) set.error_message = patch.errorMessage;
    if (patch.attempts !== undefined) set.attempts = patch.attempts;
    if (patch.startedAt !== undefined) set.started_at = patch.startedAt;
    if (patch.finishedAt !== undefined) set.finished_at = patch.finishedAt;
    if (Object.keys(set).length === 0) return this.getJob(id);
    const row = await this.ctx.db.updateTable('jobs').set(set).where('id', '=', id).returningAll().executeTakeFirst();
    return row && toJob(row);
  }

  async jobsInState(states: readonly JobState[]): Promise<JobRecord[]> {
    if (states.length === 0) return [];
    const rows = await this.ctx.db
      .selectFrom('jobs')
      .selectAll()
      .where('state', 'in', [...states])
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toJob);
  }

  /** How many jobs are in each state (one grouped count over the state index; states with none are left out). */
  async countJobsByState(): Promise<Partial<Record<JobState, number>>> {
    const rows = await this.ctx.db
      .selectFrom('jobs')
      .select((eb) => ['state', eb.fn.countAll<number | string | bigint>().as('n')])
      .groupBy('state')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.state, Number(row.n)]));
  }

  async jobsOfBatch(batchId: string): Promise<JobRecord[]> {
    const rows = await this.ctx.db.selectFrom('jobs').selectAll().where('batch_id', '=', batchId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toJob);
  }

  async jobsOfMeeting(meetingId: string): Promise<JobRecord[]> {
    const rows = await this.ctx.db.selectFrom('jobs').selectAll().where('meeting_id', '=', meetingId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toJob);
  }

  async insertBatch(batch: Pick<BatchRecord, 'id' | 'kind'>): Promise<BatchRecord> {
    const row = await this.ctx.guard(
      () => this.ctx.db.insertInto('batches').values({ id: batch.id, kind: batch.kind, created_at: nowIso() }).returningAll().executeTakeFirstOrThrow(),
      { unique: () => new ConflictError(`A batch with id "${batch.id}" already exists.`) },
    );
    return toBatch(row, []);
  }

  async getBatch(id: string): Promise<BatchRecord | undefined> {
    const row = await this.ctx.db.selectFrom('batches').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const notes = await this.ctx.db.selectFrom('batch_notes').select(['meeting_id', 'message']).where('batch_id', '=', id).orderBy('seq').execute();
    return toBatch(
      row,
      notes.map((note) => ({ meetingId: note.meeting_id, message: note.message })),
    );
  }

  async addBatchNotes(batchId: string, notes: BatchNote[]): Promise<void> {
    if (notes.length === 0) return;
    const rows = notes.map((note) => ({ batch_id: batchId, meeting_id: note.meetingId, message: note.message }));
    await this.ctx.guard(() => this.ctx.inTransaction((db) => insertChunked(rows, (chunk) => db.insertInto('batch_notes').values(chunk).execute())), {
      foreignKey: () => new NotFoundError('batch', batchId),
    });
  }
}
