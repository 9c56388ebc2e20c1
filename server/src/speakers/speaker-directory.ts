/**
 * Who is speaking: enrolled people's voices, identification of meeting speakers, and search for a voice
 * across meetings. The Store holds the records; the two HNSW indexes of the current embedding model
 * (speaker-index.ts) follow every change this class makes.
 *
 * A person's score against a speaker is the cosine between the speaker's centroid and the mean of the
 * person's L2-normalised enrollment embeddings (the convention of sherpa-onnx's SpeakerEmbeddingManager
 * and 3D-Speaker). One comparison per person keeps the false-accept rate at what the threshold was
 * calibrated for (one embedding vs one embedding); the maximum over n clips would take the best of n
 * impostor draws, and averaging also smooths each clip's channel and content. The enrollment index
 * finds the candidate people; the exact score is then computed against their means.
 */
import { randomUUID } from 'node:crypto';

import { AppError, InvalidArgumentError, NotFoundError } from '../common/errors';
import { cosine, l2Normalize } from '../vectors/math';
import { loadManifest } from '../models/manifest';
import type { EnrollmentRecord, MeetingSpeakerRecord, PersonRecord, Store } from '../store/types';
import { openModelIndexes, removeOtherModelIndexes, type ModelIndexes } from './speaker-index';

export interface EmbeddingModelRef {
  /** The manifest name of the embedding model (variants share their base model's name). */
  name: string;
  /** Hash that identifies the weights (stored with every embedding; names the index folder). */
  hash: string;
}

export interface SpeakerDirectoryOptions {
  store: Store;
  dataDir: string;
  model: EmbeddingModelRef;
  /** Overrides the manifest's calibrated threshold. */
  thresholdCosine?: number;
  /** Used when the manifest has no calibrated threshold for the model (a config value). */
  fallbackThresholdCosine?: number;
  /** Nearest enrollments fetched per speaker to find candidate people. Default 64. */
  candidateEnrollments?: number;
  log?: (line: string) => void;
}

export interface EnrollmentMeta {
  source: EnrollmentRecord['source'];
  uploadId?: string;
  meetingSpeakerId?: string;
  /** Seconds of speech behind the embedding. */
  speechSec: number;
}

/** What identification decided for one speaker: a patch for Store.updateSpeaker. */
export interface SpeakerIdentification {
  speakerId: string;
  /** null: no enrolled person above the threshold (the speaker stays anonymous). */
  personId: string | null;
  matchScore: number | null;
  personSource: 'auto' | null;
}

export interface SpeakerSearchHit {
  meetingId: string;
  speakerId: string;
  /** Cosine similarity of the speaker's centroid to the query. */
  similarity: number;
}

/** Cosine threshold used when neither the manifest nor the config give one (no calibration ran). */
export const DEFAULT_IDENTIFY_THRESHOLD_COSINE = 0.75;

/** The calibrated identification threshold of a manifest model, if `npm run calibrate:threshold` wrote one. */
export function calibratedThreshold(modelName: string): number | undefined {
  return loadManifest().embedding[modelName]?.identifyThresholdCosine;
}

export class SpeakerDirectory {
  readonly thresholdCosine: number;
  private readonly store: Store;
  private readonly dataDir: string;
  private readonly model: EmbeddingModelRef;
  private readonly candidates: number;
  /** personId → enrollmentId → embedding, for the current model. */
  private readonly voices = new Map<string, Map<string, Float32Array>>();
  private readonly means = new Map<string, Float32Array>();

  private constructor(
    options: SpeakerDirectoryOptions,
    private readonly indexes: ModelIndexes,
  ) {
    this.store = options.store;
    this.dataDir = options.dataDir;
    this.model = options.model;
    this.candidates = options.candidateEnrollments ?? 64;
    this.thresholdCosine =
      options.thresholdCosine ?? calibratedThreshold(options.model.name) ?? options.fallbackThresholdCosine ?? DEFAULT_IDENTIFY_THRESHOLD_COSINE;
    if (!(this.thresholdCosine >= -1 && this.thresholdCosine <= 1)) {
      throw new InvalidArgumentError(`The identification threshold must be a cosine in [-1, 1], got ${this.thresholdCosine}.`);
    }
  }

  /** Opens the model's indexes, rebuilding them from the store when missing or stale. */
  static async open(options: SpeakerDirectoryOptions): Promise<SpeakerDirectory> {
    const indexes = await openModelIndexes(options.store, { dataDir: options.dataDir, modelHash: options.model.hash });
    if (indexes.rebuilt.enrollments || indexes.rebuilt.speakers) {
      options.log?.(
        `speaker index for ${options.model.name}: rebuilt ${[indexes.rebuilt.enrollments && 'enrollments', indexes.rebuilt.speakers && 'speakers'].filter(Boolean).join(' and ')} from the database`,
      );
    }
    const directory = new SpeakerDirectory(options, indexes);
    for (const e of await options.store.enrollmentsOfModel(options.model.hash)) directory.remember(e.personId, e.id, e.embedding);
    return directory;
  }

