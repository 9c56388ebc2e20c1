// graphql-ws 6 publishes `graphql-ws/use/ws` through package "exports", which this project's
// node10 module resolution does not read; point the types at the file it maps to.
declare module 'graphql-ws/use/ws' {
  export * from 'graphql-ws/dist/use/ws';
}
