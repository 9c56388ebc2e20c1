import { Field, Float, Int, ObjectType } from 'type-graphql';

import { Person } from './person.type';
import { Speaker } from './meeting.type';

/** Talk figures of one voice: a meeting speaker, or a person over many meetings. */
@ObjectType()
abstract class TalkFigures {
  @Field(() => Float)
  talkTimeSeconds!: number;

  @Field(() => Float, { description: 'Share of all talk time, 0..1 (shares add up to 1)' })
  share!: number;

  @Field(() => Int)
  turns!: number;

  @Field(() => Float)
  meanTurnSeconds!: number;

  @Field(() => Float)
  longestTurnSeconds!: number;

  @Field(() => Int, { description: 'Turns started while another speaker was talking' })
  interruptions!: number;

  @Field(() => Int, { nullable: true, description: 'Words in the transcript lines attributed to this voice; null without a transcript' })
  words?: number;

  @Field(() => Float, { nullable: true, description: 'words / talk time in minutes, over the meetings with a transcript; null without one' })
  wordsPerMinute?: number;
}

/** Time figures of one meeting or of many together. */
@ObjectType()
abstract class TimeFigures {
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
}

@ObjectType()
export class SpeakerStats extends TalkFigures {
  @Field(() => Speaker)
  speaker!: Speaker;
}

@ObjectType()
export class MeetingStats extends TimeFigures {
  @Field(() => [SpeakerStats])
  speakers!: SpeakerStats[];
}

@ObjectType({ description: 'Talk statistics of one person (or of unassigned speakers) over many meetings' })
export class PersonStats extends TalkFigures {
  @Field(() => Person, { nullable: true, description: 'Null for speakers not matched to anybody' })
  person?: Person;

  @Field(() => String)
  name!: string;

  @Field(() => Int)
  meetings!: number;
}

@ObjectType()
export class AggregateStats extends TimeFigures {
  @Field(() => Int)
  meetings!: number;

  @Field(() => [PersonStats])
  people!: PersonStats[];
}
