import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { GraphQLError, GraphQLSchema, printSchema } from 'graphql';
import { CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';

/** Compiled operations kept (clients send a handful of distinct queries; variables are not part of the key). */
const MAX_COMPILED = 500;

/**
 * Runs operations with graphql-jit instead of graphql-js's interpreter: a page of 500 turns is
 * ~3 500 fields, and interpreting them dominated the server's CPU (bench:server). Apollo accepts a
 * custom executor only through its gateway interface, so this is a one-schema "gateway"; parsing,
 * validation (depth limit), the complexity plugin and error formatting stay Apollo's.
 */
export function jitGateway(schema: GraphQLSchema): GatewayInterface {
  const compiled = new Map<string, CompiledQuery>();
  return {
    async load() {
      return {
        schema,
        executor: async (request) => {
          const key = `${request.queryHash}:${request.operationName ?? ''}`;
          let query = compiled.get(key);
          if (!query) {
            const result = compileQuery(schema, request.document, request.operationName ?? undefined);
            if (!isCompiledQuery(result)) return result;
            query = result;
            if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
            compiled.set(key, query);
          }
          const result = await query.query(undefined, request.context, request.request.variables ?? {});
          // graphql-jit's errors may lack `extensions`, which Apollo's error formatting expects.
          return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
        },
      };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => undefined;
    },
    async stop() {},
  };
}

function asGraphQLError(error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message, { path: error.path, originalError: error.originalError ?? undefined, extensions: error.extensions ?? {} });
}
