/**
 * The Store on Kysely: one implementation for SQLite and PostgreSQL, as a facade over one
 * repository per entity (repositories/). Rows become records only in rows.ts; constraint
 * violations become AppErrors in the repositories, named after what the caller did. A new table
 * is one more repository file plus a migration entry.
 */
import { Kysely, Migrator, sql } from 'kysely';

import { AppError, InvalidArgumentError } from '../common/errors';
import { DialectKind, migrations } from './migrations';
import { JobRepository } from './repositories/job-repository';
import { MeetingRepository } from './repositories/meeting-repository';
import { PersonRepository } from './repositories/person-repository';
import { RepositoryContext } from './repositories/shared';
import { SpeakerRepository } from './repositories/speaker-repository';
import { TokenRepository } from './repositories/token-repository';
import { TranscriptRepository } from './repositories/transcript-repository';
import { WebhookDeliveryRepository } from './repositories/webhook-delivery-repository';
import { Database } from './rows';
import type { Store } from './types';

import { copyAllRows } from './copy-rows';

export class KyselyStore implements Store {
  private readonly context: RepositoryContext;
  private readonly meetings: MeetingRepository;
  private readonly jobs: JobRepository;
  private readonly speakers: SpeakerRepository;
  private readonly people: PersonRepository;
  private readonly tokens: TokenRepository;
  private readonly webhookDeliveries: WebhookDeliveryRepository;
  private readonly transcripts: TranscriptRepository;

  constructor(
    private readonly db: Kysely<Database>,
    readonly kind: DialectKind,
    /** PostgreSQL schema holding the tables (and Kysely's migration bookkeeping). */
    private readonly pgSchema?: string,
  ) {
    this.context = new RepositoryContext(db, kind);
    this.meetings = new MeetingRepository(this.context);
    this.jobs = new JobRepository(this.context);
    this.speakers = new SpeakerRepository(this.context);
    this.people = new PersonRepository(this.context);
    this.tokens = new TokenRepository(this.context);
    this.webhookDeliveries = new WebhookDeliveryRepository(this.context);
    this.transcripts = new TranscriptRepository(this.context);
  }

  // ---- lifecycle

  /** Copies every row into an empty `target` store (embedded → scale-out migration; store/copy-rows.ts). */
  async copyAllRowsTo(target: KyselyStore): Promise<Record<string, number>> {
    if (this.kind !== 'sqlite')
      throw new InvalidArgumentError('Only an embedded (SQLite) store can be copied; the source must be DATA_DIR without DATABASE_URL.');
    return copyAllRows(this.db, target.db, target.kind);
  }

  async migrate(): Promise<void> {
    if (this.db.isTransaction) throw new InvalidArgumentError('migrate() cannot run inside a transaction; call it on the store itself at start-up.');
    const migrator = new Migrator({
      db: this.db,
      provider: { getMigrations: async () => migrations(this.kind) },
      // Pinned, or Kysely would find another schema's kysely_migration table and skip ours.
      migrationTableSchema: this.pgSchema,
      // 0003 (transcripts) landed after 0004 on some databases; the steps touch different tables.
      allowUnorderedMigrations: true,
    });
    const { error } = await migrator.migrateToLatest();
    if (error instanceof AppError) throw error;
    if (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new AppError('INTERNAL', `Migrating the ${this.kind} database failed: ${reason}. Nothing of the failed step was kept; fix the cause and restart.`, {
        cause: error,
      });
    }
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    // A transaction-bound store shares the owner's connection: closing is the owner's job.
    if (!this.db.isTransaction) await this.db.destroy();
  }

