/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
export type CreateMeetingInput = {
  maxSpeakers?: number | null | undefined;
  minSpeakers?: number | null | undefined;
  /** Exact number of speakers, when known */
  numSpeakers?: number | null | undefined;
  tags?: Array<string> | null | undefined;
  title: string;
  /** The id answered by POST /uploads */
  uploadId: string | number;
};

/** DIARIZE runs the whole pipeline; IDENTIFY only re-matches speakers to enrolled people */
export type JobKind = 'DIARIZE' | 'IDENTIFY';

/** A job's life cycle; a meeting's status is its latest job's state */
export type JobState = 'CANCELLED' | 'FAILED' | 'QUEUED' | 'RUNNING' | 'SUCCEEDED';

export type MeetingFilter = {
  createdFrom?: string | null | undefined;
  createdTo?: string | null | undefined;
  ids?: Array<string | number> | null | undefined;
  /** Meetings where this person speaks */
  personId?: string | number | null | undefined;
  tag?: string | null | undefined;
  /** Case-insensitive text in the title */
  text?: string | null | undefined;
};

export type MeetingOrder = {
  direction?: OrderDirection;
  field?: MeetingOrderField;
};

export type MeetingOrderField = 'CREATED_AT' | 'DURATION' | 'TITLE';

export type OrderDirection = 'ASC' | 'DESC';

export type PersonInput = {
  externalId?: string | null | undefined;
  metadata?: Record<string, unknown> | null | undefined;
  name: string;
};

export type ReprocessInput = {
  filter?: MeetingFilter | null | undefined;
  kind?: JobKind;
  meetingIds?: Array<string | number> | null | undefined;
};

/** READ: queries (analytics tools); ADMIN: also mutations and uploads */
export type TokenScope = 'ADMIN' | 'READ';

/** WebVTT, SubRip, or Whisper JSON (openai-whisper, faster-whisper, whisper.cpp; word times used when present) */
export type TranscriptFormat = 'SRT' | 'VTT' | 'WHISPER_JSON';

/** RTTM, JSON (with the transcript when there is one) and CSV: the turns; VTT, SRT and TXT: the transcript with speakers (NO_TRANSCRIPT without one) */
export type TurnExportFormat = 'CSV' | 'JSON' | 'RTTM' | 'SRT' | 'TXT' | 'VTT';

export type AnalyticsQueryVariables = Exact<{
  filter?: MeetingFilter | null | undefined;
}>;

export type AnalyticsQuery = {
  stats: {
    meetings: number;
    durationSeconds: number;
    speechSeconds: number;
    overlapSeconds: number;
    silenceRatio: number;
    turns: number;
    interruptions: number;
    people: Array<{ name: string; talkTimeSeconds: number; share: number; turns: number; interruptions: number; person: { id: string } | null }>;
  };
  meetings: {
    nodes: Array<{
      id: string;
      title: string;
      stats: { durationSeconds: number; overlapSeconds: number; turns: number; interruptions: number; silenceRatio: number };
    }>;
  };
};

export type ViewerQueryVariables = Exact<{ [key: string]: never }>;

export type ViewerQuery = { viewer: { scope: TokenScope; tokenName: string } };

export type MeetingsQueryVariables = Exact<{
  filter?: MeetingFilter | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
  orderBy?: MeetingOrder | null | undefined;
}>;

export type MeetingsQuery = {
  meetings: {
    totalCount: number;
    pageInfo: { endCursor: string | null; hasNextPage: boolean };
    nodes: Array<{ id: string; title: string; tags: Array<string>; status: JobState; durationSeconds: number; createdAt: string; speakerCount: number }>;
  };
};

export type FilterChoicesQueryVariables = Exact<{ [key: string]: never }>;

export type FilterChoicesQuery = { tags: Array<string>; people: Array<{ id: string; name: string }> };

export type DeleteMeetingMutationVariables = Exact<{
  id: string | number;
}>;

export type DeleteMeetingMutation = { deleteMeeting: boolean };

export type PeopleQueryVariables = Exact<{
  text?: string | null | undefined;
}>;

export type PeopleQuery = {
  people: Array<{ id: string; name: string; externalId: string | null; totalTalkTimeSeconds: number; enrollments: Array<{ id: string }> }>;
};

export type PersonQueryVariables = Exact<{
  id: string | number;
}>;

export type PersonQuery = {
  person: {
    id: string;
    name: string;
    externalId: string | null;
    createdAt: string;
    totalTalkTimeSeconds: number;
    enrollments: Array<{ id: string; source: string; speechSeconds: number; modelName: string; createdAt: string }>;
    meetings: Array<{ id: string; title: string; createdAt: string; durationSeconds: number }>;
  } | null;
};

