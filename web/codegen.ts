import type { CodegenConfig } from '@graphql-codegen/cli';

// Client types from the root schema.graphql (the server's emitted contract) and the operations
// written inline in src/**/*.ts with a /* GraphQL */ marker.
const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.ts', 'src/**/*.tsx', '!src/gql/**'],
  generates: {
    'src/gql/graphql.ts': {
      plugins: ['typescript-operations'],
      config: {
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
        scalars: { DateTimeISO: 'string', JSONObject: 'Record<string, unknown>' },
        skipTypename: true,
      },
    },
  },
};

export default config;
