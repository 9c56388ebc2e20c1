import depthLimit from 'graphql-depth-limit';
import type { ApolloServerPlugin } from '@apollo/server';
import { DocumentNode, GraphQLError, GraphQLSchema, Kind, SelectionSetNode, validate } from 'graphql';
import { ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';

/** The limits every transport (HTTP and graphql-ws) applies to one GraphQL operation. */
export interface CostLimits {
  maxDepth: number;
  maxComplexity: number;
  maxAliases: number;
  /** Bytes of the query document (variables are not counted: they have the body limit). */
  maxDocumentBytes: number;
}

/** How many items a list field without `first` is assumed to return (all turns of a long meeting). */
const UNPAGED_LIST_ESTIMATE = 1000;

/**
 * Fields that do work beyond reading a row, priced by that work with a floor that holds even on an
 * empty platform: aggregate stats walk every meeting's turns, export renders every turn, findSpeaker
 * decodes a clip and runs the embedding model, Person.meetings and Meeting.stats walk turns.
 */
const FIELD_PRICES: Record<string, number> = {
  'Query.stats': 2_000,
  'Query.findSpeaker': 5_000,
  'Meeting.export': 2_000,
  'Meeting.stats': 200,
  'Person.meetings': 200,
  'Person.stats': 200,
};

/**
 * Paged fields with a fixed floor on top of (first × child cost): a full-text search costs the same
 * work on an empty result page.
 */
const PAGED_FLOORS: Record<string, number> = {
  'Query.searchTranscripts': 500,
};

const pricedEstimator: ComplexityEstimator = ({ type, field, childComplexity }) => {
  const price = FIELD_PRICES[`${type.name}.${field.name}`];
  return price === undefined ? undefined : price + childComplexity;
};

/**
 * Paged fields cost (first × child cost): nested pages multiply, which is what the limit is for.
 * `turns` without `first` counts as UNPAGED_LIST_ESTIMATE, so one meeting's turns (~5 000 for
 * a 4-hour meeting at ~5 fields each) stay under the default limit of 50 000, while
 * meetings(first: 100) { turns { … } } does not.
 */
const pagedEstimator: ComplexityEstimator = ({ args, childComplexity, field, type }) => {
  if (!field.args.some((a) => a.name === 'first')) return undefined;
  const first = typeof args.first === 'number' ? args.first : field.name === 'turns' ? UNPAGED_LIST_ESTIMATE : 20;
  return (PAGED_FLOORS[`${type.name}.${field.name}`] ?? 1) + first * Math.max(1, childComplexity);
};

function tooComplex(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } } });
}

/** Refuses a document larger than the cap before it is parsed. */
export function checkDocumentSize(query: string | undefined, limits: CostLimits): GraphQLError | undefined {
  const bytes = Buffer.byteLength(query ?? '');
  if (bytes <= limits.maxDocumentBytes) return undefined;
  return tooComplex(
    `Query too complex: the query document is ${bytes} bytes, the limit is ${limits.maxDocumentBytes}. Send fewer fields or aliases per request (values belong in variables).`,
  );
}

/** Aliased fields in the whole document, fragments included (each alias is one more resolver call). */
function countAliases(document: DocumentNode): number {
  let count = 0;
  const walk = (set: SelectionSetNode | undefined) => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD && selection.alias) count++;
      if (selection.kind !== Kind.FRAGMENT_SPREAD) walk(selection.selectionSet);
    }
  };
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) walk(definition.selectionSet);
  }
  return count;
}

/**
 * Depth, aliases and cost of one parsed operation; the first refusal, or undefined. Runs before any
 * resolver on both transports, with the variables known (pages given as variables count).
 */
export function checkOperationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  limits: CostLimits,
): GraphQLError | undefined {
  const aliases = countAliases(document);
  if (aliases > limits.maxAliases) {
    return tooComplex(`Query too complex: ${aliases} aliased fields, the limit is ${limits.maxAliases}. Split the request.`);
  }
  const depthErrors = validate(schema, document, [depthLimit(limits.maxDepth)]);
  if (depthErrors.length > 0) {
    return tooComplex(`Query too complex: ${depthErrors[0].message}; the depth limit is ${limits.maxDepth}. Ask for fewer nested levels.`);
  }
  let cost: number;
  try {
    cost = getComplexity({
      schema,
      query: document,
      operationName: operationName ?? undefined,
      variables: variables ?? {},
      estimators: [pricedEstimator, pagedEstimator, simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch {
    // Unknown operation name or bad variables: graphql's own validation reports those.
    return undefined;
  }
  if (cost > limits.maxComplexity) {
    return tooComplex(
      `Query too complex: estimated cost ${cost} exceeds the limit ${limits.maxComplexity}. Ask for smaller pages (first), fewer nested lists or fewer stats/export/findSpeaker fields per request.`,
    );
  }
  return undefined;
}

/** Apollo (HTTP): the same checks once the operation is resolved, before execution. */
export function costLimitPlugin(schema: GraphQLSchema, limits: CostLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          const refusal = checkOperationCost(schema, document, request.operationName, request.variables, limits);
          if (refusal) throw refusal;
        },
      };
    },
  };
}
