import { mkdirSync } from 'node:fs';

import { ensureAdminToken, TokenAuthenticator } from '../auth/tokens';
import { AppError } from '../common/errors';
import { ServerConfig } from '../config/server-config';
import { JOB_PROGRESS_TOPIC } from '../graphql/resolvers/job.resolver';
import { createPubSub, PubSub } from '../graphql/schema';
import { createJobHandlers, MediaPreparer, SpeakerIdentity } from '../jobs/handlers';
import { JobProgressEvent, JobService } from '../jobs/job-service';
import { InProcessQueue } from '../jobs/in-process-queue';
import { JobQueue } from '../jobs/queue';
import { WebhookNotifier } from '../jobs/webhooks';
import { MeetingService } from '../services/meeting.service';
import { EnrollmentIndex, PeopleService } from '../services/people.service';
import { carryOver } from '../speakers/carry-over';
import { SpeakerDirectory } from '../speakers/speaker-directory';
import { BlobStore } from '../storage/blob-store';
import { openBlobStore } from '../storage/open-blob-store';
import { createMediaDerivatives } from '../storage/media-derivatives';
import { openStore } from '../store/database';
import { Store } from '../store/types';
import { Engine } from '../diarization/engine';
import { Platform, VoiceSearch } from './platform-types';

export interface RunningPlatform extends Platform {
  pubSub: PubSub;
  admin: { source: string; created: boolean };
  queue: JobQueue;
  /** Jobs found QUEUED or RUNNING from a previous run and queued again. */
  recoveredJobs: number;
  close(): Promise<void>;
}

export interface PlatformOptions {
  log?: (line: string) => void;
  /** An engine already loaded (tests share one across servers). */
  engine?: Engine;
}

/** Builds every part of the server from its configuration: store, files, engine, index, jobs. */
export async function createPlatform(config: ServerConfig, options: PlatformOptions = {}): Promise<RunningPlatform> {
  const log = options.log ?? ((line: string) => console.log(line));
  mkdirSync(config.dataDir, { recursive: true });
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await store.migrate();
    const blobs = openBlobStore(config);
    const admin = ensureAdminToken(config.dataDir, config.adminToken);
    const engine =
      options.engine ?? (await Engine.create({ threads: config.engineThreads, embeddingModel: config.embeddingModel, strategy: config.strategy, log }));
    const directory = await SpeakerDirectory.open({
      store,
      dataDir: config.dataDir,
      model: engine.model,
      thresholdCosine: config.identifyThresholdCosine,
      log,
    });
    const identity = speakerIdentity(store, directory);

    const pubSub = createPubSub();
    const listeners = new Set<(event: JobProgressEvent) => void>();
    const webhooks = new WebhookNotifier(store, log);
    const publish = (event: JobProgressEvent) => {
      pubSub.publish(JOB_PROGRESS_TOPIC, event);
      webhooks.notify(event);
      for (const listener of listeners) listener(event);
    };
    const queue = new InProcessQueue(config.jobConcurrency);
    const jobs = new JobService(store, queue, publish, log);
    const meetings = new MeetingService(store, blobs, jobs, identity);
    const people = new PeopleService(store, blobs, engine, enrollmentIndex(directory));
    const media = mediaPreparer(blobs);
    const recoveredJobs = await jobs.start(createJobHandlers({ store, engine, media, identity, log, reembedEnrollments: () => people.reembedEnrollments() }));

    return {
      config,
      store,
      blobs,
      engine,
      jobs,
      meetings,
      people,
      identity,
      tokens: new TokenAuthenticator(store, admin.secret),
      pubSub,
      admin: { source: admin.source, created: admin.created },
      queue,
      recoveredJobs,
      log,
      subscribeProgress(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      async close() {
        await queue.close();
        if (!options.engine) await engine.release();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

function speakerIdentity(store: Store, directory: SpeakerDirectory): SpeakerIdentity & VoiceSearch & { removeMeeting(id: string): Promise<void> } {
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
    carryOverManualWork: async (meetingId, previous, previousTurns) => {
      const current = await store.speakersOfMeeting(meetingId);
      const newTurns = (await store.turnsOfMeeting(meetingId)).items;
      const asTurns = (turns: typeof newTurns) => turns.map((t) => ({ speakerId: t.speakerId, start: t.startSec, end: t.endSec }));
      const result = carryOver(previous, current, { oldTurns: asTurns(previousTurns), newTurns: asTurns(newTurns) });
      for (const patch of result.patches) {
        await store.updateSpeaker(patch.speakerId, {
          ...(patch.displayName !== undefined ? { displayName: patch.displayName } : {}),
          ...(patch.personId !== undefined ? { personId: patch.personId, personSource: 'manual' as const, matchScore: null } : {}),
        });
      }
      return result.notCarried.map((n) => n.message);
    },
  };
}

function enrollmentIndex(directory: SpeakerDirectory): EnrollmentIndex {
  return {
    enroll: (e) =>
      directory.enrollEmbedding(e.personId, e.embedding, {
        source: e.source,
        uploadId: e.uploadId,
        meetingSpeakerId: e.meetingSpeakerId,
        speechSec: e.speechSec,
      }),
    removeEnrollment: (id) => directory.removeEnrollment(id),
    removePerson: (id) => directory.removePerson(id),
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
