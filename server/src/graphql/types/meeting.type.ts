import { Field, Float, GraphQLISODateTime, ID, InputType, Int, ObjectType } from 'type-graphql';

import { PageInfo } from './common.type';
import { MeetingOrderField, OrderDirection } from './enums';

@ObjectType({ description: 'A recording and what the platform found in it' })
export class Meeting {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  title!: string;

  @Field(() => [String])
  tags!: string[];

  @Field(() => Float)
  durationSeconds!: number;

  @Field(() => GraphQLISODateTime)
  createdAt!: Date;

  @Field(() => Int, { nullable: true, description: 'Exact speaker count asked for at upload' })
  numSpeakers?: number;

  @Field(() => Int, { nullable: true })
  minSpeakers?: number;

  @Field(() => Int, { nullable: true })
  maxSpeakers?: number;

  /** Not exposed: for field resolvers (updatedAt keys the turn-page cache). */
  latestJobId?: string;
  updatedAt?: string;
  playablePath?: string;
  peaksPath?: string;
}

@ObjectType({ description: 'A voice in one meeting: anonymous ("Speaker 2") until renamed or matched to a person' })
export class Speaker {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'The name a person gave, the matched person\'s name, or "Speaker N"' })
  label!: string;

  @Field(() => String, { description: 'Label of the diarization run (SPEAKER_00, …)' })
  engineLabel!: string;

  @Field(() => Float)
  talkTimeSeconds!: number;

  @Field(() => Float, { nullable: true, description: 'Cosine similarity of the automatic match to the person' })
  matchScore?: number;

  @Field(() => Int, { description: 'Stable index for a colour palette' })
  colorIndex!: number;

  @Field(() => ID)
  meetingId!: string;

  /** Not exposed: resolved by Speaker.person. */
  personId?: string;
}

@ObjectType({ description: "A stretch of one speaker's speech; turns of different speakers may overlap" })
export class Turn {
  @Field(() => ID)
  id!: string;

  @Field(() => Float, { description: 'Seconds from the start' })
  start!: number;

  @Field(() => Float)
  end!: number;

  @Field(() => Speaker)
  speaker!: Speaker;
}

@ObjectType()
export class TurnConnection {
  @Field(() => [Turn])
  nodes!: Turn[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  /** Not exposed: `totalCount` is counted only when asked for (TurnConnectionResolver). */
  meetingId!: string;
  range!: { from?: number; to?: number };
  knownTotal?: number;
}

@ObjectType()
export class MeetingConnection {
  @Field(() => [Meeting])
  nodes!: Meeting[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  totalCount!: number;
}

@InputType()
export class MeetingFilter {
  @Field(() => String, { nullable: true, description: 'Case-insensitive text in the title' })
  text?: string;

  @Field(() => String, { nullable: true })
  tag?: string;

  @Field(() => ID, { nullable: true, description: 'Meetings where this person speaks' })
  personId?: string;

  @Field(() => GraphQLISODateTime, { nullable: true })
  createdFrom?: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  createdTo?: Date;

  @Field(() => [ID], { nullable: true })
  ids?: string[];
}

@InputType()
export class MeetingOrder {
  @Field(() => MeetingOrderField, { defaultValue: MeetingOrderField.CREATED_AT })
  field!: MeetingOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.DESC })
  direction!: OrderDirection;
}

/** Speaker counts and tags, shared by uploads and imports. */
@InputType()
abstract class NewMeetingFields {
  @Field(() => Int, { nullable: true, description: 'Exact number of speakers, when known' })
  numSpeakers?: number;

  @Field(() => Int, { nullable: true })
  minSpeakers?: number;

  @Field(() => Int, { nullable: true })
  maxSpeakers?: number;

  @Field(() => [String], { nullable: true })
  tags?: string[];
}

@InputType()
export class CreateMeetingInput extends NewMeetingFields {
  @Field(() => ID, { description: 'The id answered by POST /uploads' })
  uploadId!: string;

  @Field(() => String)
  title!: string;
}

@InputType({ description: 'A file already on the server, under IMPORT_DIR' })
export class ImportInput extends NewMeetingFields {
  @Field(() => String, { description: 'Relative to IMPORT_DIR (or absolute inside it)' })
  path!: string;

  @Field(() => String, { nullable: true, description: 'Default: the file name' })
  title?: string;
}
