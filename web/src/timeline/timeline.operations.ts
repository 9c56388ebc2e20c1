import type * as G from '../gql/graphql';
import { op } from '../lib/graphql';

export const SPEAKER_FIELDS = /* GraphQL */ `
  fragment SpeakerFields on Speaker {
    id
    label
    engineLabel
    talkTimeSeconds
    colorIndex
    matchScore
    person {
      id
      name
    }
  }
`;

export const MEETING_TIMELINE = /* GraphQL */ `
  query MeetingTimeline($id: ID!) {
    meeting(id: $id) {
      id
      title
      tags
      status
      durationSeconds
      createdAt
      audioUrl
      peaksUrl
      latestJob {
        id
        state
        stage
        progress
        errorMessage
      }
      speakers {
        ...SpeakerFields
      }
      turns(first: 1000) {
        totalCount
        ...TurnPageFields
      }
    }
  }
`;

/** One page of turns; `first` is the server's largest page (see turn-pages.ts for why pages). */
export const TURN_PAGE_FIELDS = /* GraphQL */ `
  fragment TurnPageFields on TurnConnection {
    nodes {
      id
      start
      end
      speaker {
        id
      }
    }
    pageInfo {
      endCursor
      hasNextPage
    }
  }
`;

export const MEETING_TURNS = /* GraphQL */ `
  query MeetingTurns($id: ID!, $after: String!) {
    meeting(id: $id) {
      id
      turns(first: 1000, after: $after) {
        ...TurnPageFields
      }
    }
  }
`;

export const RENAME_SPEAKER = /* GraphQL */ `
  mutation RenameSpeaker($speakerId: ID!, $name: String!) {
    renameSpeaker(speakerId: $speakerId, name: $name) {
      ...SpeakerFields
    }
  }
`;

export const MERGE_SPEAKERS = /* GraphQL */ `
  mutation MergeSpeakers($meetingId: ID!, $keepSpeakerId: ID!, $mergeSpeakerId: ID!) {
    mergeSpeakers(meetingId: $meetingId, keepSpeakerId: $keepSpeakerId, mergeSpeakerId: $mergeSpeakerId) {
      id
    }
  }
`;

export const SPLIT_SPEAKER = /* GraphQL */ `
  mutation SplitSpeaker($speakerId: ID!, $from: Float!, $to: Float!) {
    splitSpeaker(speakerId: $speakerId, from: $from, to: $to) {
      id
    }
  }
`;

export const MOVE_TURN = /* GraphQL */ `
  mutation MoveTurn($turnId: ID!, $toSpeakerId: ID!) {
    moveTurn(turnId: $turnId, toSpeakerId: $toSpeakerId) {
      id
    }
  }
`;

export const ASSIGN_SPEAKER = /* GraphQL */ `
  mutation AssignSpeaker($speakerId: ID!, $personId: ID) {
    assignSpeaker(speakerId: $speakerId, personId: $personId) {
      ...SpeakerFields
    }
  }
`;

export const EXPORT_TURNS = /* GraphQL */ `
  query ExportTurns($id: ID!, $format: TurnExportFormat!) {
    meeting(id: $id) {
      id
      export(format: $format)
    }
  }
`;

export const meetingTimelineOp = op<G.MeetingTimelineQuery, G.MeetingTimelineQueryVariables>(MEETING_TIMELINE + SPEAKER_FIELDS + TURN_PAGE_FIELDS);
export const meetingTurnsOp = op<G.MeetingTurnsQuery, G.MeetingTurnsQueryVariables>(MEETING_TURNS + TURN_PAGE_FIELDS);
export const renameSpeakerOp = op<G.RenameSpeakerMutation, G.RenameSpeakerMutationVariables>(RENAME_SPEAKER + SPEAKER_FIELDS);
export const mergeSpeakersOp = op<G.MergeSpeakersMutation, G.MergeSpeakersMutationVariables>(MERGE_SPEAKERS);
export const splitSpeakerOp = op<G.SplitSpeakerMutation, G.SplitSpeakerMutationVariables>(SPLIT_SPEAKER);
export const moveTurnOp = op<G.MoveTurnMutation, G.MoveTurnMutationVariables>(MOVE_TURN);
export const assignSpeakerOp = op<G.AssignSpeakerMutation, G.AssignSpeakerMutationVariables>(ASSIGN_SPEAKER + SPEAKER_FIELDS);
export const exportTurnsOp = op<G.ExportTurnsQuery, G.ExportTurnsQueryVariables>(EXPORT_TURNS);
