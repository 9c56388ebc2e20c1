import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

import { InvalidArgumentError } from '../common/errors';
import { LOG_LEVELS, LogLevel } from '../logging/logger';

/** Express's names for address ranges in a `trust proxy` list. */
const TRUST_PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * TRUST_PROXY as Express's `trust proxy` takes it: `true`/`false`, a hop count (`1`: the one proxy in
 * front, whose X-Forwarded-For entry is the client's address), or a comma-separated list of proxy
 * addresses, subnets (`10.0.0.0/8`, `10.0.0.0/255.0.0.0`) and range names. Unset: `false`.
 */
const trustProxySchema = z
  .string()
  .optional()
  .transform((raw, ctx): boolean | number | string[] => {
    const value = raw?.trim() ?? '';
    if (value === '' || /^false$/i.test(value)) return false;
    if (/^true$/i.test(value)) return true;
    if (/^\d+$/.test(value)) return Number(value);
    const entries = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = entries.filter((entry) => !isTrustProxyEntry(entry));
    if (bad.length > 0)
      ctx.addIssue({
        code: 'custom',
        message: `"${bad.join('", "')}" is not a hop count, true/false, an IP address, a subnet (10.0.0.0/8) or one of ${TRUST_PROXY_RANGES.join(', ')}`,
      });
    return entries;
  });

function isTrustProxyEntry(entry: string): boolean {
  if (TRUST_PROXY_RANGES.includes(entry)) return true;
  const [address, mask, ...rest] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (mask === undefined) return true;
  if (/^\d+$/.test(mask)) return Number(mask) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(mask) === 4;
}

