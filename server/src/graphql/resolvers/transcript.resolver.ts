import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';

import { InvalidArgumentError } from '../../common/errors';
import { TranscriptRecord, TranscriptSegmentRecord } from '../../store/types';
import { GraphQLContext } from '../context';
import { meetingSpeakers, toMeeting } from '../mappers';
import { Meeting, MeetingFilter, Speaker } from '../types/meeting.type';
import { Transcript, TranscriptFormatGql, TranscriptHitConnection, TranscriptSegment, TranscriptSegmentConnection } from '../types/transcript.type';
import { toStoreFilter } from './meeting.resolver';

/** Lines per page of Meeting.transcript (also the default: most one-hour transcripts fit in one page). */
export const MAX_TRANSCRIPT_PAGE = 1000;
const MAX_SEARCH_PAGE = 100;

function toTranscript(t: TranscriptRecord): Transcript {
  return {
    meetingId: t.meetingId,
    format: t.format as TranscriptFormatGql,
    cueCount: t.cueCount,
    wordCount: t.wordCount,
    attachedAt: new Date(t.createdAt),
    alignedAt: new Date(t.alignedAt),
  };
}

export function toSegment(s: TranscriptSegmentRecord, speakers: ReadonlyMap<string, Speaker>): TranscriptSegment {
  return {
    start: s.startSec,
    end: s.endSec,
    text: s.text,
    overlap: s.overlap,
    speaker: s.speakerId ? speakers.get(s.speakerId) : undefined,
    words: (s.words ?? []).map((w) => ({ start: w.startSec, end: w.endSec, text: w.text })),
  };
}

function checkPage(first: number, max: number): void {
  if (!Number.isInteger(first) || first < 1 || first > max) throw new InvalidArgumentError(`first must be between 1 and ${max}; got ${first}.`);
}

@Resolver(() => Meeting)
export class TranscriptResolver {
  @FieldResolver(() => TranscriptSegmentConnection, {
    description: `The speaker-attributed transcript in time order, at most ${MAX_TRANSCRIPT_PAGE} lines a page; empty when none is attached`,
  })
  async transcript(
    @Root() meeting: Meeting,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { defaultValue: MAX_TRANSCRIPT_PAGE }) first: number = MAX_TRANSCRIPT_PAGE,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<TranscriptSegmentConnection> {
    checkPage(first, MAX_TRANSCRIPT_PAGE);
    const [page, speakers] = await Promise.all([
      ctx.platform.store.transcriptSegments(meeting.id, first, after ?? undefined),
      meetingSpeakers(ctx, meeting.id),
    ]);
    const byId = new Map(speakers.map((s) => [s.id, s]));
    return {
      nodes: page.items.map((s) => toSegment(s, byId)),
      pageInfo: { endCursor: page.endCursor, hasNextPage: page.hasNextPage },
      totalCount: page.totalCount,
    };
  }

  @Authorized('admin')
  @Mutation(() => Transcript, {
    description:
      "Attaches an ASR transcript (replacing the meeting's previous one) and attributes every line to the diarized speakers; attached before diarization ends, it is attributed when the job ends",
  })
  async attachTranscript(
    @Ctx() ctx: GraphQLContext,
    @Arg('meetingId', () => ID) meetingId: string,
    @Arg('format', () => TranscriptFormatGql) format: TranscriptFormatGql,
    @Arg('content', () => String) content: string,
  ): Promise<Transcript> {
    return toTranscript(await ctx.platform.transcripts.attach(meetingId, format, content));
  }

  @Authorized('admin')
  @Mutation(() => Boolean, { description: "Removes the meeting's transcript and its search entries; false when it had none" })
  async deleteTranscript(@Ctx() ctx: GraphQLContext, @Arg('meetingId', () => ID) meetingId: string): Promise<boolean> {
    return ctx.platform.transcripts.delete(meetingId);
  }

  @Authorized()
  @Query(() => TranscriptHitConnection, {
    description:
      'Full-text search over every transcript line: all words must occur, "double-quoted" words as a phrase; narrowed by meeting filter, person or speaker',
  })
  async searchTranscripts(
    @Ctx() ctx: GraphQLContext,
    @Arg('query', () => String) query: string,
    @Arg('filter', () => MeetingFilter, { nullable: true }) filter?: MeetingFilter,
    @Arg('personId', () => ID, { nullable: true, description: "Only lines attributed to this person's speakers" }) personId?: string,
    @Arg('speakerId', () => ID, { nullable: true }) speakerId?: string,
    @Arg('first', () => Int, { defaultValue: 20 }) first = 20,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<TranscriptHitConnection> {
    checkPage(first, MAX_SEARCH_PAGE);
    const { store } = ctx.platform;
    const page = await store.searchTranscripts(
      { text: query, filter: toStoreFilter(filter), personId: personId ?? undefined, speakerId: speakerId ?? undefined },
      first,
      after ?? undefined,
    );
    const meetings = new Map((await store.getMeetings(page.items.map((h) => h.meetingId))).map((m) => [m.id, toMeeting(m)]));
    const nodes = await Promise.all(
      page.items.map(async (hit) => {
        const speakers = await meetingSpeakers(ctx, hit.meetingId);
        return {
          meeting: meetings.get(hit.meetingId)!,
          speaker: speakers.find((s) => s.id === hit.speakerId),
          start: hit.startSec,
          end: hit.endSec,
          snippet: hit.snippet,
        };
      }),
    );
    return { nodes, pageInfo: { endCursor: page.endCursor, hasNextPage: page.hasNextPage } };
  }
}
