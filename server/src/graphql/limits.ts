import depthLimit from 'graphql-depth-limit';
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, GraphQLSchema, ValidationRule } from 'graphql';
import { ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';

/** How many items a list field without `first` is assumed to return (all turns of a long meeting). */
const UNPAGED_LIST_ESTIMATE = 1000;

/**
 * Paged fields cost (first × child cost): nested pages multiply, which is what the limit is for.
 * `turns` without `first` counts as UNPAGED_LIST_ESTIMATE, so one meeting's turns (~5 000 for
 * a 4-hour meeting at ~5 fields each) stay under the default limit of 50 000, while
 * meetings(first: 100) { turns { … } } does not.
 */
const pagedEstimator: ComplexityEstimator = ({ args, childComplexity, field }) => {
  if (!field.args.some((a) => a.name === 'first')) return undefined;
  const first = typeof args.first === 'number' ? args.first : field.name === 'turns' ? UNPAGED_LIST_ESTIMATE : 20;
  return 1 + first * Math.max(1, childComplexity);
};

export function depthLimitRule(maxDepth: number): ValidationRule {
  return depthLimit(maxDepth);
}

/** Complexity is checked once the operation and its variables are known (pages given as variables count). */
export function complexityLimitPlugin(schema: GraphQLSchema, maxComplexity: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          const cost = getComplexity({
            schema,
            query: document,
            operationName: request.operationName ?? undefined,
            variables: request.variables ?? {},
            estimators: [pagedEstimator, simpleEstimator({ defaultComplexity: 1 })],
          });
          if (cost > maxComplexity) {
            throw new GraphQLError(`Query too complex: estimated cost ${cost} exceeds ${maxComplexity}. Ask for smaller pages (first) or fewer nested lists.`, {
              extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}
