import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ensureAdminToken, TokenAuthenticator } from '../auth/tokens';
import { AppError } from '../common/errors';
import { ServerConfig } from '../config/server-config';
import { createPubSub, PubSub } from '../graphql/schema';
import { JOB_PROGRESS_TOPIC } from '../jobs/job-events';
import { createJobHandlers } from './job-handlers';
import { JobProgressEvent, JobService } from '../jobs/job-service';
import { InProcessQueue } from '../jobs/in-process-queue';
import { BullMqQueue } from '../jobs/bullmq-queue';
import { ClipTaskQueue, ClipTaskWorker } from '../jobs/clip-tasks';
import { ConcurrencyLimiter } from '../jobs/concurrency-limiter';
import { ClipEmbedder } from '../jobs/clip-embedding';
import { InProcessClipEmbedder } from '../services/clip-embedder';
import { embeddingModelIdentity } from '../models/model-identity';
import { CHANNELS, RedisEvents } from '../pubsub/redis-events';
import { migrateUnderLock } from '../store/migration-lock';
import { JobQueue } from '../jobs/queue';
import { WebhookNotifier } from '../jobs/webhooks';
import { MediaPreparer, SpeakerIdentity } from '../services/diarization.service';
import { MeetingService } from '../services/meeting.service';
import { EnrollmentIndex, PeopleService } from '../services/people.service';
import { UploadService } from '../services/upload.service';
import { TranscriptService } from '../services/transcript.service';
import { UploadSweeper } from '../services/upload-sweep';
import { SpeakerDirectory } from '../speakers/speaker-directory';
import { BlobStore } from '../storage/blob-store';
import { openBlobStore } from '../storage/open-blob-store';
import { createMediaDerivatives } from '../storage/media-derivatives';
import { openStore } from '../store/database';
import { Engine } from '../diarization/engine';
import { LogLine, logLine } from '../logging/logger';
import { recordJobFinished, setJobCounts } from '../metrics/metrics';
import { JOB_STATES } from '../store/types';
import { Platform, VoiceSearch } from '../services/platform-types';

export interface RunningPlatform extends Platform {
  pubSub: PubSub;
  admin: { source: string; created: boolean };
  queue: JobQueue;
  /** Jobs found QUEUED or RUNNING from a previous run and queued again. */
  recoveredJobs: number;
  /** Removes abandoned partial writes and unused uploads (at start, then every UPLOAD_SWEEP_HOURS). */
  uploadSweep: UploadSweeper;
  close(): Promise<void>;
}

export interface PlatformOptions {
  /** Default: the process's JSON log (logging/logger), with the request's or job's ids on each line. */
  log?: LogLine;
  /** An engine already loaded (tests share one across servers). */
  engine?: Engine;
  /**
   * embedded (default): one process does everything. With REDIS_URL: `api` enqueues and serves,
   * never running jobs; `worker` runs jobs.
   */
  role?: 'embedded' | 'api' | 'worker';
}

/** A voice-index invalidation: another process changed enrollments, people or speakers. */
interface VoiceIndexInvalidation {
  origin: string;
  what: string;
}

