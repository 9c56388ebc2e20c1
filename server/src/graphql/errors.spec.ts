import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';

import { NotFoundError } from '../common/errors';
import { requestLogging } from '../http/request-log';
import { configureLogging, logLine } from '../logging/logger';
import { createErrorFormatter } from './errors';

const raw: string[] = [];
const lines = () => raw.map((chunk) => JSON.parse(chunk) as Record<string, unknown>);
let apollo: ApolloServer;
let server: http.Server;
let base: string;

beforeAll(async () => {
  configureLogging({ service: 'api', level: 'info', destination: { write: (chunk: string) => void raw.push(chunk) } });
  const log = logLine();
  apollo = new ApolloServer({
    typeDefs: 'type Query { broken: String, missing: String }',
    resolvers: {
      Query: {
        broken: async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          throw new TypeError("Cannot read properties of undefined (reading 'turns')");
        },
        missing: () => {
          throw new NotFoundError('meeting', 'm1');
        },
      },
    },
    formatError: createErrorFormatter((line) => log(line, 'error')),
  });
  await apollo.start();
  const app = express();
  app.use(requestLogging());
  app.use('/graphql', express.json(), expressMiddleware(apollo));
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  await apollo.stop();
  await new Promise((resolve) => server.close(resolve));
});

async function query(document: string, requestId: string) {
  const res = await fetch(base, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ query: document }),
  });
  return (await res.json()) as { errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

test('an unexpected resolver error is masked for the client and logged at error with the request id', async () => {
  const body = await query('{ broken }', 'gql-req-1');
  expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'INTERNAL' } });
  expect(body.errors?.[0].message).not.toContain('turns');
  const logged = lines().filter((l) => String(l.msg).startsWith('graphql: unexpected error at broken'));
  expect(logged).toEqual([expect.objectContaining({ level: 'error', requestId: 'gql-req-1', service: 'api' })]);
  expect(String(logged[0].msg)).toContain("reading 'turns'");
});

test('an AppError reaches the client with its code and is not logged', async () => {
  raw.length = 0;
  const body = await query('{ missing }', 'gql-req-2');
  expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
  expect(lines().filter((l) => l.requestId === 'gql-req-2')).toEqual([]);
});
