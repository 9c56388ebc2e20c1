import { Arg, Authorized, Ctx, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';

import { InvalidArgumentError, NotFoundError } from '../../common/errors';
import { resolveImportPath } from '../../http/import-path';
import { MeetingFilter as StoreMeetingFilter } from '../../store/types';
import { GraphQLContext } from '../context';
import { meetingSpeakers, toJob, toMeeting } from '../mappers';
import { JobStateGql, MeetingOrderField, OrderDirection, TurnExportFormat } from '../types/enums';
import { Job } from '../types/job.type';
import { CreateMeetingInput, ImportInput, Meeting, MeetingConnection, MeetingFilter, MeetingOrder, Speaker, TurnConnection } from '../types/meeting.type';
import { TurnPageCache, turnPageKey } from '../turn-page-cache';
import { exportTurns, exportUsesTranscript } from './turn-export';

/** Pages of turns hold at most this many; without `first` every turn comes back. */
export const MAX_TURN_PAGE = 1000;
const MAX_MEETING_PAGE = 100;
const turnPages = new TurnPageCache();

export function toStoreFilter(filter: MeetingFilter | undefined): StoreMeetingFilter {
  if (!filter) return {};
  return {
    text: filter.text ?? undefined,
    tag: filter.tag ?? undefined,
    personId: filter.personId ?? undefined,
    createdFrom: filter.createdFrom?.toISOString(),
    createdTo: filter.createdTo?.toISOString(),
    ids: filter.ids ?? undefined,
  };
}

@Resolver(() => Meeting)
export class MeetingResolver {
  @Authorized()
  @Query(() => MeetingConnection)
  async meetings(
    @Ctx() ctx: GraphQLContext,
    @Arg('filter', () => MeetingFilter, { nullable: true }) filter?: MeetingFilter,
    @Arg('first', () => Int, { defaultValue: 20 }) first = 20,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('orderBy', () => MeetingOrder, { nullable: true }) orderBy?: MeetingOrder,
  ): Promise<MeetingConnection> {
    if (first < 1 || first > MAX_MEETING_PAGE) throw new InvalidArgumentError(`first must be between 1 and ${MAX_MEETING_PAGE}; got ${first}.`);
    const order = { field: orderBy?.field ?? MeetingOrderField.CREATED_AT, direction: orderBy?.direction ?? OrderDirection.DESC };
    const page = await ctx.platform.store.listMeetings(toStoreFilter(filter), order, first, after ?? undefined);
    return { nodes: page.items.map(toMeeting), pageInfo: { endCursor: page.endCursor, hasNextPage: page.hasNextPage }, totalCount: page.totalCount };
  }

  @Authorized()
  @Query(() => Meeting, { nullable: true })
  async meeting(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Meeting | undefined> {
    const m = await ctx.platform.store.getMeeting(id);
    return m && toMeeting(m);
  }

  @FieldResolver(() => JobStateGql, { description: "The latest job's state" })
  async status(@Root() meeting: Meeting, @Ctx() ctx: GraphQLContext): Promise<JobStateGql> {
    if (!meeting.latestJobId) return JobStateGql.QUEUED;
    const job = await ctx.platform.store.getJob(meeting.latestJobId);
    return (job?.state ?? 'QUEUED') as JobStateGql;
  }

  @FieldResolver(() => Job, { nullable: true })
  async latestJob(@Root() meeting: Meeting, @Ctx() ctx: GraphQLContext): Promise<Job | undefined> {
    if (!meeting.latestJobId) return undefined;
    const job = await ctx.platform.store.getJob(meeting.latestJobId);
    return job && toJob(job);
  }

  @FieldResolver(() => [Job], { description: 'Every job of the meeting, newest first' })
  async jobs(@Root() meeting: Meeting, @Ctx() ctx: GraphQLContext): Promise<Job[]> {
    const jobs = await ctx.platform.store.jobsOfMeeting(meeting.id);
    return jobs.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map(toJob);
  }

  @FieldResolver(() => [Speaker], { description: 'Most talk time first' })
  async speakers(@Root() meeting: Meeting, @Ctx() ctx: GraphQLContext): Promise<Speaker[]> {
    return meetingSpeakers(ctx, meeting.id);
  }

  @FieldResolver(() => Int)
  async speakerCount(@Root() meeting: Meeting, @Ctx() ctx: GraphQLContext): Promise<number> {
    return (await ctx.speakersOf(meeting.id)).length;
  }

  @FieldResolver(() => TurnConnection, {
    description: `Turns in time order; all of them unless \`first\` asks for a page (at most ${MAX_TURN_PAGE}). from/to keep turns overlapping [from, to).`,
  })
  async turns(
    @Root() meeting: Meeting,
    @Ctx() ctx: GraphQLContext,
    @Arg('from', () => Float, { nullable: true }) from?: number,
    @Arg('to', () => Float, { nullable: true }) to?: number,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<TurnConnection> {
    if (first !== undefined && first !== null && (first < 1 || first > MAX_TURN_PAGE))
      throw new InvalidArgumentError(`first must be between 1 and ${MAX_TURN_PAGE}; got ${first}. Leave it out to get every turn.`);
    const range = { from: from ?? undefined, to: to ?? undefined };
    const args = { ...range, first: first ?? undefined, after: after ?? undefined };
    const load = () => ctx.platform.store.turnsPage(meeting.id, range, args.first, args.after);
    const [page, speakers] = await Promise.all([
      meeting.updatedAt ? turnPages.get(turnPageKey(meeting.id, meeting.updatedAt, args), load) : load(),
      meetingSpeakers(ctx, meeting.id),
    ]);
    const byId = new Map(speakers.map((s) => [s.id, s]));
    const whole = (first === undefined || first === null) && !after;
    return {
      nodes: page.items.map((t) => ({ id: t.id, start: t.startSec, end: t.endSec, speaker: byId.get(t.speakerId)! })),
      pageInfo: { endCursor: page.endCursor, hasNextPage: page.hasNextPage },
      meetingId: meeting.id,
      range,
      knownTotal: whole ? page.items.length : undefined,
    };
  }

  @FieldResolver(() => String, { nullable: true, description: 'Browser-playable audio (Opus/WebM, HTTP range requests), once ingested' })
  audioUrl(@Root() meeting: Meeting): string | undefined {
    return meeting.playablePath ? `/media/${meeting.id}/audio` : undefined;
  }

  @FieldResolver(() => String, { nullable: true, description: 'Waveform peaks: ?format=json|bin&resolution=<peaks per second>' })
  peaksUrl(@Root() meeting: Meeting): string | undefined {
    return meeting.peaksPath ? `/media/${meeting.id}/peaks` : undefined;
  }

  @FieldResolver(() => String, { description: 'All turns as RTTM, JSON or CSV text; the transcript with speakers as VTT, SRT or TXT' })
  async export(@Root() meeting: Meeting, @Ctx() ctx: GraphQLContext, @Arg('format', () => TurnExportFormat) format: TurnExportFormat): Promise<string> {
    const { store } = ctx.platform;
    const segments = async () => ((await store.getTranscript(meeting.id)) ? (await store.transcriptSegments(meeting.id)).items : undefined);
    const [page, speakers, lines] = await Promise.all([
      store.turnsOfMeeting(meeting.id),
      meetingSpeakers(ctx, meeting.id),
      exportUsesTranscript(format) ? segments() : undefined,
    ]);
    return exportTurns(format, meeting, page.items, speakers, lines);
  }

  @Authorized()
  @Query(() => [String], { description: 'Every tag in use' })
  async tags(@Ctx() ctx: GraphQLContext): Promise<string[]> {
    return ctx.platform.store.allTags();
  }

  @Authorized('admin')
  @Mutation(() => Meeting, { description: 'A meeting from an upload (POST /uploads); queues its diarization' })
  async createMeeting(@Ctx() ctx: GraphQLContext, @Arg('input', () => CreateMeetingInput) input: CreateMeetingInput): Promise<Meeting> {
    const meeting = await ctx.platform.meetings.create({
      uploadId: input.uploadId,
      title: input.title,
      tags: input.tags ?? undefined,
      numSpeakers: input.numSpeakers ?? undefined,
      minSpeakers: input.minSpeakers ?? undefined,
      maxSpeakers: input.maxSpeakers ?? undefined,
    });
    return toMeeting(meeting);
  }

  @Authorized('admin')
  @Mutation(() => [Meeting], { description: 'Meetings from files already on the server under IMPORT_DIR; one diarization job each' })
  async importMeetings(@Ctx() ctx: GraphQLContext, @Arg('inputs', () => [ImportInput]) inputs: ImportInput[]): Promise<Meeting[]> {
    const { importDir } = ctx.platform.config;
    // Check every path before copying anything, so a bad entry leaves nothing half-imported.
    const files = await Promise.all(inputs.map((input) => resolveImportPath(importDir, input.path)));
    const out: Meeting[] = [];
    for (const [i, input] of inputs.entries()) {
      const upload = await ctx.platform.uploads.importFile(files[i]);
      const meeting = await ctx.platform.meetings.create({
        uploadId: upload.id,
        title: input.title ?? upload.originalName,
        tags: input.tags ?? undefined,
        numSpeakers: input.numSpeakers ?? undefined,
        minSpeakers: input.minSpeakers ?? undefined,
        maxSpeakers: input.maxSpeakers ?? undefined,
      });
      out.push(toMeeting(meeting));
    }
    return out;
  }

  @Authorized('admin')
  @Mutation(() => Meeting)
  async updateMeeting(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('title', () => String, { nullable: true }) title?: string,
    @Arg('tags', () => [String], { nullable: true }) tags?: string[],
  ): Promise<Meeting> {
    const meeting = await ctx.platform.meetings.update(id, { title: title ?? undefined, tags: tags ?? undefined });
    return toMeeting(meeting);
  }

  @Authorized('admin')
  @Mutation(() => Boolean, { description: 'Deletes the meeting, its audio files and its voice-index entries' })
  async deleteMeeting(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return ctx.platform.meetings.delete(id);
  }
}

@Resolver(() => TurnConnection)
export class TurnConnectionResolver {
  @FieldResolver(() => Int, { description: 'Turns in the range (all pages)' })
  async totalCount(@Root() connection: TurnConnection, @Ctx() ctx: GraphQLContext): Promise<number> {
    return connection.knownTotal ?? ctx.platform.store.countTurns(connection.meetingId, connection.range);
  }
}

export async function mustGetMeeting(ctx: GraphQLContext, id: string): Promise<Meeting> {
  const m = await ctx.platform.store.getMeeting(id);
  if (!m) throw new NotFoundError('meeting', id);
  return toMeeting(m);
}