/** Builds every part of the server from its configuration: store, files, engine, index, jobs. */
export async function createPlatform(config: ServerConfig, options: PlatformOptions = {}): Promise<RunningPlatform> {
  const log = options.log ?? logLine();
  mkdirSync(config.dataDir, { recursive: true });
  const role = options.role ?? (config.redisUrl ? 'api' : 'embedded');
  if (role !== 'embedded' && !config.redisUrl) throw new AppError('INVALID_ARGUMENT', `A separate ${role} process needs REDIS_URL (the shared queue).`);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const redis = config.redisUrl ? new RedisEvents(config.redisUrl, log) : undefined;
  // With several processes the index files are this process's cache, rebuilt from the database.
  const indexDir = redis ? mkdtempSync(path.join(os.tmpdir(), 'voice-index-')) : config.dataDir;
  try {
    await migrateUnderLock(store, config.databaseUrl);
    const blobs = openBlobStore(config);
    // With REDIS_URL the config requires ADMIN_TOKEN, so no process writes a token file of its own.
    const admin = ensureAdminToken(config.dataDir, config.adminToken);
    // An API process with REDIS_URL never runs the engine (workers do): it only needs the model's identity.
    const engine =
      role === 'api'
        ? undefined
        : (options.engine ?? (await Engine.create({ threads: config.engineThreads, embeddingModel: config.embeddingModel, strategy: config.strategy, log })));
    const model = engine ? { ...engine.model, dim: engine.dim } : await embeddingModelIdentity(config.embeddingModel);
    const openDirectory = () =>
      SpeakerDirectory.open({ store, dataDir: indexDir, model: { name: model.name, hash: model.hash }, thresholdCosine: config.identifyThresholdCosine, log });
    let directory = await openDirectory();
    const voiceIndex = followVoiceIndex(redis, log, async () => {
      directory = await openDirectory();
    });
    const identity = speakerIdentity(() => directory, voiceIndex.changed);

    const pubSub = createPubSub();
    const listeners = new Set<(event: JobProgressEvent) => void>();
    const webhooks = new WebhookNotifier(store, log, {
      allowPrivate: config.webhookAllowPrivate,
      maxAttempts: config.webhookMaxAttempts,
      backoffMs: config.webhookBackoffMs,
      timeoutMs: config.webhookTimeoutMs,
    });
    const deliver = (event: JobProgressEvent) => {
      pubSub.publish(JOB_PROGRESS_TOPIC, event);
      for (const listener of listeners) listener(event);
    };
    // Several processes: the process that changed a job notifies webhooks once and publishes on
    // Redis; every API process delivers to its own subscribers.
    if (redis) await redis.subscribe<JobProgressEvent>(CHANNELS.jobProgress, deliver);
    const publish = (event: JobProgressEvent) => {
      webhooks.notify(event);
      if (redis) redis.publish(CHANNELS.jobProgress, event);
      else deliver(event);
    };
    // The engine-run slots of this process (JOB_CONCURRENCY): meeting jobs and clip embeddings share them.
    const limiter = new ConcurrencyLimiter(config.jobConcurrency);
    const queue: JobQueue = config.redisUrl
      ? new BullMqQueue({
          redisUrl: config.redisUrl,
          runJobs: role === 'worker',
          concurrency: config.jobConcurrency,
          stallTimeoutMs: config.jobStallTimeoutMs,
          lockDurationMs: config.jobLockMs,
          maxAttempts: config.jobMaxAttempts,
          limiter,
          log,
        })
      : new InProcessQueue(limiter);
    const localClips = engine
      ? new InProcessClipEmbedder({ engine, blobs, limiter, maxClipSec: config.maxClipSec, waitTimeoutMs: config.clipTaskTimeoutMs })
      : undefined;
    // With REDIS_URL an API process sends clips to the workers as tasks; a worker answers them.
    const clipTasks =
      role === 'api' && config.redisUrl
        ? new ClipTaskQueue({ redisUrl: config.redisUrl, timeoutMs: config.clipTaskTimeoutMs, maxClipSec: config.maxClipSec, model, log })
        : undefined;
    const clips: ClipEmbedder = (clipTasks ?? localClips)!;
    const jobs = new JobService(store, queue, publish, log, {
      maxAttempts: config.jobMaxAttempts,
      reconcileIntervalMs: config.jobReconcileMs,
      onFinished: recordJobFinished,
    });
    const meetings = new MeetingService(store, blobs, jobs, identity, config.maxTranscriptBytes);
    const transcripts = new TranscriptService(store, config.maxTranscriptBytes);
    const uploads = new UploadService(store, blobs);
    const people = new PeopleService(
      store,
      clips,
      model,
      enrollmentIndex(() => directory, voiceIndex.changed),
    );
    const media = mediaPreparer(blobs);
    const handlers = engine && createJobHandlers({ store, engine, media, identity, log, reembedEnrollments: () => people.reembedEnrollments() });
    const recoveredJobs = await jobs.start(handlers);
    const clipWorker =
      role === 'worker' && config.redisUrl && localClips
        ? new ClipTaskWorker({ redisUrl: config.redisUrl, store, embedder: localClips, limiter, log })
        : undefined;
    const uploadSweep = new UploadSweeper(store, blobs, { orphanAgeMs: config.uploadOrphanAgeMs, intervalMs: config.uploadSweepIntervalMs, log });
    // Uploads arrive at API processes; workers only read them.
    if (role !== 'worker') uploadSweep.start();
    // The jobs gauges (METRICS_PORT) read the rows at each scrape: every process reports the same truth.
    const stopJobCounts = setJobCounts(async () => {
      const counts = await store.countJobsByState();
      const byState = Object.fromEntries(JOB_STATES.map((state) => [state, counts[state] ?? 0]));
      return { byState, waiting: byState.QUEUED };
    });
    // Deliveries a killed process left PENDING go on (last: nothing after it fails and leaves them running).
    await webhooks.start({ shared: Boolean(queue.shared) });

    return {
      config,
      store,
      blobs,
      engine,
      model,
      clips,
      jobs,
      meetings,
      transcripts,
      uploads,
      people,
      identity,
      tokens: new TokenAuthenticator(store, admin.secret),
      pubSub,
      admin: { source: admin.source, created: admin.created },
      queue,
      recoveredJobs,
      uploadSweep,
      log,
      subscribeProgress(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      async close() {
        await clipWorker?.close();
        await clipTasks?.close();
        await uploadSweep.stop();
        await jobs.stop();
        await queue.close();
        // Before the store closes: pending deliveries write their last record.
        await webhooks.close();
        voiceIndex.stop();
        stopJobCounts();
        await redis?.close();
        if (engine && !options.engine) await engine.release();
        await store.close();
        if (redis) rmSync(indexDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await redis?.close();
    await store.close();
    if (redis) rmSync(indexDir, { recursive: true, force: true });
    throw error;
  }
}

/** How often a process rebuilds its voice index from the database anyway (repairs a lost invalidation). */
const VOICE_INDEX_CHECK_MS = 60_000;

/**
 * Keeps this process's voice index following the database when other processes change it: an
 * invalidation on Redis (or a reconnection, or the periodic check) reopens the directory from the
 * store. `changed` tells the other processes after a change made here.
 */
function followVoiceIndex(redis: RedisEvents | undefined, log: (line: string) => void, reopen: () => Promise<void>) {
  if (!redis) return { changed: () => undefined, stop: () => undefined };
  let running: Promise<void> | undefined;
  let again = false;
  const refresh = () => {
    if (running) {
      again = true;
      return;
    }
    running = reopen()
      .catch((error: unknown) => log(`voice index refresh failed (retried at the next check): ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          refresh();
        }
      });
  };
  void redis.subscribe<VoiceIndexInvalidation>(CHANNELS.voiceIndex, (message) => {
    if (message.origin !== redis.origin) refresh();
  });
  redis.onReconnect(refresh);
  const timer = setInterval(refresh, VOICE_INDEX_CHECK_MS);
  timer.unref();
  return {
    changed: (what: string) => redis.publish(CHANNELS.voiceIndex, { origin: redis.origin, what } satisfies VoiceIndexInvalidation),
    stop: () => clearInterval(timer),
  };
}

function speakerIdentity(
  current: () => SpeakerDirectory,
  changed: (what: string) => void,
): SpeakerIdentity & VoiceSearch & { removeMeeting(id: string): Promise<void> } {
  const directory = {
    assertModelUsable: (hash: string) => current().assertModelUsable(hash),
    identifyMeeting: (id: string) => current().identifyMeeting(id),
    indexMeetingSpeakers: async (id: string) => {
      await current().indexMeetingSpeakers(id);
      changed(`speakers of meeting ${id}`);
    },
    removeMeeting: (id: string) => {
      const removed = current().removeMeeting(id);
      changed(`meeting ${id} removed`);
      return removed;
    },
    findSpeaker: (embedding: Float32Array, options: { k?: number }) => current().findSpeaker(embedding, options),
  };
  return {
    assertModelUsable: (hash) => directory.assertModelUsable(hash),
    modelUsable: (hash) =>
      directory.assertModelUsable(hash).then(
        () => true,
        (error: unknown) => {
          if (error instanceof AppError && error.code === 'MODEL_SWITCH_PENDING') return false;
          throw error;
        },
      ),
    identifyMeeting: async (meetingId) => {
      await directory.identifyMeeting(meetingId);
    },
    indexMeetingSpeakers: (meetingId) => directory.indexMeetingSpeakers(meetingId),
    removeMeeting: async (meetingId) => {
      directory.removeMeeting(meetingId);
    },
    findSpeaker: async (embedding, k) => directory.findSpeaker(embedding, { k }),
  };
}

function enrollmentIndex(current: () => SpeakerDirectory, changed: (what: string) => void): EnrollmentIndex {
  const after = async <T>(what: string, run: Promise<T>): Promise<T> => {
    const result = await run;
    changed(what);
    return result;
  };
  return {
    enroll: (e) =>
      after(
        `enrollment of person ${e.personId}`,
        current().enrollEmbedding(e.personId, e.embedding, {
          source: e.source,
          uploadId: e.uploadId,
          meetingSpeakerId: e.meetingSpeakerId,
          speechSec: e.speechSec,
        }),
      ),
    removeEnrollment: (id) => after(`enrollment ${id} removed`, current().removeEnrollment(id)),
    removePerson: (id) => after(`person ${id} removed`, current().removePerson(id)),
  };
}

/** Playable copy and peaks next to the meeting, under meetings/<id>/. */
function mediaPreparer(blobs: BlobStore): MediaPreparer {
  return {
    withLocalFile: (key, use) => blobs.withLocalFile(key, use),
    async prepare(meeting, signal) {
      const made = await createMediaDerivatives({ blobs, sourceKey: meeting.audioPath, targetPrefix: `meetings/${meeting.id}`, signal });
      return { playablePath: made.playableKey, peaksPath: made.peaksKey, durationSec: made.durationSec };
    },
  };
}
