import { randomUUID } from 'node:crypto';

import { InvalidArgumentError, NotFoundError } from '../common/errors';
import { Engine } from '../diarization/engine';
import { BlobStore } from '../storage/blob-store';
import { EnrollmentRecord, PersonRecord, Store } from '../store/types';

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
    private readonly blobs: BlobStore,
    private readonly engine: Engine,
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
    const out: EnrollmentRecord[] = [];
    for (const upload of uploads) {
      const { embedding, speechSec } = await this.engine.embedClip(this.blobs.absolutePath(upload.path));
      out.push(
        await this.index.enroll({
          id: randomUUID(),
          personId,
          source: 'clip',
          uploadId: upload.id,
          speechSec,
          embedding,
          modelName: this.engine.model.name,
          modelHash: this.engine.model.hash,
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
