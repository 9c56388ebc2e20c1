import { Field, Float, Int, ObjectType } from 'type-graphql';

import { Person } from './person.type';
import { Speaker } from './meeting.type';

@ObjectType()
export class SpeakerStats {
  @Field(() => Speaker)
  speaker!: Speaker;

  @Field(() => Float)
  talkTimeSeconds!: number;

  @Field(() => Float, { description: "Share of the meeting's speech time, 0..1" })
  share!: number;

  @Field(() => Int)
  turns!: number;

  @Field(() => Float)
  meanTurnSeconds!: number;

  @Field(() => Float)
  longestTurnSeconds!: number;

  @Field(() => Int, { description: 'Turns this speaker started while another speaker was talking' })
  interruptions!: number;
}

@ObjectType()
export class MeetingStats {
  @Field(() => Float)
  durationSeconds!: number;

  @Field(() => Float, { description: 'Time with at least one speaker' })
  speechSeconds!: number;

  @Field(() => Float, { description: 'Time with two or more speakers at once' })
  overlapSeconds!: number;

  @Field(() => Float, { description: 'Time with nobody speaking / duration' })
  silenceRatio!: number;

  @Field(() => Int)
  turns!: number;

  @Field(() => Int)
  interruptions!: number;

  @Field(() => [SpeakerStats])
  speakers!: SpeakerStats[];
}

@ObjectType({ description: 'Talk statistics of one person (or of unassigned speakers) over many meetings' })
export class PersonStats {
  @Field(() => Person, { nullable: true, description: 'Null for speakers not matched to anybody' })
  person?: Person;

  @Field(() => String)
  name!: string;

  @Field(() => Int)
  meetings!: number;

  @Field(() => Float)
  talkTimeSeconds!: number;

  @Field(() => Float)
  share!: number;

  @Field(() => Int)
  turns!: number;

  @Field(() => Float)
  meanTurnSeconds!: number;

  @Field(() => Float)
  longestTurnSeconds!: number;

  @Field(() => Int)
  interruptions!: number;
}

@ObjectType()
export class AggregateStats {
  @Field(() => Int)
  meetings!: number;

  @Field(() => Float)
  durationSeconds!: number;

  @Field(() => Float)
  speechSeconds!: number;

  @Field(() => Float)
  overlapSeconds!: number;

  @Field(() => Float)
  silenceRatio!: number;

  @Field(() => Int)
  turns!: number;

  @Field(() => Int)
  interruptions!: number;

  @Field(() => [PersonStats])
  people!: PersonStats[];
}
