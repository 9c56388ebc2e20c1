import type * as G from '../gql/graphql';
import { op } from '../lib/graphql';

export const MEETINGS = /* GraphQL */ `
  query Meetings($filter: MeetingFilter, $first: Int, $after: String, $orderBy: MeetingOrder) {
    meetings(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
      totalCount
      pageInfo {
        endCursor
        hasNextPage
      }
      nodes {
        id
        title
        tags
        status
        durationSeconds
        createdAt
        speakerCount
      }
    }
  }
`;

export const FILTER_CHOICES = /* GraphQL */ `
  query FilterChoices {
    tags
    people(first: 200) {
      id
      name
    }
  }
`;

export const DELETE_MEETING = /* GraphQL */ `
  mutation DeleteMeeting($id: ID!) {
    deleteMeeting(id: $id)
  }
`;

export const meetingsOp = op<G.MeetingsQuery, G.MeetingsQueryVariables>(MEETINGS);
export const filterChoicesOp = op<G.FilterChoicesQuery, G.FilterChoicesQueryVariables>(FILTER_CHOICES);
export const deleteMeetingOp = op<G.DeleteMeetingMutation, G.DeleteMeetingMutationVariables>(DELETE_MEETING);