export type CreatePersonMutationVariables = Exact<{
  input: PersonInput;
}>;

export type CreatePersonMutation = { createPerson: { id: string; name: string } };

export type DeletePersonMutationVariables = Exact<{
  id: string | number;
}>;

export type DeletePersonMutation = { deletePerson: boolean };

export type EnrollFromUploadsMutationVariables = Exact<{
  personId: string | number;
  uploadIds: Array<string | number> | string | number;
}>;

export type EnrollFromUploadsMutation = { enrollFromUploads: Array<{ id: string; speechSeconds: number }> };

export type EnrollFromSpeakerMutationVariables = Exact<{
  personId: string | number;
  speakerId: string | number;
}>;

export type EnrollFromSpeakerMutation = { enrollFromSpeaker: { id: string; speechSeconds: number } };

export type RemoveEnrollmentMutationVariables = Exact<{
  id: string | number;
}>;

export type RemoveEnrollmentMutation = { removeEnrollment: boolean };

export type ReprocessMutationVariables = Exact<{
  input: ReprocessInput;
}>;

export type ReprocessMutation = {
  reprocess: {
    id: string;
    kind: JobKind;
    total: number;
    queued: number;
    running: number;
    succeeded: number;
    failed: number;
    cancelled: number;
    progress: number;
    notes: Array<{ meetingId: string; message: string }>;
    jobs: Array<{
      id: string;
      state: JobState;
      stage: string | null;
      progress: number;
      errorMessage: string | null;
      meeting: { id: string; title: string } | null;
    }>;
  };
};

export type BatchFieldsFragment = {
  id: string;
  kind: JobKind;
  total: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  progress: number;
  notes: Array<{ meetingId: string; message: string }>;
  jobs: Array<{
    id: string;
    state: JobState;
    stage: string | null;
    progress: number;
    errorMessage: string | null;
    meeting: { id: string; title: string } | null;
  }>;
};

export type BatchQueryVariables = Exact<{
  id: string | number;
}>;

export type BatchQuery = {
  batch: {
    id: string;
    kind: JobKind;
    total: number;
    queued: number;
    running: number;
    succeeded: number;
    failed: number;
    cancelled: number;
    progress: number;
    notes: Array<{ meetingId: string; message: string }>;
    jobs: Array<{
      id: string;
      state: JobState;
      stage: string | null;
      progress: number;
      errorMessage: string | null;
      meeting: { id: string; title: string } | null;
    }>;
  } | null;
};

export type SpeakerFieldsFragment = {
  id: string;
  label: string;
  engineLabel: string;
  talkTimeSeconds: number;
  colorIndex: number;
  matchScore: number | null;
  person: { id: string; name: string } | null;
};

export type MeetingTimelineQueryVariables = Exact<{
  id: string | number;
}>;

export type MeetingTimelineQuery = {
  meeting: {
    id: string;
    title: string;
    tags: Array<string>;
    status: JobState;
    durationSeconds: number;
    createdAt: string;
    audioUrl: string | null;
    peaksUrl: string | null;
    latestJob: { id: string; state: JobState; stage: string | null; progress: number; errorMessage: string | null } | null;
    speakers: Array<{
      id: string;
      label: string;
      engineLabel: string;
      talkTimeSeconds: number;
      colorIndex: number;
      matchScore: number | null;
      person: { id: string; name: string } | null;
    }>;
    turns: {
      totalCount: number;
      nodes: Array<{ id: string; start: number; end: number; speaker: { id: string } }>;
      pageInfo: { endCursor: string | null; hasNextPage: boolean };
    };
  } | null;
};

export type TurnPageFieldsFragment = {
  nodes: Array<{ id: string; start: number; end: number; speaker: { id: string } }>;
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
};

export type MeetingTurnsQueryVariables = Exact<{
  id: string | number;
  after: string;
}>;

export type MeetingTurnsQuery = {
  meeting: {
    id: string;
    turns: { nodes: Array<{ id: string; start: number; end: number; speaker: { id: string } }>; pageInfo: { endCursor: string | null; hasNextPage: boolean } };
  } | null;
};

export type RenameSpeakerMutationVariables = Exact<{
  speakerId: string | number;
  name: string;
}>;

export type RenameSpeakerMutation = {
  renameSpeaker: {
    id: string;
    label: string;
    engineLabel: string;
    talkTimeSeconds: number;
    colorIndex: number;
    matchScore: number | null;
    person: { id: string; name: string } | null;
  };
};