  /**
   * Refuses matching while any stored enrollment or meeting speaker was embedded by another model:
   * cosine between two models' embeddings means nothing.
   */
  async assertModelUsable(modelHash: string = this.model.hash): Promise<void> {
    const [enrollments, speakers] = await Promise.all([this.store.countEnrollmentsNotOfModel(modelHash), this.store.countSpeakersNotOfModel(modelHash)]);
    if (enrollments + speakers === 0) return;
    throw new AppError(
      'MODEL_SWITCH_PENDING',
      `The embedding model is now ${this.model.name} (${modelHash.slice(0, 12)}), but ${enrollments} enrollment(s) and ${speakers} meeting speaker(s) were embedded by another model. ` +
        'Speaker matching is off until they are re-embedded: run a reprocessing batch (re-diarize the meetings and re-enroll from the stored clips), then retry.',
    );
  }

  // ---- enrollment ----------------------------------------------------------------------------

  /** Stores an embedding of the person's voice (L2-normalised) and indexes it. */
  async enrollEmbedding(personId: string, embedding: Float32Array, meta: EnrollmentMeta): Promise<EnrollmentRecord> {
    if (!(await this.store.getPerson(personId))) throw new NotFoundError('person', personId);
    const dim = this.indexes.enrollments.dim ?? this.indexes.speakers.dim;
    if (dim !== undefined && embedding.length !== dim) {
      throw new InvalidArgumentError(
        `The embedding has ${embedding.length} dimensions; ${this.model.name} makes ${dim}. Embed the clip with the current model.`,
      );
    }
    if (!(meta.speechSec >= 0) || !Number.isFinite(meta.speechSec)) {
      throw new InvalidArgumentError(`speechSec must be a non-negative number of seconds, got ${meta.speechSec}.`);
    }
    const normalised = normalisedCopy(embedding, 'enrollment embedding');
    const record = await this.store.insertEnrollment({
      id: randomUUID(),
      personId,
      source: meta.source,
      uploadId: meta.uploadId,
      meetingSpeakerId: meta.meetingSpeakerId,
      speechSec: meta.speechSec,
      embedding: normalised,
      modelName: this.model.name,
      modelHash: this.model.hash,
    });
    this.indexes.enrollments.add([{ id: record.id, group: personId, vector: normalised }]);
    this.remember(personId, record.id, normalised);
    return record;
  }

  /** Deletes one enrollment; the index is rebuilt without it, so its vector leaves the disk too. */
  async removeEnrollment(enrollmentId: string): Promise<EnrollmentRecord> {
    const removed = await this.store.deleteEnrollment(enrollmentId);
    if (!removed) throw new NotFoundError('enrollment', enrollmentId);
    this.indexes.enrollments.remove([enrollmentId], { rebuild: true });
    this.forget(removed.personId, [enrollmentId]);
    // Another model's index may still hold it; the database rebuilds those when they are next opened.
    removeOtherModelIndexes(this.dataDir, this.model.hash);
    return removed;
  }

  /**
   * Consent withdrawn: deletes the person with every enrollment (the store also unassigns their meeting
   * speakers) and rewrites the index without their vectors; other models' index folders are deleted.
   * Meeting speakers' centroids stay: they belong to the meetings, whose audio stays too.
   */
  async removePerson(personId: string): Promise<PersonRecord> {
    const enrollments = await this.store.enrollmentsOfPerson(personId);
    const removed = await this.store.deletePerson(personId);
    if (!removed) throw new NotFoundError('person', personId);
    const ids = new Set([...enrollments.map((e) => e.id), ...this.indexes.enrollments.idsOfGroup(personId)]);
    this.indexes.enrollments.remove([...ids], { rebuild: true });
    this.forget(personId, [...ids]);
    removeOtherModelIndexes(this.dataDir, this.model.hash);
    return removed;
  }

  // ---- identification ------------------------------------------------------------------------

  /**
   * Matches the speakers of one meeting to enrolled people. Speakers assigned by a person
   * (`personSource: 'manual'`) are left alone and their people are not given to anyone else; every
   * other speaker gets the best person scoring >= the threshold, or none. A person goes to at most one
   * speaker: pairs are taken greedily, most similar first, so a confident match is never traded for two
   * weaker ones (which a maximum-total assignment would do). Returns one decision per non-manual speaker.
   */
  async identify(speakers: readonly MeetingSpeakerRecord[]): Promise<SpeakerIdentification[]> {
    await this.assertModelUsable();
    const meetings = new Set(speakers.map((s) => s.meetingId));
    if (meetings.size > 1) throw new InvalidArgumentError(`identify takes the speakers of one meeting; got speakers of ${meetings.size} meetings.`);
    const taken = new Set(speakers.filter((s) => s.personSource === 'manual' && s.personId).map((s) => s.personId!));
    const open = speakers.filter((s) => s.personSource !== 'manual');

    const pairs: { speakerId: string; personId: string; score: number }[] = [];
    for (const speaker of open) {
      const people = new Set(this.indexes.enrollments.search(speaker.centroid, this.candidates).map((hit) => hit.group));
      for (const personId of people) {
        if (taken.has(personId)) continue;
        const score = cosine(speaker.centroid, this.means.get(personId)!);
        if (score >= this.thresholdCosine) pairs.push({ speakerId: speaker.id, personId, score });
      }
    }
    pairs.sort((a, b) => b.score - a.score || a.speakerId.localeCompare(b.speakerId) || a.personId.localeCompare(b.personId));

    const decided = new Map<string, SpeakerIdentification>();
    for (const pair of pairs) {
      if (decided.has(pair.speakerId) || taken.has(pair.personId)) continue;
      decided.set(pair.speakerId, { speakerId: pair.speakerId, personId: pair.personId, matchScore: pair.score, personSource: 'auto' });
      taken.add(pair.personId);
    }
    return open.map((s) => decided.get(s.id) ?? { speakerId: s.id, personId: null, matchScore: null, personSource: null });
  }

