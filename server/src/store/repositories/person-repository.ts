/** People and their voice enrollments. */
import { ExpressionBuilder, Updateable } from 'kysely';
import { AppError, ConflictError } from '../../common/errors';
import { decodeCursor, encodeCursor } from '../cursor';
import { Database, encodeVector, foldCase, PeopleTable, toEnrollment, toPerson } from '../rows';
import type { EnrollmentInsert, EnrollmentRecord, Page, PersonRecord } from '../types';
import { checkFirst, chunked, count, inIdOrder, keysetAfter, likeSubstring, nowIso, RepositoryContext, toPage } from './shared';

export class PersonRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async insertPerson(person: Omit<PersonRecord, 'createdAt'>): Promise<PersonRecord> {
    const row = await this.ctx.guard(
      () =>
        this.ctx.db
          .insertInto('people')
          .values({
            id: person.id,
            name: person.name,
            name_key: foldCase(person.name),
            external_id: person.externalId ?? null,
            metadata: JSON.stringify(person.metadata),
            created_at: nowIso(),
          })
          .returningAll()
          .executeTakeFirstOrThrow(),
      { unique: () => new ConflictError(`A person with id "${person.id}" already exists.`) },
    );
    return toPerson(row);
  }

  async getPerson(id: string): Promise<PersonRecord | undefined> {
    const row = await this.ctx.db.selectFrom('people').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toPerson(row);
  }

  async getPeople(ids: readonly string[]): Promise<PersonRecord[]> {
    const rows = await chunked(ids, (chunk) => this.ctx.db.selectFrom('people').selectAll().where('id', 'in', chunk).execute());
    return inIdOrder(ids, rows.map(toPerson));
  }

  /** Ordered by name (case-insensitive); `text` matches a name substring or the exact external id. */
  async listPeople(filter: { text?: string }, first: number, after?: string): Promise<Page<PersonRecord>> {
    checkFirst(first);
    const text = filter.text;
    const where = (eb: ExpressionBuilder<Database, 'people'>) =>
      text ? eb.or([likeSubstring(eb.ref('people.name_key'), text), eb('people.external_id', '=', text)]) : eb.and([]);
    let query = this.ctx.db.selectFrom('people').selectAll().where(where);
    if (after !== undefined) query = query.where(keysetAfter('people.name_key', 'people.id', 'asc', decodeCursor(after, 'people.name', 'string')));
    const rows = await query
      .orderBy('name_key')
      .orderBy('id')
      .limit(first + 1)
      .execute();
    const totalCount = await count(this.ctx.db.selectFrom('people').where(where));
    return toPage(rows, first, totalCount, toPerson, (row) => encodeCursor('people.name', row.name_key, row.id));
  }

  async updatePerson(id: string, patch: Partial<Pick<PersonRecord, 'name' | 'externalId' | 'metadata'>>): Promise<void> {
    const set: Updateable<PeopleTable> = {};
    if (patch.name !== undefined) Object.assign(set, { name: patch.name, name_key: foldCase(patch.name) });
    if (patch.externalId !== undefined) set.external_id = patch.externalId;
    if (patch.metadata !== undefined) set.metadata = JSON.stringify(patch.metadata);
    if (Object.keys(set).length === 0) return;
    await this.ctx.db.updateTable('people').set(set).where('id', '=', id).execute();
  }

  async deletePerson(id: string): Promise<PersonRecord | undefined> {
    return this.ctx.inTransaction(async (db) => {
      // Explicit rather than left to ON DELETE: withdrawing consent must clear identification too.
      await db.updateTable('meeting_speakers').set({ person_id: null, person_source: null, match_score: null }).where('person_id', '=', id).execute();
      await db.deleteFrom('enrollments').where('person_id', '=', id).execute();
      const row = await db.deleteFrom('people').where('id', '=', id).returningAll().executeTakeFirst();
      return row && toPerson(row);
    });
  }

  async insertEnrollment(enrollment: EnrollmentInsert): Promise<EnrollmentRecord> {
    const row = await this.ctx.guard(
      () =>
        this.ctx.db
          .insertInto('enrollments')
          .values({
            id: enrollment.id,
            person_id: enrollment.personId,
            source: enrollment.source,
            upload_id: enrollment.uploadId ?? null,
            meeting_speaker_id: enrollment.meetingSpeakerId ?? null,
            speech_sec: enrollment.speechSec,
            embedding: encodeVector(enrollment.embedding),
            model_name: enrollment.modelName,
            model_hash: enrollment.modelHash,
            created_at: nowIso(),
          })
          .returningAll()
          .executeTakeFirstOrThrow(),
      {
        unique: () => new ConflictError(`An enrollment with id "${enrollment.id}" already exists.`),
        foreignKey: () =>
          new AppError(
            'NOT_FOUND',
            `Cannot enroll: person "${enrollment.personId}" or the upload/meeting speaker the enrollment comes from does not exist. It may have been deleted.`,
          ),
      },
    );
    return toEnrollment(row);
  }

  async getEnrollment(id: string): Promise<EnrollmentRecord | undefined> {
    const row = await this.ctx.db.selectFrom('enrollments').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toEnrollment(row);
  }

  async enrollmentsOfPerson(personId: string): Promise<EnrollmentRecord[]> {
    const rows = await this.ctx.db.selectFrom('enrollments').selectAll().where('person_id', '=', personId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toEnrollment);
  }

  async enrollmentsOfModel(modelHash: string): Promise<EnrollmentRecord[]> {
    const rows = await this.ctx.db.selectFrom('enrollments').selectAll().where('model_hash', '=', modelHash).orderBy('created_at').orderBy('id').execute();
    return rows.map(toEnrollment);
  }

  async enrollmentsNotOfModel(modelHash: string): Promise<EnrollmentRecord[]> {
    const rows = await this.ctx.db.selectFrom('enrollments').selectAll().where('model_hash', '<>', modelHash).orderBy('created_at').orderBy('id').execute();
    return rows.map(toEnrollment);
  }

  async countEnrollmentsNotOfModel(modelHash: string): Promise<number> {
    return count(this.ctx.db.selectFrom('enrollments').where('model_hash', '<>', modelHash));
  }

  async deleteEnrollment(id: string): Promise<EnrollmentRecord | undefined> {
    const row = await this.ctx.db.deleteFrom('enrollments').where('id', '=', id).returningAll().executeTakeFirst();
    return row && toEnrollment(row);
  }
}
