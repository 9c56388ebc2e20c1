import { createServer, Server } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express, { NextFunction, Request, Response } from 'express';
import { GraphQLError, specifiedRules, validate } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

import { Viewer } from '../auth/tokens';
import { AppError } from '../common/errors';
import { createContext, GraphQLContext } from '../graphql/context';
import { createErrorFormatter } from '../graphql/errors';
import { complexityLimitPlugin, depthLimitRule } from '../graphql/limits';
import { jitGateway } from '../graphql/jit-gateway';
import { buildPlatformSchema } from '../graphql/schema';
import { errorMiddleware, notFoundHandler, sendAppError } from '../http/errors';
import { createMediaRouter } from '../http/media';
import { createUploadHandler } from '../http/uploads';
import { RunningPlatform } from './platform';

export interface HttpServer {
  server: Server;
  /** Stops accepting connections, closes sockets and subscriptions. */
  close(): Promise<void>;
}

/**
 * One HTTP server: GraphQL at /graphql (HTTP and graphql-ws on the same path), uploads at
 * /uploads, audio and peaks under /media, and /healthz. Every route but /healthz needs a token.
 */
export async function createHttpServer(platform: RunningPlatform): Promise<HttpServer> {
  const { config, log } = platform;
  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);
  // Node cuts requests after 300 s by default: a 1 GB upload on a slow link needs longer.
  httpServer.requestTimeout = 0;
  app.use(cors({ origin: config.corsOrigins === '*' ? true : config.corsOrigins, maxAge: 600 }));

  app.get('/healthz', async (_req, res) => {
    const report = await health(platform);
    res.status(report.ok ? 200 : 503).json(report);
  });

  const authenticate = (need: 'read' | 'admin') => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const viewer = await platform.tokens.authenticate(req.headers.authorization ?? bearerFromQuery(req));
      if (need === 'admin' && viewer.scope !== 'admin') {
        res
          .status(403)
          .json({ error: { code: 'FORBIDDEN', message: `This needs a token with the "admin" scope; "${viewer.tokenName}" has "${viewer.scope}".` } });
        return;
      }
      res.locals.viewer = viewer;
      next();
    } catch (error) {
      if (error instanceof AppError) sendAppError(res, error);
      else next(error);
    }
  };

  app.post(
    '/uploads',
    authenticate('admin'),
    createUploadHandler({
      blobs: platform.blobs,
      maxBytes: config.maxUploadBytes,
      onUploaded: async (u) => {
        await platform.uploads.register(u);
      },
    }),
  );

  app.use(
    '/media',
    authenticate('read'),
    createMediaRouter({
      blobs: platform.blobs,
      lookup: async (meetingId) => {
        const m = await platform.store.getMeeting(meetingId);
        return m && { playableKey: m.playablePath, peaksKey: m.peaksPath };
      },
    }),
  );

  const schema = await buildPlatformSchema(platform.pubSub);
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const wsCleanup = useServer<{ authorization?: string }, { viewer?: Viewer }>(
    {
      schema,
      validate: (schema, document) => validate(schema, document, [...specifiedRules, depthLimitRule(config.graphqlMaxDepth)]),
      onConnect: async (ctx) => {
        try {
          ctx.extra.viewer = await platform.tokens.authenticate(String(ctx.connectionParams?.authorization ?? ''));
          return true;
        } catch {
          return false;
        }
      },
      context: (ctx) => createContext(platform, ctx.extra.viewer!),
    },
    wsServer,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    gateway: jitGateway(schema),
    validationRules: [depthLimitRule(config.graphqlMaxDepth)],
    formatError: createErrorFormatter(log),
    includeStacktraceInErrorResponses: false,
    introspection: true,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // No HTTP caching hints are used; without this plugin Apollo wraps every field resolver
      // (bench:server: ~20 % of the CPU of a 500-turn page).
      ApolloServerPluginCacheControlDisabled(),
      complexityLimitPlugin(schema, config.graphqlMaxComplexity),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
    ],
  });
  await apollo.start();
  app.use(
    '/graphql',
    express.json({ limit: '2mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        try {
          return createContext(platform, await platform.tokens.authenticate(req.headers.authorization));
        } catch (error) {
          const appError = error instanceof AppError ? error : undefined;
          throw new GraphQLError(appError?.message ?? 'Authentication failed.', {
            extensions: { code: appError?.code ?? 'UNAUTHENTICATED', http: { status: 401 } },
          });
        }
      },
    }),
  );

  app.use(notFoundHandler());
  app.use(errorMiddleware(log));

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  return {
    server: httpServer,
    close: async () => {
      await apollo.stop();
      wsServer.close();
    },
  };
}

/** <audio src> cannot send headers: media URLs may carry the token as ?token=. */
function bearerFromQuery(req: Request): string | undefined {
  const token = req.query.token;
  return typeof token === 'string' && token ? `Bearer ${token}` : undefined;
}

export async function health(
  platform: RunningPlatform,
): Promise<{ ok: boolean; database: string; queue: { queued: number; running: number }; model: { name: string; hash: string; dim: number } }> {
  let database = 'ok';
  try {
    await platform.store.ping();
  } catch (error) {
    database = `unreachable: ${error instanceof Error ? error.message : String(error)}`;
  }
  return {
    ok: database === 'ok',
    database,
    queue: platform.queue.counts(),
    model: { name: platform.engine.model.name, hash: platform.engine.model.hash, dim: platform.engine.dim },
  };
}