/**
 * The server's settings, from the environment, with defaults in one place. The embedded defaults
 * (SQLite file, in-process queue, local files under DATA_DIR) serve one machine; a postgres://
 * DATABASE_URL switches the store.
 */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** Interface to listen on; 127.0.0.1 keeps a fresh install private to this machine. */
  HOST: z.string().default('127.0.0.1'),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: z.string().optional(),
  /** s3://bucket[/prefix]: recordings in object storage (AWS_* variables configure the client); default: files in DATA_DIR. */
  STORAGE_URL: z.string().optional(),
  /** Prometheus /metrics on this port (never the API port); unset: no metrics server. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** JSON log lines on stdout at this level and above (`silent`: none). */
  LOG_LEVEL: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() || undefined : v), z.enum(LOG_LEVELS).default('info')),
  ADMIN_TOKEN: z.string().min(16, 'ADMIN_TOKEN must be at least 16 characters').optional(),
  IMPORT_DIR: z.string().optional(),
  /** Jobs that run at once; each diarization uses ENGINE_THREADS cores. */
  JOB_CONCURRENCY: z.coerce.number().int().positive().default(1),
  ENGINE_THREADS: z.coerce.number().int().positive().optional(),
  EMBEDDING_MODEL: z.string().optional(),
  DIARIZATION_STRATEGY: z.enum(['windows', 'segmentation']).optional(),
  MAX_UPLOAD_MB: z.coerce.number().positive().default(2048),
  /** Largest transcript file (attachTranscript content or the upload's transcript part). */
  MAX_TRANSCRIPT_MB: z.coerce.number().positive().max(100).default(10),
  /** An upload that sends nothing for this long is cut and its partial file removed. */
  UPLOAD_IDLE_TIMEOUT_S: z.coerce.number().positive().default(30),
  /** Uploads streaming at once per API process (beyond: 429); the scale-out test's 50 over 2 processes fit. */
  MAX_CONCURRENT_UPLOADS: z.coerce.number().int().positive().default(32),
  /** Uploads are refused (507) when the disk they stage on would keep less than this free. */
  MIN_FREE_DISK_MB: z.coerce.number().min(0).default(1024),
  /** How often leftover partial files and unreferenced uploads are swept (0: never, not even at start). */
  UPLOAD_SWEEP_HOURS: z.coerce.number().min(0).default(1),
  /** An upload no meeting or enrollment uses is removed once it is this old. */
  UPLOAD_ORPHAN_HOURS: z.coerce.number().positive().default(24),
  /** Comma-separated origins allowed by CORS (the web app's); `*` allows any. */
  CORS_ORIGINS: z.string().default('http://localhost:3000,http://127.0.0.1:3000'),
  /** Identification threshold override (cosine); default: the model manifest's calibrated value. */
  IDENTIFY_THRESHOLD: z.coerce.number().min(-1).max(1).optional(),
  /** Maximum depth of a GraphQL query, and its maximum estimated complexity. */
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().positive().default(10),
  GRAPHQL_MAX_COMPLEXITY: z.coerce.number().int().positive().default(50_000),
  /** Aliased fields per GraphQL document, and the document's size in bytes (variables not counted). */
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().positive().default(100),
  GRAPHQL_MAX_DOCUMENT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(32 * 1024),
  /** Requests per token (or address without one) per window; generous for the server benchmark's 50 clients. */
  RATE_LIMIT_POINTS: z.coerce.number().int().positive().default(60_000),
  RATE_LIMIT_WINDOW_SEC: z.coerce.number().int().positive().default(60),
  /** Proxies whose X-Forwarded-For Express believes (the client's address for the rate limit); off: the connection's address. */
  TRUST_PROXY: trustProxySchema,
  /** graphql-ws: seconds to send connection_init with a token, and the largest message accepted. */
  WS_INIT_TIMEOUT_SEC: z.coerce.number().positive().default(5),
  WS_MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  /** graphql-ws sockets one token may hold open per API process (beyond: closed with 4429). */
  WS_MAX_SOCKETS_PER_TOKEN: z.coerce.number().int().positive().default(20),
  /** Scale out (README "Scale out"): a redis:// URL switches jobs to BullMQ workers (`npm run worker`). */
  REDIS_URL: z.string().optional(),
  JOB_MAX_ATTEMPTS: z.coerce.number().int().positive().default(3),
  JOB_STALL_TIMEOUT_S: z.coerce.number().positive().default(300),
  /** A dead worker's job is taken back after this long (BullMQ lock duration). */
  JOB_LOCK_S: z.coerce.number().positive().default(30),
  JOB_RECONCILE_S: z.coerce.number().positive().default(30),
  API_PROCESSES: z.coerce.number().int().positive().default(1),
  /** Webhooks to loopback, private, CGNAT, unique-local and link-local addresses (on-premise receivers); metadata addresses stay refused. */
  WEBHOOK_ALLOW_PRIVATE: z.stringbool().default(false),
  /** Tries per webhook delivery; the first retry waits WEBHOOK_BACKOFF_MS, each next one five times longer. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().positive().max(10).default(3),
  WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(0).default(1000),
  WEBHOOK_TIMEOUT_S: z.coerce.number().positive().default(5),
  /** Longest clip findSpeaker / enrollFromUploads take, by its probed duration (checked before decoding). */
  MAX_CLIP_SEC: z.coerce.number().positive().default(600),
  /** How long such a request waits for an engine slot (a worker's answer with REDIS_URL). */
  CLIP_TASK_TIMEOUT_S: z.coerce.number().positive().default(60),
  /** After SIGTERM/SIGINT the port stays open this long answering /healthz `draining` (a load balancer's probe sees it). */
  SHUTDOWN_DRAIN_S: z.coerce.number().min(0).default(0),
  /** Then requests already in flight (an upload being sent) get this long to finish before their connections are cut. */
  SHUTDOWN_GRACE_S: z.coerce.number().min(0).default(10),
});

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  storageUrl?: string;
  metricsPort?: number;
  logLevel: LogLevel;
  adminToken?: string;
  importDir?: string;
  jobConcurrency: number;
  engineThreads?: number;
  embeddingModel?: string;
  strategy?: 'windows' | 'segmentation';
  maxUploadBytes: number;
  maxTranscriptBytes: number;
  uploadIdleTimeoutMs: number;
  maxConcurrentUploads: number;
  minFreeDiskBytes: number;
  uploadSweepIntervalMs: number;
  uploadOrphanAgeMs: number;
  corsOrigins: string[] | '*';
  identifyThresholdCosine?: number;
  graphqlMaxDepth: number;
  graphqlMaxComplexity: number;
  graphqlMaxAliases: number;
  graphqlMaxDocumentBytes: number;
  rateLimitPoints: number;
  rateLimitWindowSec: number;
  /** Express's `trust proxy`: false, true, a hop count or proxy addresses/subnets. */
  trustProxy: boolean | number | string[];
  wsInitTimeoutSec: number;
  wsMaxMessageBytes: number;
  wsMaxSocketsPerToken: number;
  redisUrl?: string;
  jobMaxAttempts: number;
  jobStallTimeoutMs: number;
  jobLockMs: number;
  jobReconcileMs: number;
  apiProcesses: number;
  webhookAllowPrivate: boolean;
  webhookMaxAttempts: number;
  webhookBackoffMs: number;
  webhookTimeoutMs: number;
  maxClipSec: number;
  clipTaskTimeoutMs: number;
  shutdownDrainMs: number;
  shutdownGraceMs: number;
}

