import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';

import { InvalidArgumentError, NotFoundError } from '../../common/errors';
import { JOB_PROGRESS_TOPIC } from '../../jobs/job-events';
import { JobProgressEvent as ProgressPayload } from '../../jobs/job-service';
import { GraphQLContext } from '../context';
import { toJob, toMeeting } from '../mappers';
import { Batch, ReprocessInput } from '../types/batch.type';
import { JobKindGql } from '../types/enums';
import { Job, JobProgressEvent } from '../types/job.type';
import { Meeting } from '../types/meeting.type';
import { toStoreFilter } from './meeting.resolver';

/** Largest reprocessing batch one call may start (one job per meeting). */
const MAX_BATCH = 10_000;

@Resolver(() => Job)
export class JobResolver {
  @Authorized()
  @Query(() => Job, { nullable: true, description: 'Poll a job (the jobProgress subscription pushes the same data)' })
  async job(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Job | undefined> {
    const job = await ctx.platform.store.getJob(id);
    return job && toJob(job);
  }

  @FieldResolver(() => Meeting, { nullable: true })
  async meeting(@Root() job: Job, @Ctx() ctx: GraphQLContext): Promise<Meeting | undefined> {
    const m = await ctx.platform.store.getMeeting(job.meetingId);
    return m && toMeeting(m);
  }

  @Authorized('admin')
  @Mutation(() => Job)
  async cancelJob(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Job> {
    return toJob(await ctx.platform.jobs.cancel(id));
  }

  @Authorized('admin')
  @Mutation(() => Job, { description: 'A new job for the same meeting after a FAILED or CANCELLED one' })
  async retryJob(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Job> {
    return toJob(await ctx.platform.jobs.retry(id));
  }

  @Authorized()
  @Query(() => Batch, { nullable: true })
  async batch(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Batch | undefined> {
    return loadBatch(ctx, id);
  }

  @Authorized('admin')
  @Mutation(() => Batch, {
    description:
      'Re-runs diarization (or only identification) over listed meetings or a filter: one job per meeting under one batch. ' +
      'Idempotent: results replace the previous ones; names and person assignments carry over to the matching new speakers.',
  })
  async reprocess(@Ctx() ctx: GraphQLContext, @Arg('input', () => ReprocessInput) input: ReprocessInput): Promise<Batch> {
    const { store, jobs } = ctx.platform;
    if (!input.meetingIds && !input.filter) throw new InvalidArgumentError('Give meetingIds or a filter (an empty filter {} selects every meeting).');
    const ids = input.meetingIds ?? (await store.meetingIds(toStoreFilter(input.filter)));
    const unique = [...new Set(ids)];
    if (unique.length === 0) throw new InvalidArgumentError('No meeting matches; nothing to reprocess.');
    if (unique.length > MAX_BATCH) throw new InvalidArgumentError(`${unique.length} meetings match; one batch takes at most ${MAX_BATCH}. Narrow the filter.`);
    const found = await store.getMeetings(unique);
    const missing = unique.filter((id) => !found.some((m) => m.id === id));
    if (missing.length > 0) throw new NotFoundError('meeting', missing[0]);
    const { batch } = await jobs.submitBatch(input.kind, unique);
    return (await loadBatch(ctx, batch.id))!;
  }

  @Authorized()
  @Subscription(() => JobProgressEvent, {
    topics: JOB_PROGRESS_TOPIC,
    filter: ({ payload, args }: { payload: ProgressPayload; args: { jobId?: string; meetingId?: string; batchId?: string } }) =>
      (!args.jobId || payload.jobId === args.jobId) &&
      (!args.meetingId || payload.meetingId === args.meetingId) &&
      (!args.batchId || payload.batchId === args.batchId),
    description: 'Job state changes and progress; narrow it with jobId, meetingId or batchId',
  })
  jobProgress(
    @Root() payload: ProgressPayload,
    @Arg('jobId', () => ID, { nullable: true }) _jobId?: string,
    @Arg('meetingId', () => ID, { nullable: true }) _meetingId?: string,
    @Arg('batchId', () => ID, { nullable: true }) _batchId?: string,
  ): JobProgressEvent {
    return { ...payload, state: payload.state as JobProgressEvent['state'] };
  }
}

@Resolver(() => Batch)
export class BatchResolver {
  @FieldResolver(() => [Job])
  async jobs(@Root() batch: Batch, @Ctx() ctx: GraphQLContext): Promise<Job[]> {
    return (await ctx.platform.store.jobsOfBatch(batch.id)).map(toJob);
  }
}

async function loadBatch(ctx: GraphQLContext, id: string): Promise<Batch | undefined> {
  const batch = await ctx.platform.store.getBatch(id);
  if (!batch) return undefined;
  const jobs = await ctx.platform.store.jobsOfBatch(id);
  const count = (state: string) => jobs.filter((j) => j.state === state).length;
  const done = (state: string) => state === 'SUCCEEDED' || state === 'FAILED' || state === 'CANCELLED';
  return {
    id: batch.id,
    kind: batch.kind as JobKindGql,
    createdAt: new Date(batch.createdAt),
    total: jobs.length,
    queued: count('QUEUED'),
    running: count('RUNNING'),
    succeeded: count('SUCCEEDED'),
    failed: count('FAILED'),
    cancelled: count('CANCELLED'),
    progress: jobs.length === 0 ? 1 : jobs.reduce((sum, j) => sum + (done(j.state) ? 1 : j.progress), 0) / jobs.length,
    notes: batch.notes,
  };
}
