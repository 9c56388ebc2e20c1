import { httpMetrics } from '../metrics/metrics';
import { createServer, Server } from 'node:http';
import os from 'node:os';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import helmet from 'helmet';
import express, { NextFunction, Request, Response } from 'express';
import { GraphQLError, GraphQLFormattedError, parse, specifiedRules, validate } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

import { Viewer } from '../auth/tokens';
import { AppError } from '../common/errors';
import { redactUrl } from '../common/redact';
import { createContext, GraphQLContext } from '../graphql/context';
import { createErrorFormatter } from '../graphql/errors';
import { checkDocumentSize, checkOperationCost, CostLimits, costLimitPlugin } from '../graphql/cost';
import { jitGateway } from '../graphql/jit-gateway';
import { buildPlatformSchema } from '../graphql/schema';
import { errorMiddleware, notFoundHandler, sendAppError } from '../http/errors';
import { createMediaRouter } from '../http/media';
import { REQUEST_ID_HEADER, requestLogging } from '../http/request-log';
import { createRateLimiter, rateLimitMiddleware } from '../http/rate-limit';
import { parseForMeeting } from '../services/transcript.service';
import { detectTranscriptFormat } from '../transcripts/parse';
import { createUploadHandler } from '../http/uploads';
import { createHealth, Health } from './health';
import { RunningPlatform } from './platform';

/** Close code for a socket over WS_MAX_SOCKETS_PER_TOKEN (4xxx: application codes; 429 as in HTTP). */
export const WS_TOO_MANY_SOCKETS = 4429;

export interface HttpServer {
  server: Server;
  /** /healthz's state: `markDraining()` when a stop signal arrives. */
  health: Health;
  /**
   * Stops accepting connections, lets requests in flight finish (SHUTDOWN_GRACE_S at most, then
   * cuts them), closes sockets and subscriptions.
   */
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
  // TRUST_PROXY: behind a proxy, req.ip (the rate limit's key without a token) is the client's address
  // from X-Forwarded-For; off by default, or any client could pick its own address with that header.
  app.set('trust proxy', config.trustProxy);
  const httpServer = createServer(app);
  // Node cuts requests after 300 s by default: a 1 GB upload on a slow link needs longer.
  httpServer.requestTimeout = 0;
  // First: every later handler logs inside the request's scope (its requestId on each line).
  app.use(requestLogging());
  app.use(httpMetrics());
  const health = createHealth(platform, { role: 'api' });
  // While draining, every answer closes its connection: keep-alive clients reconnect elsewhere.
  app.use((_req: Request, res: Response, next: NextFunction) => {
    if (health.draining) res.set('Connection', 'close');
    next();
  });
  // The usual security headers; no Referer, so a media URL with ?token= never leaks to another site.
  // The API serves no HTML (no CSP needed), and the web app on another origin plays its media.
  app.use(helmet({ referrerPolicy: { policy: 'no-referrer' }, contentSecurityPolicy: false, crossOriginResourcePolicy: { policy: 'cross-origin' } }));
  // A browser script on an allowed origin may read the request id (to quote it against the API log).
  app.use(cors({ origin: config.corsOrigins === '*' ? true : config.corsOrigins, maxAge: 600, exposedHeaders: [REQUEST_ID_HEADER] }));

  // Without a valid token only the status leaves (no database text, host or path); details need one.
  // In memory per process; the scale-out wiring may pass its ioredis client as `redis`.
  const rateLimit = rateLimitMiddleware(createRateLimiter({ points: config.rateLimitPoints, windowSec: config.rateLimitWindowSec }));
  app.use(['/graphql', '/uploads', '/media'], rateLimit);

  app.get('/healthz', async (req, res) => {
    const { httpStatus, body } = await health.answer(req.headers.authorization);
    res.status(httpStatus).json(body);
  });

