import { randomUUID } from 'node:crypto';

import { InvalidArgumentError, NotFoundError } from '../common/errors';
import type { ModelIdentity } from '../diarization/engine';
import { EnrollmentRecord, PersonRecord, Store } from '../store/types';
import { ClipEmbedder } from '../jobs/clip-embedding';

/** What enrollment needs from speakers/ (the directory keeps the HNSW index in step with the rows). */
export interface EnrollmentIndex {
  enroll(enrollment: Omit<EnrollmentRecord, 'createdAt'>): Promise<EnrollmentRecord>;
  removeEnrollment(id: string): Promise<EnrollmentRecord | undefined>;
  /** Deletes the person's enrollments, index entries and the person (consent withdrawn). */
  removePerson(personId: string): Promise<PersonRecord | undefined>;
}

export interface PersonInput {
  name: string;
  externalId?: string;
  metadata?: Record<string, unknown>;
}

export class PeopleService {
  constructor(
    private readonly store: Store,
    /** Embeds uploaded clips: here in the job slots, or on a worker (REDIS_URL). */
    private readonly clips: ClipEmbedder,
    /** The model this process matches with (enrollments of other models wait for re-embedding). */
    private readonly model: ModelIdentity,
    private readonly index: EnrollmentIndex,
  ) {}

  async create(input: PersonInput): Promise<PersonRecord> {
    return this.store.insertPerson({ id: randomUUID(), ...validPerson(input) });
  }

  async update(id: string, input: PersonInput): Promise<PersonRecord> {
    await this.mustGet(id);
    await this.store.updatePerson(id, validPerson(input));
    return (await this.store.getPerson(id))!;
  }

  async delete(id: string): Promise<boolean> {
    const removed = await this.index.removePerson(id);
    if (!removed) throw new NotFoundError('person', id);
    return true;
  }

  /** One enrollment per clip; each clip must hold one voice (the embedding is the clip's mean). */
  async enrollFromUploads(personId: string, uploadIds: readonly string[]): Promise<EnrollmentRecord[]> {
    await this.mustGet(personId);
    if (uploadIds.length === 0) throw new InvalidArgumentError('Give at least one uploaded clip to enroll from.');
    const uploads = await Promise.all(
      uploadIds.map(async (id) => {
        const upload = await this.store.getUpload(id);
        if (!upload) throw new NotFoundError('upload', id);
        return upload;
      }),
    );
    // Every clip's length is checked before the first one is embedded: a long one refuses the lot.
    for (const upload of uploads) this.clips.check(upload);
    const out: EnrollmentRecord[] = [];
    for (const upload of uploads) {
      const { embedding, speechSec, model } = await this.clips.embed(upload);
      out.push(
        await this.index.enroll({
          id: randomUUID(),
          personId,
          source: 'clip',
          uploadId: upload.id,
          speechSec,
          embedding,
          modelName: model.name,
          modelHash: model.hash,
        }),
      );
    }
    return out;
  }

  /** Enrolls a diarized meeting speaker's voice and assigns that speaker to the person. */
  async enrollFromSpeaker(personId: string, speakerId: string): Promise<EnrollmentRecord> {
    await this.mustGet(personId);
    const speaker = await this.store.getSpeaker(speakerId);
    if (!speaker) throw new NotFoundError('speaker', speakerId);
    const enrollment = await this.index.enroll({
      id: randomUUID(),
      personId,
      source: 'speaker',
      meetingSpeakerId: speaker.id,
      speechSec: speaker.talkTimeSec,
      embedding: speaker.centroid,
      modelName: speaker.modelName,
      modelHash: speaker.modelHash,
    });
    await this.store.updateSpeaker(speakerId, { personId, personSource: 'manual', matchScore: null });
    return enrollment;
  }

  async removeEnrollment(id: string): Promise<boolean> {
    const removed = await this.index.removeEnrollment(id);
    if (!removed) throw new NotFoundError('enrollment', id);
    return true;
  }

  /**
   * After a model switch, re-embeds what another model made, so that matching can resume: clip
   * enrollments from their stored uploads; speaker enrollments from the person's meeting speakers
   * that the current model has embedded by now (re-diarized meetings carry assignments over).
   * Returns, in words, what could not be re-embedded yet (a person must enroll again, or more
   * meetings must be reprocessed first).
   */
  reembedEnrollments(): Promise<string[]> {
    // One migration at a time: concurrent jobs would otherwise re-embed the same enrollment twice.
    const run = this.migration.then(() => this.reembedNow());
    this.migration = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private migration: Promise<void> = Promise.resolve();

  private async reembedNow(): Promise<string[]> {
    const current = this.model;
    const pending: string[] = [];
    for (const old of await this.store.enrollmentsNotOfModel(current.hash)) {
      const person = await this.store.getPerson(old.personId);
      const who = person?.name ?? old.personId;
      let replacement: { embedding: Float32Array; speechSec: number; uploadId?: string; meetingSpeakerId?: string } | undefined;
      if (old.source === 'clip' && old.uploadId) {
        const upload = await this.store.getUpload(old.uploadId);
        // Runs inside the job that asked for it, which already holds an engine slot.
        if (upload) {
          const { embedding, speechSec } = await this.clips.embed(upload, { inJob: true });
          replacement = { embedding, speechSec, uploadId: upload.id };
        }
      } else {
        const voices = (await this.store.speakersOfPerson(old.personId)).filter((s) => s.modelHash === current.hash);
        if (voices.length > 0) {
          const best = voices.reduce((a, b) => (b.talkTimeSec > a.talkTimeSec ? b : a));
          replacement = { embedding: best.centroid, speechSec: best.talkTimeSec, meetingSpeakerId: best.id };
        }
      }
      if (!replacement) {
        pending.push(
          old.source === 'clip'
            ? `Enrollment ${old.id} of ${who}: its clip is gone; enroll ${who} again.`
            : `Enrollment ${old.id} of ${who}: no meeting speaker of ${who} has been re-embedded yet; reprocess a meeting where ${who} speaks, or enroll ${who} again.`,
        );
        continue;
      }
      await this.index.enroll({
        id: randomUUID(),
        personId: old.personId,
        source: old.source,
        speechSec: replacement.speechSec,
        embedding: replacement.embedding,
        uploadId: replacement.uploadId,
        meetingSpeakerId: replacement.meetingSpeakerId,
        modelName: current.name,
        modelHash: current.hash,
      });
      await this.index.removeEnrollment(old.id);
    }
    return pending;
  }

  private async mustGet(id: string): Promise<PersonRecord> {
    const person = await this.store.getPerson(id);
    if (!person) throw new NotFoundError('person', id);
    return person;
  }
}

function validPerson(input: PersonInput): Omit<PersonRecord, 'id' | 'createdAt'> {
  const name = input.name.trim();
  if (!name) throw new InvalidArgumentError('A person needs a name.');
  if (name.length > 200) throw new InvalidArgumentError('A name has at most 200 characters.');
  return { name, externalId: input.externalId?.trim() || undefined, metadata: input.metadata ?? {} };
}
