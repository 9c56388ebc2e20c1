import { Field, Float, GraphQLISODateTime, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

import { PageInfo } from './common.type';
import { Meeting, Speaker } from './meeting.type';

export enum TranscriptFormatGql {
  VTT = 'VTT',
  SRT = 'SRT',
  WHISPER_JSON = 'WHISPER_JSON',
}
registerEnumType(TranscriptFormatGql, {
  name: 'TranscriptFormat',
  description: 'WebVTT, SubRip, or Whisper JSON (openai-whisper, faster-whisper, whisper.cpp; word times used when present)',
});

@ObjectType({ description: "A meeting's current transcript (attaching another replaces it)" })
export class Transcript {
  @Field(() => ID)
  meetingId!: string;

  @Field(() => TranscriptFormatGql)
  format!: TranscriptFormatGql;

  @Field(() => Int, { description: 'Cues in the imported file' })
  cueCount!: number;

  @Field(() => Int)
  wordCount!: number;

  @Field(() => GraphQLISODateTime)
  attachedAt!: Date;

  @Field(() => GraphQLISODateTime, { description: 'When the lines were last attributed to the speakers (after every speaker edit and re-diarization)' })
  alignedAt!: Date;
}

@ObjectType()
export class TranscriptWord {
  @Field(() => Float)
  start!: number;

  @Field(() => Float)
  end!: number;

  @Field(() => String)
  text!: string;
}

@ObjectType({ description: 'One line: a cue as written, split only where its words change speaker' })
export class TranscriptSegment {
  @Field(() => Float, { description: 'Seconds from the start' })
  start!: number;

  @Field(() => Float)
  end!: number;

  @Field(() => String)
  text!: string;

  @Field(() => Boolean, { description: "Another speaker's turn overlaps this line" })
  overlap!: boolean;

  @Field(() => Speaker, { nullable: true, description: 'Null only while the meeting has no speakers yet (diarization running)' })
  speaker?: Speaker;

  @Field(() => [TranscriptWord], { description: 'Word times, when the file had them (else empty)' })
  words!: TranscriptWord[];
}

@ObjectType()
export class TranscriptSegmentConnection {
  @Field(() => [TranscriptSegment])
  nodes!: TranscriptSegment[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'Lines in the whole transcript (0 when there is none)' })
  totalCount!: number;
}

@ObjectType({ description: 'A transcript line matching a search' })
export class TranscriptHit {
  @Field(() => Meeting)
  meeting!: Meeting;

  @Field(() => Speaker, { nullable: true })
  speaker?: Speaker;

  @Field(() => Float, { description: 'Seconds from the start (open the meeting here)' })
  start!: number;

  @Field(() => Float)
  end!: number;

  @Field(() => String, { description: 'The line around the match; matched words between <mark> and </mark>. Plain text: escape it before using it as HTML' })
  snippet!: string;
}

@ObjectType()
export class TranscriptHitConnection {
  @Field(() => [TranscriptHit], { description: 'Best matches first' })
  nodes!: TranscriptHit[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