export type MergeSpeakersMutationVariables = Exact<{
  meetingId: string | number;
  keepSpeakerId: string | number;
  mergeSpeakerId: string | number;
}>;

export type MergeSpeakersMutation = { mergeSpeakers: { id: string } };

export type SplitSpeakerMutationVariables = Exact<{
  speakerId: string | number;
  from: number;
  to: number;
}>;

export type SplitSpeakerMutation = { splitSpeaker: { id: string } };

export type MoveTurnMutationVariables = Exact<{
  turnId: string | number;
  toSpeakerId: string | number;
}>;

export type MoveTurnMutation = { moveTurn: { id: string } };

export type AssignSpeakerMutationVariables = Exact<{
  speakerId: string | number;
  personId?: string | number | null | undefined;
}>;

export type AssignSpeakerMutation = {
  assignSpeaker: {
    id: string;
    label: string;
    engineLabel: string;
    talkTimeSeconds: number;
    colorIndex: number;
    matchScore: number | null;
    person: { id: string; name: string } | null;
  };
};

export type ExportTurnsQueryVariables = Exact<{
  id: string | number;
  format: TurnExportFormat;
}>;

export type ExportTurnsQuery = { meeting: { id: string; export: string } | null };

export type MeetingTranscriptQueryVariables = Exact<{
  id: string | number;
  after?: string | null | undefined;
}>;

export type MeetingTranscriptQuery = {
  meeting: {
    id: string;
    transcript: {
      totalCount: number;
      pageInfo: { endCursor: string | null; hasNextPage: boolean };
      nodes: Array<{ start: number; end: number; text: string; overlap: boolean; speaker: { id: string } | null }>;
    };
  } | null;
};

export type SearchTranscriptsQueryVariables = Exact<{
  query: string;
  personId?: string | number | null | undefined;
  after?: string | null | undefined;
}>;

export type SearchTranscriptsQuery = {
  searchTranscripts: {
    nodes: Array<{
      start: number;
      end: number;
      snippet: string;
      meeting: { id: string; title: string };
      speaker: { id: string; label: string; colorIndex: number; person: { name: string } | null } | null;
    }>;
    pageInfo: { endCursor: string | null; hasNextPage: boolean };
  };
};

export type AttachTranscriptMutationVariables = Exact<{
  meetingId: string | number;
  format: TranscriptFormat;
  content: string;
}>;

export type AttachTranscriptMutation = { attachTranscript: { meetingId: string; format: TranscriptFormat; cueCount: number; wordCount: number } };

export type DeleteTranscriptMutationVariables = Exact<{
  meetingId: string | number;
}>;

export type DeleteTranscriptMutation = { deleteTranscript: boolean };

export type CreateMeetingMutationVariables = Exact<{
  input: CreateMeetingInput;
}>;

export type CreateMeetingMutation = {
  createMeeting: {
    id: string;
    title: string;
    status: JobState;
    latestJob: {
      id: string;
      state: JobState;
      stage: string | null;
      progress: number;
      errorCode: string | null;
      errorMessage: string | null;
      attempts: number;
    } | null;
  };
};

export type JobFieldsFragment = {
  id: string;
  state: JobState;
  stage: string | null;
  progress: number;
  errorCode: string | null;
  errorMessage: string | null;
  attempts: number;
};

export type JobQueryVariables = Exact<{
  id: string | number;
}>;

export type JobQuery = {
  job: { id: string; state: JobState; stage: string | null; progress: number; errorCode: string | null; errorMessage: string | null; attempts: number } | null;
};

export type JobProgressSubscriptionVariables = Exact<{
  jobId?: string | number | null | undefined;
  meetingId?: string | number | null | undefined;
  batchId?: string | number | null | undefined;
}>;

export type JobProgressSubscription = {
  jobProgress: {
    jobId: string;
    meetingId: string;
    state: JobState;
    stage: string | null;
    progress: number;
    errorCode: string | null;
    errorMessage: string | null;
  };
};

export type CancelJobMutationVariables = Exact<{
  id: string | number;
}>;

export type CancelJobMutation = {
  cancelJob: { id: string; state: JobState; stage: string | null; progress: number; errorCode: string | null; errorMessage: string | null; attempts: number };
};

export type RetryJobMutationVariables = Exact<{
  id: string | number;
}>;

export type RetryJobMutation = {
  retryJob: { id: string; state: JobState; stage: string | null; progress: number; errorCode: string | null; errorMessage: string | null; attempts: number };
};