  const authenticate = (need: 'read' | 'admin') => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const viewer = await platform.tokens.authenticate(req.headers.authorization ?? mediaBearerFromQuery(req));
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
      idleTimeoutMs: config.uploadIdleTimeoutMs,
      maxConcurrent: config.maxConcurrentUploads,
      minFreeBytes: config.minFreeDiskBytes,
      // Local files land in DATA_DIR; S3 uploads stage in the temp dir while ffprobe checks them.
      freeSpaceDir: config.storageUrl ? os.tmpdir() : config.dataDir,
      // Checked again while a local file streams in; S3 parts do not land on that disk.
      ...(config.storageUrl ? { freeSpaceRecheckBytes: 0 } : {}),
      transcripts: {
        maxBytes: config.maxTranscriptBytes,
        check: (content, fileName, durationSec) => {
          const format = detectTranscriptFormat(content, fileName);
          parseForMeeting(format, content, durationSec ?? 0, config.maxTranscriptBytes);
          return format;
        },
      },
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
  const limits: CostLimits = {
    maxDepth: config.graphqlMaxDepth,
    maxComplexity: config.graphqlMaxComplexity,
    maxAliases: config.graphqlMaxAliases,
    maxDocumentBytes: config.graphqlMaxDocumentBytes,
  };
  const formatError = createErrorFormatter((line) => log(line, 'error'));
  // maxPayload: a larger frame closes the socket with 1009 before it is buffered, token or not.
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: config.wsMaxMessageBytes });
  // Open sockets per token in this process (a token's holder cannot pin every connection slot).
  const socketsPerToken = new Map<string, number>();
  const wsCleanup = useServer<{ authorization?: string }, { viewer?: Viewer; authorization?: string }>(
    {
      schema,
      connectionInitWaitTimeout: config.wsInitTimeoutSec * 1000,
      onConnect: async (ctx) => {
        let viewer: Viewer;
        try {
          ctx.extra.authorization = String(ctx.connectionParams?.authorization ?? '');
          viewer = await platform.tokens.authenticate(ctx.extra.authorization);
        } catch {
          return false;
        }
        // Checked and counted with no await in between, so simultaneous connects cannot both slip under the cap.
        const key = viewer.tokenId ?? `name:${viewer.tokenName}`;
        const open = socketsPerToken.get(key) ?? 0;
        if (open >= config.wsMaxSocketsPerToken) {
          ctx.extra.socket.close(
            WS_TOO_MANY_SOCKETS,
            `Token "${viewer.tokenName.slice(0, 20)}" has ${open} sockets open (WS_MAX_SOCKETS_PER_TOKEN); close one first.`.slice(0, 123),
          );
          return false;
        }
        socketsPerToken.set(key, open + 1);
        ctx.extra.socket.once('close', () => {
          const left = (socketsPerToken.get(key) ?? 1) - 1;
          if (left > 0) socketsPerToken.set(key, left);
          else socketsPerToken.delete(key);
        });
        ctx.extra.viewer = viewer;
        return true;
      },
      // The same checks as HTTP, before any resolver: the token again (it may have been revoked
      // since connection_init), document size, validation, depth, aliases and cost.
      onSubscribe: async (ctx, _id, payload) => {
        let viewer: Viewer;
        try {
          viewer = await platform.tokens.authenticate(ctx.extra.authorization);
        } catch (error) {
          const message = error instanceof AppError ? error.message : 'Authentication failed.';
          return [new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED' } })];
        }
        const tooLarge = checkDocumentSize(payload.query, limits);
        if (tooLarge) return [tooLarge];
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError('The query could not be parsed.')];
        }
        const errors = validate(schema, document, specifiedRules);
        if (errors.length > 0) return errors;
        const refusal = checkOperationCost(schema, document, payload.operationName, payload.variables, limits);
        if (refusal) return [refusal];
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: createContext(platform, viewer),
        };
      },
      // Error masking as on HTTP: AppErrors keep their message, anything unexpected becomes INTERNAL.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => formatError(e.toJSON() as GraphQLFormattedError, e)) } : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e.toJSON() as GraphQLFormattedError, e)),
    },
    wsServer,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    gateway: jitGateway(schema),
    formatError,
    includeStacktraceInErrorResponses: false,
    introspection: true,
    // main.ts owns SIGTERM/SIGINT (draining, then close): Apollo's own handler would stop the server
    // at once and re-raise the signal.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.shutdownGraceMs }),
      // No HTTP caching hints are used; without this plugin Apollo wraps every field resolver
      // (bench:server: ~20 % of the CPU of a 500-turn page).
      ApolloServerPluginCacheControlDisabled(),
      costLimitPlugin(schema, limits),
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
    // Room for attachTranscript's content (JSON escaping can double it) beside the usual 2 MB.
    express.json({ limit: 2 * 1024 * 1024 + 2 * config.maxTranscriptBytes }),
    (req: Request, res: Response, next: NextFunction) => {
      // Refused before parsing, as a GraphQL error (not an HTTP error body).
      const refusal = checkDocumentSize(typeof req.body?.query === 'string' ? req.body.query : undefined, limits);
      if (!refusal) return next();
      res.status(400).json({ errors: [{ message: refusal.message, extensions: { code: 'QUERY_TOO_COMPLEX' } }] });
    },
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
  // The error itself goes to the log too (stack included), with any token in it redacted.
  app.use(errorMiddleware((message, err) => log(redactUrl(`${message} ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`), 'error')));

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  return {
    server: httpServer,
    health,
    close: async () => {
      await apollo.stop();
      wsServer.close();
    },
  };
}

/**
 * <audio src> cannot send headers: media GETs (mounted under /media) may carry the token as ?token=.
 * Nowhere else: a token in a URL ends up in histories and proxies.
 */
function mediaBearerFromQuery(req: Request): string | undefined {
  if ((req.method !== 'GET' && req.method !== 'HEAD') || !req.originalUrl.startsWith('/media/')) return undefined;
  const token = req.query.token;
  return typeof token === 'string' && token ? `Bearer ${token}` : undefined;
}
