import { Arg, Authorized, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';

import { aggregateStats } from '../../analytics/aggregate';
import { meetingStats } from '../../analytics/meeting-stats';
import { InvalidArgumentError } from '../../common/errors';
import { GraphQLContext } from '../context';
import { meetingSpeakers, toPerson } from '../mappers';
import { Meeting, MeetingFilter } from '../types/meeting.type';
import { AggregateStats, MeetingStats } from '../types/stats.type';
import { toStoreFilter } from './meeting.resolver';

/** Aggregates read every turn of every matching meeting; past this many, narrow the filter. */
const MAX_AGGREGATE_MEETINGS = 5000;

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const r1 = (x: number) => Math.round(x * 10) / 10;

/** Words and words per minute, or nothing when no transcript covers the voice. */
function wordFigures(words: number | undefined, talkSec: number): { words?: number; wordsPerMinute?: number } {
  if (words === undefined) return {};
  return { words, wordsPerMinute: talkSec > 0 ? r1(words / (talkSec / 60)) : 0 };
}
const r4 = (x: number) => Math.round(x * 10000) / 10000;

@Resolver(() => Meeting)
export class StatsResolver {
  @FieldResolver(() => MeetingStats, { description: 'Talk time, turns, interruptions, overlap and silence' })
  async stats(@Root() meeting: Meeting, @Ctx() ctx: GraphQLContext): Promise<MeetingStats> {
    const { store } = ctx.platform;
    const [page, speakers, transcript, words] = await Promise.all([
      store.turnsOfMeeting(meeting.id),
      meetingSpeakers(ctx, meeting.id),
      store.getTranscript(meeting.id),
      store.transcriptWordsBySpeaker([meeting.id]),
    ]);
    const wordsOf = new Map(words.map((w) => [w.speakerId, w.words]));
    const turns = page.items.map((t) => ({ speakerId: t.speakerId, start: t.startSec, end: t.endSec }));
    const stats = meetingStats(turns, meeting.durationSeconds);
    const byId = new Map(speakers.map((s) => [s.id, s]));
    return {
      durationSeconds: r3(stats.durationSec),
      speechSeconds: r3(stats.speechSec),
      overlapSeconds: r3(stats.overlapSec),
      silenceRatio: r4(stats.silenceRatio),
      turns: turns.length,
      interruptions: stats.interruptions,
      speakers: stats.speakers
        .filter((s) => byId.has(s.speakerId))
        .map((s) => ({
          speaker: byId.get(s.speakerId)!,
          talkTimeSeconds: r3(s.talkTimeSec),
          share: r4(s.talkShare),
          turns: s.turns,
          meanTurnSeconds: r3(s.meanTurnSec),
          longestTurnSeconds: r3(s.longestTurnSec),
          interruptions: s.interruptions,
          ...wordFigures(transcript ? (wordsOf.get(s.speakerId) ?? 0) : undefined, s.talkTimeSec),
        })),
    };
  }

  @Authorized()
  @Query(() => AggregateStats, { name: 'stats', description: 'Statistics over every meeting matching the filter, per person (unassigned speakers in one row)' })
  async aggregateStats(@Ctx() ctx: GraphQLContext, @Arg('filter', () => MeetingFilter, { nullable: true }) filter?: MeetingFilter): Promise<AggregateStats> {
    const { store } = ctx.platform;
    const ids = await store.meetingIds(toStoreFilter(filter));
    if (ids.length > MAX_AGGREGATE_MEETINGS)
      throw new InvalidArgumentError(`${ids.length} meetings match; aggregates take at most ${MAX_AGGREGATE_MEETINGS}. Narrow the filter (dates, tag).`);
    const meetings = await store.getMeetings(ids);
    const inputs = await Promise.all(
      meetings.map(async (m) => {
        const [page, speakers] = await Promise.all([store.turnsOfMeeting(m.id), ctx.speakersOf(m.id)]);
        return {
          meetingId: m.id,
          durationSec: m.durationSec,
          turns: page.items.map((t) => ({ speakerId: t.speakerId, start: t.startSec, end: t.endSec })),
          personOfSpeaker: new Map(speakers.filter((s) => s.personId).map((s) => [s.id, s.personId!])),
        };
      }),
    );
    const agg = aggregateStats(inputs);
    // Words per person over the meetings with a transcript, and the talk time of those meetings.
    const words = await store.transcriptWordsBySpeaker(ids);
    const withTranscript = new Set(words.map((w) => w.meetingId));
    const personKey = (personId: string | undefined) => personId ?? '';
    const wordsByPerson = new Map<string, { words: number; talkSec: number }>();
    const speakerRecords = new Map(
      (await Promise.all(meetings.filter((m) => withTranscript.has(m.id)).map((m) => ctx.speakersOf(m.id)))).flat().map((s) => [s.id, s]),
    );
    for (const speaker of speakerRecords.values()) {
      const entry = wordsByPerson.get(personKey(speaker.personId)) ?? { words: 0, talkSec: 0 };
      entry.talkSec += speaker.talkTimeSec;
      wordsByPerson.set(personKey(speaker.personId), entry);
    }
    for (const w of words) {
      const speaker = speakerRecords.get(w.speakerId);
      if (speaker) wordsByPerson.get(personKey(speaker.personId))!.words += w.words;
    }
    const people = await Promise.all(
      agg.people.map(async (p) => {
        const person = p.personId ? await ctx.person(p.personId) : undefined;
        return {
          person: person && toPerson(person),
          name: person?.name ?? (p.personId ? 'Deleted person' : 'Unassigned speakers'),
          meetings: p.meetings,
          talkTimeSeconds: r3(p.talkTimeSec),
          share: r4(p.talkShare),
          turns: p.turns,
          meanTurnSeconds: r3(p.meanTurnSec),
          longestTurnSeconds: r3(p.longestTurnSec),
          interruptions: p.interruptions,
          ...(wordsByPerson.has(personKey(p.personId))
            ? wordFigures(wordsByPerson.get(personKey(p.personId))!.words, wordsByPerson.get(personKey(p.personId))!.talkSec)
            : {}),
        };
      }),
    );
    return {
      meetings: agg.meetings,
      durationSeconds: r3(agg.durationSec),
      speechSeconds: r3(agg.speechSec),
      overlapSeconds: r3(agg.overlapSec),
      silenceRatio: r4(agg.silenceRatio),
      turns: inputs.reduce((n, m) => n + m.turns.length, 0),
      interruptions: agg.interruptions,
      people,
    };
  }
}
