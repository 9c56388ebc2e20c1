import { Arg, Authorized, Ctx, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';

import { InvalidArgumentError, NotFoundError } from '../../common/errors';
import { EnrollmentRecord } from '../../store/types';
import { GraphQLContext } from '../context';
import { toMeeting, toPerson, toSpeaker } from '../mappers';
import { Meeting } from '../types/meeting.type';
import { Enrollment, Person, PersonInput } from '../types/person.type';
import { SpeakerMatch } from '../types/speaker-match.type';
import { unionOfSpans } from '../../services/turn-edits';

function toEnrollment(e: EnrollmentRecord): Enrollment {
  return { id: e.id, source: e.source, speechSeconds: e.speechSec, modelName: e.modelName, createdAt: new Date(e.createdAt) };
}

@Resolver(() => Person)
export class PersonResolver {
  @Authorized()
  @Query(() => [Person], { description: 'People by name, alphabetically' })
  async people(
    @Ctx() ctx: GraphQLContext,
    @Arg('text', () => String, { nullable: true }) text?: string,
    @Arg('first', () => Int, { defaultValue: 50 }) first = 50,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<Person[]> {
    if (first < 1 || first > 500) throw new InvalidArgumentError(`first must be between 1 and 500; got ${first}.`);
    const page = await ctx.platform.store.listPeople({ text: text ?? undefined }, first, after ?? undefined);
    return page.items.map(toPerson);
  }

  @Authorized()
  @Query(() => Person, { nullable: true })
  async person(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Person | undefined> {
    const p = await ctx.person(id);
    return p && toPerson(p);
  }

  @FieldResolver(() => [Enrollment])
  async enrollments(@Root() person: Person, @Ctx() ctx: GraphQLContext): Promise<Enrollment[]> {
    return (await ctx.platform.store.enrollmentsOfPerson(person.id)).map(toEnrollment);
  }

  @FieldResolver(() => [Meeting], { description: 'Meetings where a speaker is this person, newest first' })
  async meetings(@Root() person: Person, @Ctx() ctx: GraphQLContext): Promise<Meeting[]> {
    const speakers = await ctx.platform.store.speakersOfPerson(person.id);
    const meetings = await ctx.platform.store.getMeetings([...new Set(speakers.map((s) => s.meetingId))]);
    return meetings.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map(toMeeting);
  }

  @FieldResolver(() => Float, { description: 'Talk time over every meeting' })
  async totalTalkTimeSeconds(@Root() person: Person, @Ctx() ctx: GraphQLContext): Promise<number> {
    const speakers = await ctx.platform.store.speakersOfPerson(person.id);
    return Math.round(speakers.reduce((sum, s) => sum + s.talkTimeSec, 0) * 1000) / 1000;
  }

  @Authorized('admin')
  @Mutation(() => Person)
  async createPerson(@Ctx() ctx: GraphQLContext, @Arg('input', () => PersonInput) input: PersonInput): Promise<Person> {
    return toPerson(await ctx.platform.people.create(input));
  }

  @Authorized('admin')
  @Mutation(() => Person)
  async updatePerson(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('input', () => PersonInput) input: PersonInput): Promise<Person> {
    return toPerson(await ctx.platform.people.update(id, input));
  }

  @Authorized('admin')
  @Mutation(() => Boolean, { description: 'Consent withdrawn: deletes the person and every embedding of their voice (index included)' })
  async deletePerson(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return ctx.platform.people.delete(id);
  }

  @Authorized('admin')
  @Mutation(() => [Enrollment], { description: 'Enrolls a voice from uploaded clips (POST /uploads), one person per clip' })
  async enrollFromUploads(
    @Ctx() ctx: GraphQLContext,
    @Arg('personId', () => ID) personId: string,
    @Arg('uploadIds', () => [ID]) uploadIds: string[],
  ): Promise<Enrollment[]> {
    return (await ctx.platform.people.enrollFromUploads(personId, uploadIds)).map(toEnrollment);
  }

  @Authorized('admin')
  @Mutation(() => Enrollment, { description: "Enrolls a meeting speaker's voice and assigns the speaker to the person" })
  async enrollFromSpeaker(
    @Ctx() ctx: GraphQLContext,
    @Arg('personId', () => ID) personId: string,
    @Arg('speakerId', () => ID) speakerId: string,
  ): Promise<Enrollment> {
    return toEnrollment(await ctx.platform.people.enrollFromSpeaker(personId, speakerId));
  }

  @Authorized('admin')
  @Mutation(() => Boolean)
  async removeEnrollment(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return ctx.platform.people.removeEnrollment(id);
  }

  @Authorized()
  @Query(() => [SpeakerMatch], { description: 'Meetings and time ranges where the voice of an uploaded clip appears, most similar first' })
  async findSpeaker(
    @Ctx() ctx: GraphQLContext,
    @Arg('uploadId', () => ID) uploadId: string,
    @Arg('first', () => Int, { defaultValue: 10 }) first = 10,
  ): Promise<SpeakerMatch[]> {
    if (first < 1 || first > 100) throw new InvalidArgumentError(`first must be between 1 and 100; got ${first}.`);
    const { store, clips, identity } = ctx.platform;
    const upload = await store.getUpload(uploadId);
    if (!upload) throw new NotFoundError('upload', uploadId);
    // Length checked before decoding; the engine run takes a job slot (or a worker, with REDIS_URL).
    const { embedding } = await clips.embed(upload);
    const hits = await identity.findSpeaker(embedding, first);
    const out: SpeakerMatch[] = [];
    for (const hit of hits) {
      const [meeting, speaker] = await Promise.all([store.getMeeting(hit.meetingId), store.getSpeaker(hit.speakerId)]);
      if (!meeting || !speaker) continue;
      const turns = (await store.turnsOfMeeting(meeting.id)).items.filter((t) => t.speakerId === speaker.id);
      out.push({
        meeting: toMeeting(meeting),
        speaker: toSpeaker(speaker, speaker.personId ? await ctx.person(speaker.personId) : undefined),
        similarity: hit.similarity,
        ranges: unionOfSpans(turns).map((s) => ({ start: s.startSec, end: s.endSec })),
      });
    }
    return out;
  }
}
