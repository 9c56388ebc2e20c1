import { Field, Float, ObjectType } from 'type-graphql';

import { TimeRange } from './common.type';
import { Meeting, Speaker } from './meeting.type';

@ObjectType({ description: 'Where a voice appears: a meeting, its speaker, and the time ranges' })
export class SpeakerMatch {
  @Field(() => Meeting)
  meeting!: Meeting;

  @Field(() => Speaker)
  speaker!: Speaker;

  @Field(() => Float)
  similarity!: number;

  @Field(() => [TimeRange])
  ranges!: TimeRange[];
}
