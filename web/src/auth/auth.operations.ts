import type { ViewerQuery, ViewerQueryVariables } from '../gql/graphql';
import { op } from '../lib/graphql';

export const VIEWER = /* GraphQL */ `
  query Viewer {
    viewer {
      scope
      tokenName
    }
  }
`;

export const viewerOp = op<ViewerQuery, ViewerQueryVariables>(VIEWER);