  /** Use only `tx` inside `fn`: on SQLite the outer store waits for the transaction's one connection (deadlock). */
  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    return this.context.inTransaction((db) => fn(db === this.db ? this : new KyselyStore(db, this.kind, this.pgSchema)));
  }

  // ---- meetings (meeting-repository.ts)
  readonly insertUpload: MeetingRepository['insertUpload'] = (...args) => this.meetings.insertUpload(...args);
  readonly getUpload: MeetingRepository['getUpload'] = (...args) => this.meetings.getUpload(...args);
  readonly deleteUpload: MeetingRepository['deleteUpload'] = (...args) => this.meetings.deleteUpload(...args);
  readonly unreferencedUploads: MeetingRepository['unreferencedUploads'] = (...args) => this.meetings.unreferencedUploads(...args);
  readonly deleteUploadIfUnreferenced: MeetingRepository['deleteUploadIfUnreferenced'] = (...args) => this.meetings.deleteUploadIfUnreferenced(...args);
  readonly existingUploadIds: MeetingRepository['existingUploadIds'] = (...args) => this.meetings.existingUploadIds(...args);
  readonly insertMeeting: MeetingRepository['insertMeeting'] = (...args) => this.meetings.insertMeeting(...args);
  readonly getMeeting: MeetingRepository['getMeeting'] = (...args) => this.meetings.getMeeting(...args);
  readonly getMeetings: MeetingRepository['getMeetings'] = (...args) => this.meetings.getMeetings(...args);
  readonly meetingOfUpload: MeetingRepository['meetingOfUpload'] = (...args) => this.meetings.meetingOfUpload(...args);
  readonly updateMeeting: MeetingRepository['updateMeeting'] = (...args) => this.meetings.updateMeeting(...args);
  readonly listMeetings: MeetingRepository['listMeetings'] = (...args) => this.meetings.listMeetings(...args);
  readonly allTags: MeetingRepository['allTags'] = (...args) => this.meetings.allTags(...args);
  readonly meetingIds: MeetingRepository['meetingIds'] = (...args) => this.meetings.meetingIds(...args);
  readonly deleteMeeting: MeetingRepository['deleteMeeting'] = (...args) => this.meetings.deleteMeeting(...args);

  // ---- jobs (job-repository.ts)
  readonly insertJob: JobRepository['insertJob'] = (...args) => this.jobs.insertJob(...args);
  readonly getJob: JobRepository['getJob'] = (...args) => this.jobs.getJob(...args);
  readonly lockJob: JobRepository['lockJob'] = (...args) => this.jobs.lockJob(...args);
  readonly getJobs: JobRepository['getJobs'] = (...args) => this.jobs.getJobs(...args);
  readonly updateJob: JobRepository['updateJob'] = (...args) => this.jobs.updateJob(...args);
  readonly jobsInState: JobRepository['jobsInState'] = (...args) => this.jobs.jobsInState(...args);
  readonly countJobsByState: JobRepository['countJobsByState'] = () => this.jobs.countJobsByState();
  readonly jobsOfBatch: JobRepository['jobsOfBatch'] = (...args) => this.jobs.jobsOfBatch(...args);
  readonly jobsOfMeeting: JobRepository['jobsOfMeeting'] = (...args) => this.jobs.jobsOfMeeting(...args);
  readonly insertBatch: JobRepository['insertBatch'] = (...args) => this.jobs.insertBatch(...args);
  readonly getBatch: JobRepository['getBatch'] = (...args) => this.jobs.getBatch(...args);
  readonly addBatchNotes: JobRepository['addBatchNotes'] = (...args) => this.jobs.addBatchNotes(...args);

  // ---- speakers (speaker-repository.ts)
  readonly writeDiarization: SpeakerRepository['writeDiarization'] = (...args) => this.speakers.writeDiarization(...args);
  readonly speakersOfMeeting: SpeakerRepository['speakersOfMeeting'] = (...args) => this.speakers.speakersOfMeeting(...args);
  readonly getSpeaker: SpeakerRepository['getSpeaker'] = (...args) => this.speakers.getSpeaker(...args);
  readonly getSpeakers: SpeakerRepository['getSpeakers'] = (...args) => this.speakers.getSpeakers(...args);
  readonly updateSpeaker: SpeakerRepository['updateSpeaker'] = (...args) => this.speakers.updateSpeaker(...args);
  readonly insertSpeaker: SpeakerRepository['insertSpeaker'] = (...args) => this.speakers.insertSpeaker(...args);
  readonly deleteSpeaker: SpeakerRepository['deleteSpeaker'] = (...args) => this.speakers.deleteSpeaker(...args);
  readonly speakersOfPerson: SpeakerRepository['speakersOfPerson'] = (...args) => this.speakers.speakersOfPerson(...args);
  readonly speakersOfModel: SpeakerRepository['speakersOfModel'] = (...args) => this.speakers.speakersOfModel(...args);
  readonly countSpeakersNotOfModel: SpeakerRepository['countSpeakersNotOfModel'] = (...args) => this.speakers.countSpeakersNotOfModel(...args);
  readonly turnsOfMeeting: SpeakerRepository['turnsOfMeeting'] = (...args) => this.speakers.turnsOfMeeting(...args);
  readonly turnsPage: SpeakerRepository['turnsPage'] = (...args) => this.speakers.turnsPage(...args);
  readonly countTurns: SpeakerRepository['countTurns'] = (...args) => this.speakers.countTurns(...args);
  readonly getTurn: SpeakerRepository['getTurn'] = (...args) => this.speakers.getTurn(...args);
  readonly editTurns: SpeakerRepository['editTurns'] = (...args) => this.speakers.editTurns(...args);

  // ---- people (person-repository.ts)
  readonly insertPerson: PersonRepository['insertPerson'] = (...args) => this.people.insertPerson(...args);
  readonly getPerson: PersonRepository['getPerson'] = (...args) => this.people.getPerson(...args);
  readonly getPeople: PersonRepository['getPeople'] = (...args) => this.people.getPeople(...args);
  readonly listPeople: PersonRepository['listPeople'] = (...args) => this.people.listPeople(...args);
  readonly updatePerson: PersonRepository['updatePerson'] = (...args) => this.people.updatePerson(...args);
  readonly deletePerson: PersonRepository['deletePerson'] = (...args) => this.people.deletePerson(...args);
  readonly insertEnrollment: PersonRepository['insertEnrollment'] = (...args) => this.people.insertEnrollment(...args);
  readonly getEnrollment: PersonRepository['getEnrollment'] = (...args) => this.people.getEnrollment(...args);
  readonly enrollmentsOfPerson: PersonRepository['enrollmentsOfPerson'] = (...args) => this.people.enrollmentsOfPerson(...args);
  readonly enrollmentsOfModel: PersonRepository['enrollmentsOfModel'] = (...args) => this.people.enrollmentsOfModel(...args);
  readonly enrollmentsNotOfModel: PersonRepository['enrollmentsNotOfModel'] = (...args) => this.people.enrollmentsNotOfModel(...args);
  readonly countEnrollmentsNotOfModel: PersonRepository['countEnrollmentsNotOfModel'] = (...args) => this.people.countEnrollmentsNotOfModel(...args);
  readonly deleteEnrollment: PersonRepository['deleteEnrollment'] = (...args) => this.people.deleteEnrollment(...args);

  // ---- tokens (token-repository.ts)
  readonly insertToken: TokenRepository['insertToken'] = (...args) => this.tokens.insertToken(...args);
  readonly tokenByHash: TokenRepository['tokenByHash'] = (...args) => this.tokens.tokenByHash(...args);
  readonly listTokens: TokenRepository['listTokens'] = (...args) => this.tokens.listTokens(...args);
  readonly revokeToken: TokenRepository['revokeToken'] = (...args) => this.tokens.revokeToken(...args);

  // ---- transcripts (transcript-repository.ts)
  readonly replaceTranscript: TranscriptRepository['replaceTranscript'] = (...args) => this.transcripts.replaceTranscript(...args);
  readonly writeTranscriptSegments: TranscriptRepository['writeTranscriptSegments'] = (...args) => this.transcripts.writeTranscriptSegments(...args);
  readonly getTranscript: TranscriptRepository['getTranscript'] = (...args) => this.transcripts.getTranscript(...args);
  readonly transcriptCues: TranscriptRepository['transcriptCues'] = (...args) => this.transcripts.transcriptCues(...args);
  readonly transcriptSegments: TranscriptRepository['transcriptSegments'] = (...args) => this.transcripts.transcriptSegments(...args);
  readonly deleteTranscript: TranscriptRepository['deleteTranscript'] = (...args) => this.transcripts.deleteTranscript(...args);
  readonly searchTranscripts: TranscriptRepository['searchTranscripts'] = (...args) => this.transcripts.searchTranscripts(...args);
  readonly transcriptWordsBySpeaker: TranscriptRepository['transcriptWordsBySpeaker'] = (...args) => this.transcripts.transcriptWordsBySpeaker(...args);

  // ---- webhook deliveries (webhook-delivery-repository.ts)
  readonly insertWebhookDelivery: WebhookDeliveryRepository['insertWebhookDelivery'] = (...args) => this.webhookDeliveries.insertWebhookDelivery(...args);
  readonly updateWebhookDelivery: WebhookDeliveryRepository['updateWebhookDelivery'] = (...args) => this.webhookDeliveries.updateWebhookDelivery(...args);
  readonly getWebhookDelivery: WebhookDeliveryRepository['getWebhookDelivery'] = (...args) => this.webhookDeliveries.getWebhookDelivery(...args);
  readonly stalePendingWebhookDeliveries: WebhookDeliveryRepository['stalePendingWebhookDeliveries'] = (...args) =>
    this.webhookDeliveries.stalePendingWebhookDeliveries(...args);
  readonly claimWebhookDelivery: WebhookDeliveryRepository['claimWebhookDelivery'] = (...args) => this.webhookDeliveries.claimWebhookDelivery(...args);
  readonly listWebhookDeliveries: WebhookDeliveryRepository['listWebhookDeliveries'] = (...args) => this.webhookDeliveries.listWebhookDeliveries(...args);
}
