import { TokenAuthenticator } from '../auth/tokens';
import { ServerConfig } from '../config/server-config';
import { JobProgressEvent, JobService } from '../jobs/job-service';
import { SpeakerIdentity } from './diarization.service';
import { MeetingService } from './meeting.service';
import { PeopleService } from './people.service';
import { TranscriptService } from './transcript.service';
import { UploadService } from './upload.service';
import { BlobStore } from '../storage/blob-store';
import { Store } from '../store/types';
import { Engine, ModelIdentity } from '../diarization/engine';
import { ClipEmbedder } from '../jobs/clip-embedding';
import { LineLevel } from '../logging/logger';

/** Voice search over meeting speakers (speakers/ implements it). */
export interface VoiceSearch {
  findSpeaker(embedding: Float32Array, k: number): Promise<Array<{ meetingId: string; speakerId: string; similarity: number }>>;
}

/** Everything a request handler may use; built once at start (app/platform.ts). */
export interface Platform {
  config: ServerConfig;
  store: Store;
  blobs: BlobStore;
  /** Loaded in the embedded default and in workers; an API process with REDIS_URL has none (workers run it). */
  engine?: Engine;
  /** The embedding model this process tags and matches embeddings with (dim when its metadata says). */
  model: ModelIdentity & { dim?: number };
  /** Embeds uploaded clips (findSpeaker, enrollFromUploads): in the job slots here, or on a worker. */
  clips: ClipEmbedder;
  jobs: JobService;
  meetings: MeetingService;
  /** Registers recordings as uploads (POST /uploads and imports). */
  uploads: UploadService;
  people: PeopleService;
  transcripts: TranscriptService;
  identity: SpeakerIdentity & VoiceSearch;
  tokens: TokenAuthenticator;
  /** Subscribers of job progress (graphql-ws). */
  subscribeProgress(listener: (event: JobProgressEvent) => void): () => void;
  /** The server log (JSON lines through logging/logger unless a test collects them); info unless told. */
  log(line: string, level?: LineLevel): void;
}