  /** Identifies the meeting's speakers and writes the decisions that change something; returns all decisions. */
  async identifyMeeting(meetingId: string): Promise<SpeakerIdentification[]> {
    const speakers = await this.store.speakersOfMeeting(meetingId);
    const decisions = await this.identify(speakers);
    const current = new Map(speakers.map((s) => [s.id, s]));
    for (const d of decisions) {
      const s = current.get(d.speakerId)!;
      if ((s.personId ?? null) === d.personId && (s.matchScore ?? null) === d.matchScore && (s.personSource ?? null) === d.personSource) continue;
      await this.store.updateSpeaker(d.speakerId, { personId: d.personId, matchScore: d.matchScore, personSource: d.personSource });
    }
    return decisions;
  }

  // ---- meeting speakers' centroids ------------------------------------------------------------

  /** Makes the centroid index hold exactly the meeting's current speakers (after diarization or edits). */
  async indexMeetingSpeakers(meetingId: string): Promise<void> {
    const speakers = (await this.store.speakersOfMeeting(meetingId)).filter((s) => s.modelHash === this.model.hash);
    const current = new Set(speakers.map((s) => s.id));
    const stale = this.indexes.speakers.idsOfGroup(meetingId).filter((id) => !current.has(id));
    this.indexes.speakers.remove(stale, { rebuild: false });
    this.indexes.speakers.add(speakers.map((s) => ({ id: s.id, group: meetingId, vector: s.centroid })));
  }

  /** Drops the meeting's centroids from the index (their stored vectors are overwritten on disk). */
  removeMeeting(meetingId: string): number {
    return this.indexes.speakers.remove(this.indexes.speakers.idsOfGroup(meetingId), { rebuild: false });
  }

  /**
   * Meeting speakers whose centroid is most similar to `embedding` (best first), at most `k`, keeping
   * those scoring >= `minSimilarity` (default: the identification threshold).
   */
  findSpeaker(embedding: Float32Array, options: { k?: number; minSimilarity?: number } = {}): SpeakerSearchHit[] {
    const k = options.k ?? 20;
    if (!Number.isInteger(k) || k <= 0 || k > 1000) throw new InvalidArgumentError(`findSpeaker k must be an integer in [1, 1000], got ${k}.`);
    const min = options.minSimilarity ?? this.thresholdCosine;
    return this.indexes.speakers
      .search(normalisedCopy(embedding, 'query embedding'), k)
      .filter((hit) => hit.similarity >= min)
      .map((hit) => ({ meetingId: hit.group, speakerId: hit.id, similarity: hit.similarity }));
  }

  private remember(personId: string, enrollmentId: string, embedding: Float32Array): void {
    let voices = this.voices.get(personId);
    if (!voices) this.voices.set(personId, (voices = new Map()));
    voices.set(enrollmentId, embedding);
    this.updateMean(personId);
  }

  private forget(personId: string, enrollmentIds: readonly string[]): void {
    const voices = this.voices.get(personId);
    if (!voices) return;
    for (const id of enrollmentIds) voices.delete(id);
    if (voices.size === 0) this.voices.delete(personId);
    this.updateMean(personId);
  }

  private updateMean(personId: string): void {
    const voices = this.voices.get(personId);
    if (!voices) {
      this.means.delete(personId);
      return;
    }
    const list = [...voices.values()];
    const mean = new Float32Array(list[0].length);
    for (const v of list) for (let i = 0; i < v.length; i++) mean[i] += v[i];
    this.means.set(personId, l2Normalize(mean));
  }
}

function normalisedCopy(embedding: Float32Array, what: string): Float32Array {
  let norm = 0;
  for (let i = 0; i < embedding.length; i++) norm += embedding[i] * embedding[i];
  if (embedding.length === 0 || !Number.isFinite(norm) || norm === 0) {
    throw new InvalidArgumentError(`The ${what} must be a non-empty vector of finite numbers, not all zero (was the audio silent?).`);
  }
  return l2Normalize(Float32Array.from(embedding));
}
