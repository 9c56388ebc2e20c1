/** For specs: the few Store methods speakers/ uses, in memory. Everything else throws. */
import type { EnrollmentInsert, EnrollmentRecord, MeetingSpeakerRecord, PersonRecord, Store } from '../store/types';

export class MemorySpeakerStore {
  readonly people = new Map<string, PersonRecord>();
  readonly enrollments = new Map<string, EnrollmentRecord>();
  readonly speakers = new Map<string, MeetingSpeakerRecord>();

  asStore(): Store {
    return new Proxy(this, {
      get: (target, key) => {
        const value = Reflect.get(target, key) as unknown;
        if (typeof value === 'function') return (value as (...args: unknown[]) => unknown).bind(target);
        if (typeof key === 'string' && !(key in target)) throw new Error(`MemorySpeakerStore does not implement Store.${key}`);
        return value;
      },
    }) as unknown as Store;
  }

  addPerson(id: string, name = id): PersonRecord {
    const person = { id, name, metadata: {}, createdAt: new Date(0).toISOString() };
    this.people.set(id, person);
    return person;
  }

  addSpeaker(s: Partial<MeetingSpeakerRecord> & Pick<MeetingSpeakerRecord, 'id' | 'meetingId' | 'centroid'>): MeetingSpeakerRecord {
    const record: MeetingSpeakerRecord = { label: s.id, talkTimeSec: 1, modelName: 'm', modelHash: 'hash-a', createdAt: new Date(0).toISOString(), ...s };
    this.speakers.set(record.id, record);
    return record;
  }

  async getPerson(id: string): Promise<PersonRecord | undefined> {
    return this.people.get(id);
  }

  async deletePerson(id: string): Promise<PersonRecord | undefined> {
    const person = this.people.get(id);
    if (!person) return undefined;
    this.people.delete(id);
    for (const e of [...this.enrollments.values()]) if (e.personId === id) this.enrollments.delete(e.id);
    for (const s of this.speakers.values()) {
      if (s.personId === id) Object.assign(s, { personId: undefined, personSource: undefined, matchScore: undefined });
    }
    return person;
  }

  async insertEnrollment(e: EnrollmentInsert): Promise<EnrollmentRecord> {
    const record = { ...e, embedding: Float32Array.from(e.embedding), createdAt: new Date(0).toISOString() };
    this.enrollments.set(e.id, record);
    return record;
  }

  async deleteEnrollment(id: string): Promise<EnrollmentRecord | undefined> {
    const e = this.enrollments.get(id);
    this.enrollments.delete(id);
    return e;
  }

  async enrollmentsOfPerson(personId: string): Promise<EnrollmentRecord[]> {
    return [...this.enrollments.values()].filter((e) => e.personId === personId);
  }

  async enrollmentsOfModel(modelHash: string): Promise<EnrollmentRecord[]> {
    return [...this.enrollments.values()].filter((e) => e.modelHash === modelHash);
  }

  async countEnrollmentsNotOfModel(modelHash: string): Promise<number> {
    return [...this.enrollments.values()].filter((e) => e.modelHash !== modelHash).length;
  }

  async speakersOfModel(modelHash: string): Promise<MeetingSpeakerRecord[]> {
    return [...this.speakers.values()].filter((s) => s.modelHash === modelHash);
  }

  async countSpeakersNotOfModel(modelHash: string): Promise<number> {
    return [...this.speakers.values()].filter((s) => s.modelHash !== modelHash).length;
  }

  async speakersOfMeeting(meetingId: string): Promise<MeetingSpeakerRecord[]> {
    return [...this.speakers.values()].filter((s) => s.meetingId === meetingId);
  }

  async updateSpeaker(
    id: string,
    patch: { displayName?: string | null; personId?: string | null; personSource?: 'auto' | 'manual' | null; matchScore?: number | null },
  ): Promise<void> {
    const s = this.speakers.get(id);
    if (!s) throw new Error(`no speaker ${id}`);
    for (const [key, value] of Object.entries(patch)) (s as unknown as Record<string, unknown>)[key] = value === null ? undefined : value;
  }
}

/** A unit vector in the plane of the first two axes at `degrees`, padded to `dim`. */
export function unitAt(degrees: number, dim = 4): Float32Array {
  const v = new Float32Array(dim);
  v[0] = Math.cos((degrees * Math.PI) / 180);
  v[1] = Math.sin((degrees * Math.PI) / 180);
  return v;
}

export function axis(i: number, dim = 4): Float32Array {
  const v = new Float32Array(dim);
  v[i] = 1;
  return v;
}
