import type * as G from '../gql/graphql';
import { op } from '../lib/graphql';

export const REPROCESS = /* GraphQL */ `
  mutation Reprocess($input: ReprocessInput!) {
    reprocess(input: $input) {
      ...BatchFields
    }
  }
`;

export const BATCH_FIELDS = /* GraphQL */ `
  fragment BatchFields on Batch {
    id
    kind
    total
    queued
    running
    succeeded
    failed
    cancelled
    progress
    notes {
      meetingId
      message
    }
    jobs {
      id
      state
      stage
      progress
      errorMessage
      meeting {
        id
        title
      }
    }
  }
`;

export const BATCH = /* GraphQL */ `
  query Batch($id: ID!) {
    batch(id: $id) {
      ...BatchFields
    }
  }
`;

export const reprocessOp = op<G.ReprocessMutation, G.ReprocessMutationVariables>(REPROCESS + BATCH_FIELDS);
export const batchOp = op<G.BatchQuery, G.BatchQueryVariables>(BATCH + BATCH_FIELDS);
