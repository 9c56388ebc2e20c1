import type * as G from '../gql/graphql';
import { op } from '../lib/graphql';

/** One page of a meeting's transcript lines (the server's largest page). */
export const MEETING_TRANSCRIPT = /* GraphQL */ `
  query MeetingTranscript($id: ID!, $after: String) {
    meeting(id: $id) {
      id
      transcript(first: 1000, after: $after) {
        totalCount
        pageInfo {
          endCursor
          hasNextPage
        }
        nodes {
          start
          end
          text
          overlap
          speaker {
            id
          }
        }
      }
    }
  }
`;

export const SEARCH_TRANSCRIPTS = /* GraphQL */ `
  query SearchTranscripts($query: String!, $personId: ID, $after: String) {
    searchTranscripts(query: $query, personId: $personId, first: 20, after: $after) {
      nodes {
        start
        end
        snippet
        meeting {
          id
          title
        }
        speaker {
          id
          label
          colorIndex
          person {
            name
          }
        }
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
`;

export const meetingTranscriptOp = op<G.MeetingTranscriptQuery, G.MeetingTranscriptQueryVariables>(MEETING_TRANSCRIPT);
export const searchTranscriptsOp = op<G.SearchTranscriptsQuery, G.SearchTranscriptsQueryVariables>(SEARCH_TRANSCRIPTS);
