import { registerEnumType } from 'type-graphql';

export enum JobStateGql {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(JobStateGql, { name: 'JobState', description: "A job's life cycle; a meeting's status is its latest job's state" });

export enum JobKindGql {
  DIARIZE = 'diarize',
  IDENTIFY = 'identify',
}
registerEnumType(JobKindGql, { name: 'JobKind', description: 'DIARIZE runs the whole pipeline; IDENTIFY only re-matches speakers to enrolled people' });

export enum TokenScopeGql {
  READ = 'read',
  ADMIN = 'admin',
}
registerEnumType(TokenScopeGql, { name: 'TokenScope', description: 'READ: queries (analytics tools); ADMIN: also mutations and uploads' });

export enum MeetingOrderField {
  CREATED_AT = 'createdAt',
  TITLE = 'title',
  DURATION = 'durationSec',
}
registerEnumType(MeetingOrderField, { name: 'MeetingOrderField' });

export enum OrderDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}
registerEnumType(OrderDirection, { name: 'OrderDirection' });

export enum TurnExportFormat {
  RTTM = 'rttm',
  JSON = 'json',
  CSV = 'csv',
  VTT = 'vtt',
  SRT = 'srt',
  TXT = 'txt',
}
registerEnumType(TurnExportFormat, {
  name: 'TurnExportFormat',
  description:
    'RTTM, JSON (with the transcript when there is one) and CSV: the turns; VTT, SRT and TXT: the transcript with speakers (NO_TRANSCRIPT without one)',
});

export enum WebhookDeliveryStatusGql {
  PENDING = 'PENDING',
  DELIVERED = 'DELIVERED',
  FAILED = 'FAILED',
  REFUSED = 'REFUSED',
}
registerEnumType(WebhookDeliveryStatusGql, {
  name: 'WebhookDeliveryStatus',
  description: 'PENDING while attempts remain; REFUSED: the address is not allowed (no connection was made); FAILED: every attempt failed, or a redirect',
});
