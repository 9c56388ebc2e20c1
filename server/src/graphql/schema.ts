import 'reflect-metadata';
import { createPubSub } from '@graphql-yoga/subscription';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema } from 'type-graphql';

import { authChecker } from './context';
import { JobResolver, BatchResolver } from './resolvers/job.resolver';
import { MeetingResolver, TurnConnectionResolver } from './resolvers/meeting.resolver';
import { PersonResolver } from './resolvers/person.resolver';
import { SpeakerResolver } from './resolvers/speaker.resolver';
import { StatsResolver } from './resolvers/stats.resolver';
import { TokenResolver } from './resolvers/token.resolver';
import { TranscriptResolver } from './resolvers/transcript.resolver';

export const resolvers = [
  MeetingResolver,
  TurnConnectionResolver,
  SpeakerResolver,
  JobResolver,
  BatchResolver,
  PersonResolver,
  StatsResolver,
  TokenResolver,
  TranscriptResolver,
] as const;

export type PubSub = ReturnType<typeof createPubSub>;

/** The executable schema; `pubSub` carries job progress to subscriptions. */
export async function buildPlatformSchema(pubSub: PubSub = createPubSub()): Promise<GraphQLSchema> {
  return buildSchema({ resolvers, authChecker, pubSub, validate: false });
}

export { createPubSub };

const HEADER =
  '# Emitted from the type-graphql resolvers by `npm run schema:emit`; a test fails when it drifts from the code.\n# Times are seconds (floats); instants are ISO-8601 strings.\n\n';

/** The SDL written to the root schema.graphql (sorted, so diffs stay readable). */
export function printPlatformSchema(schema: GraphQLSchema): string {
  return HEADER + printSchema(lexicographicSortSchema(schema)) + '\n';
}