export function loadServerConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<ServerConfig> = {}): ServerConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new InvalidArgumentError(`Invalid server configuration in the environment: ${problems}.`);
  }
  const e = parsed.data;
  const redisUrl = e.REDIS_URL || undefined;
  if (redisUrl && !/^rediss?:\/\//i.test(redisUrl))
    throw new InvalidArgumentError('REDIS_URL must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379.');
  // Several processes cannot each make their own token file: they must agree on one secret.
  if (redisUrl && !e.ADMIN_TOKEN)
    throw new InvalidArgumentError('ADMIN_TOKEN is required when REDIS_URL is set: every API and worker process must share one admin token (16+ characters).');
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL || undefined,
    storageUrl: e.STORAGE_URL || undefined,
    metricsPort: e.METRICS_PORT,
    logLevel: e.LOG_LEVEL,
    adminToken: e.ADMIN_TOKEN,
    importDir: e.IMPORT_DIR ? path.resolve(e.IMPORT_DIR) : undefined,
    jobConcurrency: e.JOB_CONCURRENCY,
    engineThreads: e.ENGINE_THREADS,
    embeddingModel: e.EMBEDDING_MODEL,
    strategy: e.DIARIZATION_STRATEGY,
    maxUploadBytes: Math.round(e.MAX_UPLOAD_MB * 1024 * 1024),
    maxTranscriptBytes: Math.round(e.MAX_TRANSCRIPT_MB * 1024 * 1024),
    uploadIdleTimeoutMs: Math.round(e.UPLOAD_IDLE_TIMEOUT_S * 1000),
    maxConcurrentUploads: e.MAX_CONCURRENT_UPLOADS,
    minFreeDiskBytes: Math.round(e.MIN_FREE_DISK_MB * 1024 * 1024),
    uploadSweepIntervalMs: Math.round(e.UPLOAD_SWEEP_HOURS * 3600 * 1000),
    uploadOrphanAgeMs: Math.round(e.UPLOAD_ORPHAN_HOURS * 3600 * 1000),
    corsOrigins:
      e.CORS_ORIGINS.trim() === '*'
        ? '*'
        : e.CORS_ORIGINS.split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    identifyThresholdCosine: e.IDENTIFY_THRESHOLD,
    graphqlMaxDepth: e.GRAPHQL_MAX_DEPTH,
    graphqlMaxComplexity: e.GRAPHQL_MAX_COMPLEXITY,
    graphqlMaxAliases: e.GRAPHQL_MAX_ALIASES,
    graphqlMaxDocumentBytes: e.GRAPHQL_MAX_DOCUMENT_BYTES,
    rateLimitPoints: e.RATE_LIMIT_POINTS,
    rateLimitWindowSec: e.RATE_LIMIT_WINDOW_SEC,
    trustProxy: e.TRUST_PROXY,
    wsInitTimeoutSec: e.WS_INIT_TIMEOUT_SEC,
    wsMaxMessageBytes: e.WS_MAX_MESSAGE_BYTES,
    wsMaxSocketsPerToken: e.WS_MAX_SOCKETS_PER_TOKEN,
    redisUrl,
    jobMaxAttempts: e.JOB_MAX_ATTEMPTS,
    jobStallTimeoutMs: Math.round(e.JOB_STALL_TIMEOUT_S * 1000),
    jobLockMs: Math.round(e.JOB_LOCK_S * 1000),
    jobReconcileMs: Math.round(e.JOB_RECONCILE_S * 1000),
    apiProcesses: e.API_PROCESSES,
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
    webhookMaxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
    webhookBackoffMs: e.WEBHOOK_BACKOFF_MS,
    webhookTimeoutMs: Math.round(e.WEBHOOK_TIMEOUT_S * 1000),
    maxClipSec: e.MAX_CLIP_SEC,
    clipTaskTimeoutMs: Math.round(e.CLIP_TASK_TIMEOUT_S * 1000),
    shutdownDrainMs: Math.round(e.SHUTDOWN_DRAIN_S * 1000),
    shutdownGraceMs: Math.round(e.SHUTDOWN_GRACE_S * 1000),
    ...overrides,
  };
}
