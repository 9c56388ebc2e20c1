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

/** Attaches (or replaces) the meeting's transcript; ADMIN. */
export const ATTACH_TRANSCRIPT = /* GraphQL */ `
  mutation AttachTranscript($meetingId: ID!, $format: TranscriptFormat!, $content: String!) {
    attachTranscript(meetingId: $meetingId, format: $format, content: $content) {
      meetingId
      format
      cueCount
      wordCount
    }
  }
`;

/** Removes the meeting's transcript and its search entries; ADMIN. */
export const DELETE_TRANSCRIPT = /* GraphQL */ `
  mutation DeleteTranscript($meetingId: ID!) {
    deleteTranscript(meetingId: $meetingId)
  }
`;

export const meetingTranscriptOp = op<G.MeetingTranscriptQuery, G.MeetingTranscriptQueryVariables>(MEETING_TRANSCRIPT);
export const searchTranscriptsOp = op<G.SearchTranscriptsQuery, G.SearchTranscriptsQueryVariables>(SEARCH_TRANSCRIPTS);
export const attachTranscriptOp = op<G.AttachTranscriptMutation, G.AttachTranscriptMutationVariables>(ATTACH_TRANSCRIPT);
export const deleteTranscriptOp = op<G.DeleteTranscriptMutation, G.DeleteTranscriptMutationVariables>(DELETE_TRANSCRIPT);
