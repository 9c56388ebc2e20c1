import { Field, Float, GraphQLISODateTime, ID, InputType, Int, ObjectType } from 'type-graphql';

import { JobKindGql } from './enums';
import { MeetingFilter } from './meeting.type';

@ObjectType()
export class BatchNote {
  @Field(() => ID)
  meetingId!: string;

  @Field(() => String)
  message!: string;
}

@ObjectType({ description: 'A reprocessing run over many meetings: one job per meeting' })
export class Batch {
  @Field(() => ID)
  id!: string;

  @Field(() => JobKindGql)
  kind!: JobKindGql;

  @Field(() => GraphQLISODateTime)
  createdAt!: Date;

  @Field(() => Int)
  total!: number;

  @Field(() => Int)
  queued!: number;

  @Field(() => Int)
  running!: number;

  @Field(() => Int)
  succeeded!: number;

  @Field(() => Int)
  failed!: number;

  @Field(() => Int)
  cancelled!: number;

  @Field(() => Float, { description: 'Mean progress of its jobs, 0..1' })
  progress!: number;

  @Field(() => [BatchNote], { description: 'Manual work (names, person assignments) that could not be carried over' })
  notes!: BatchNote[];
}

@InputType()
export class ReprocessInput {
  @Field(() => [ID], { nullable: true })
  meetingIds?: string[];

  @Field(() => MeetingFilter, { nullable: true })
  filter?: MeetingFilter;

  @Field(() => JobKindGql, { defaultValue: JobKindGql.DIARIZE })
  kind!: JobKindGql;
}
