import { Arg, Authorized, Ctx, FieldResolver, Float, ID, Mutation, Resolver, Root } from 'type-graphql';

import { GraphQLContext } from '../context';
import { toPerson, toSpeaker } from '../mappers';
import { Meeting, Speaker } from '../types/meeting.type';
import { Person } from '../types/person.type';
import { mustGetMeeting } from './meeting.resolver';

@Resolver(() => Speaker)
export class SpeakerResolver {
  @FieldResolver(() => Person, { nullable: true, description: 'The enrolled person this voice was matched or assigned to' })
  async person(@Root() speaker: Speaker, @Ctx() ctx: GraphQLContext): Promise<Person | undefined> {
    if (!speaker.personId) return undefined;
    const person = await ctx.person(speaker.personId);
    return person && toPerson(person);
  }

  @Authorized('admin')
  @Mutation(() => Speaker, { description: 'Names a speaker of one meeting (an empty name makes it anonymous again)' })
  async renameSpeaker(@Ctx() ctx: GraphQLContext, @Arg('speakerId', () => ID) speakerId: string, @Arg('name', () => String) name: string): Promise<Speaker> {
    const s = await ctx.platform.meetings.rename(speakerId, name);
    return toSpeaker(s, s.personId ? await ctx.person(s.personId) : undefined);
  }

  @Authorized('admin')
  @Mutation(() => Speaker, { description: 'Assigns the speaker to a person (personId null: unassign); automatic matching never overrides it' })
  async assignSpeaker(
    @Ctx() ctx: GraphQLContext,
    @Arg('speakerId', () => ID) speakerId: string,
    @Arg('personId', () => ID, { nullable: true }) personId?: string,
  ): Promise<Speaker> {
    const s = await ctx.platform.meetings.assign(speakerId, personId ?? undefined);
    return toSpeaker(s, s.personId ? await ctx.platform.store.getPerson(s.personId) : undefined);
  }

  @Authorized('admin')
  @Mutation(() => Meeting, { description: 'Moves every turn of mergeSpeakerId to keepSpeakerId and removes mergeSpeakerId' })
  async mergeSpeakers(
    @Ctx() ctx: GraphQLContext,
    @Arg('meetingId', () => ID) meetingId: string,
    @Arg('keepSpeakerId', () => ID) keepSpeakerId: string,
    @Arg('mergeSpeakerId', () => ID) mergeSpeakerId: string,
  ): Promise<Meeting> {
    await ctx.platform.meetings.merge(meetingId, keepSpeakerId, mergeSpeakerId);
    return mustGetMeeting(ctx, meetingId);
  }

  @Authorized('admin')
  @Mutation(() => Meeting, { description: "Gives the speaker's speech inside [from, to) to a new speaker" })
  async splitSpeaker(
    @Ctx() ctx: GraphQLContext,
    @Arg('speakerId', () => ID) speakerId: string,
    @Arg('from', () => Float) from: number,
    @Arg('to', () => Float) to: number,
  ): Promise<Meeting> {
    await ctx.platform.meetings.split(speakerId, from, to);
    const speaker = await ctx.platform.store.getSpeaker(speakerId);
    return mustGetMeeting(ctx, speaker!.meetingId);
  }

  @Authorized('admin')
  @Mutation(() => Meeting, { description: 'Gives one turn to another speaker of the same meeting' })
  async moveTurn(@Ctx() ctx: GraphQLContext, @Arg('turnId', () => ID) turnId: string, @Arg('toSpeakerId', () => ID) toSpeakerId: string): Promise<Meeting> {
    const meetingId = await ctx.platform.meetings.moveTurn(turnId, toSpeakerId);
    return mustGetMeeting(ctx, meetingId);
  }
}
