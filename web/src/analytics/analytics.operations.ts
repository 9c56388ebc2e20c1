import type * as G from '../gql/graphql';
import { op } from '../lib/graphql';

export const ANALYTICS = /* GraphQL */ `
  query Analytics($filter: MeetingFilter) {
    stats(filter: $filter) {
      meetings
      durationSeconds
      speechSeconds
      overlapSeconds
      silenceRatio
      turns
      interruptions
      people {
        name
        talkTimeSeconds
        share
        turns
        interruptions
        person {
          id
        }
      }
    }
    meetings(filter: $filter, first: 50) {
      nodes {
        id
        title
        stats {
          durationSeconds
          overlapSeconds
          turns
          interruptions
          silenceRatio
        }
      }
    }
  }
`;

export const analyticsOp = op<G.AnalyticsQuery, G.AnalyticsQueryVariables>(ANALYTICS);
