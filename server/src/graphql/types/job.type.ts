import { Field, Float, GraphQLISODateTime, ID, Int, ObjectType } from 'type-graphql';

import { JobKindGql, JobStateGql } from './enums';

@ObjectType({ description: 'One diarization or identification run of a meeting' })
export class Job {
  @Field(() => ID)
  id!: string;

  @Field(() => JobKindGql)
  kind!: JobKindGql;

  @Field(() => JobStateGql)
  state!: JobStateGql;

  @Field(() => String, { nullable: true, description: 'Pipeline stage while RUNNING' })
  stage?: string;

  @Field(() => Float, { description: 'Fraction done, 0..1' })
  progress!: number;

  @Field(() => String, { nullable: true, description: 'Stable error code when FAILED' })
  errorCode?: string;

  @Field(() => String, { nullable: true, description: 'What went wrong and what to do, when FAILED' })
  errorMessage?: string;

  @Field(() => Int)
  attempts!: number;

  @Field(() => GraphQLISODateTime)
  createdAt!: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  startedAt?: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  finishedAt?: Date;

  @Field(() => ID)
  meetingId!: string;

  @Field(() => ID, { nullable: true })
  batchId?: string;
}

@ObjectType({ description: 'A job state change or progress step, pushed over graphql-ws' })
export class JobProgressEvent {
  @Field(() => ID)
  jobId!: string;

  @Field(() => ID)
  meetingId!: string;

  @Field(() => ID, { nullable: true })
  batchId?: string;

  @Field(() => JobStateGql)
  state!: JobStateGql;

  @Field(() => String, { nullable: true })
  stage?: string;

  @Field(() => Float)
  progress!: number;

  @Field(() => String, { nullable: true })
  errorCode?: string;

  @Field(() => String, { nullable: true })
  errorMessage?: string;
}
