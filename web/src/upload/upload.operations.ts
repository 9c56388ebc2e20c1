import type * as G from '../gql/graphql';
import { op } from '../lib/graphql';

export const CREATE_MEETING = /* GraphQL */ `
  mutation CreateMeeting($input: CreateMeetingInput!) {
    createMeeting(input: $input) {
      id
      title
      status
      latestJob {
        ...JobFields
      }
    }
  }
`;

export const JOB_FIELDS = /* GraphQL */ `
  fragment JobFields on Job {
    id
    state
    stage
    progress
    errorCode
    errorMessage
    attempts
  }
`;

export const JOB = /* GraphQL */ `
  query Job($id: ID!) {
    job(id: $id) {
      ...JobFields
    }
  }
`;

export const JOB_PROGRESS = /* GraphQL */ `
  subscription JobProgress($jobId: ID, $meetingId: ID, $batchId: ID) {
    jobProgress(jobId: $jobId, meetingId: $meetingId, batchId: $batchId) {
      jobId
      meetingId
      state
      stage
      progress
      errorCode
      errorMessage
    }
  }
`;

export const CANCEL_JOB = /* GraphQL */ `
  mutation CancelJob($id: ID!) {
    cancelJob(id: $id) {
      ...JobFields
    }
  }
`;

export const RETRY_JOB = /* GraphQL */ `
  mutation RetryJob($id: ID!) {
    retryJob(id: $id) {
      ...JobFields
    }
  }
`;

export const createMeetingOp = op<G.CreateMeetingMutation, G.CreateMeetingMutationVariables>(CREATE_MEETING + JOB_FIELDS);
export const jobOp = op<G.JobQuery, G.JobQueryVariables>(JOB + JOB_FIELDS);
export const jobProgressOp = op<G.JobProgressSubscription, G.JobProgressSubscriptionVariables>(JOB_PROGRESS);
export const cancelJobOp = op<G.CancelJobMutation, G.CancelJobMutationVariables>(CANCEL_JOB + JOB_FIELDS);
export const retryJobOp = op<G.RetryJobMutation, G.RetryJobMutationVariables>(RETRY_JOB + JOB_FIELDS);
