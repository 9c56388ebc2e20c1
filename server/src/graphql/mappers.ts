import { sanitizeForClients } from '../common/redact';
import { JobRecord, MeetingRecord, MeetingSpeakerRecord, PersonRecord } from '../store/types';
import type { GraphQLContext } from './context';
import { JobKindGql, JobStateGql } from './types/enums';
import { Job } from './types/job.type';
import { Meeting, Speaker } from './types/meeting.type';
import { Person } from './types/person.type';

/** Records → GraphQL objects: seconds stay floats, instants become Dates, hidden ids ride along. */
export function toMeeting(m: MeetingRecord): Meeting {
  return {
    id: m.id,
    title: m.title,
    tags: m.tags,
    durationSeconds: m.durationSec,
    createdAt: new Date(m.createdAt),
    numSpeakers: m.numSpeakers,
    minSpeakers: m.minSpeakers,
    maxSpeakers: m.maxSpeakers,
    latestJobId: m.latestJobId,
    updatedAt: m.updatedAt,
    playablePath: m.playablePath,
    peaksPath: m.peaksPath,
  };
}

/** "SPEAKER_03" → 3; labels from splits count on. */
export function speakerIndex(label: string): number {
  const n = Number(/(\d+)$/.exec(label)?.[1]);
  return Number.isFinite(n) ? n : 0;
}

/** Display label: the name a person gave, else the matched person's name, else "Speaker N" (1-based). */
export function toSpeaker(s: MeetingSpeakerRecord, person?: PersonRecord): Speaker {
  const index = speakerIndex(s.label);
  return {
    id: s.id,
    meetingId: s.meetingId,
    label: s.displayName ?? person?.name ?? `Speaker ${index + 1}`,
    engineLabel: s.label,
    talkTimeSeconds: s.talkTimeSec,
    matchScore: s.matchScore,
    colorIndex: index,
    personId: s.personId,
  };
}

export function toJob(j: JobRecord): Job {
  return {
    id: j.id,
    kind: j.kind as JobKindGql,
    state: j.state as JobStateGql,
    stage: j.stage,
    progress: j.progress,
    errorCode: j.errorCode,
    // Written sanitised since jobs/job-service.ts describe(); also clean rows stored before that.
    errorMessage: j.errorMessage === undefined ? undefined : sanitizeForClients(j.errorMessage),
    attempts: j.attempts,
    createdAt: new Date(j.createdAt),
    startedAt: j.startedAt ? new Date(j.startedAt) : undefined,
    finishedAt: j.finishedAt ? new Date(j.finishedAt) : undefined,
    meetingId: j.meetingId,
    batchId: j.batchId,
  };
}

export function toPerson(p: PersonRecord): Person {
  return { id: p.id, name: p.name, externalId: p.externalId, metadata: p.metadata, createdAt: new Date(p.createdAt) };
}

/** A meeting's speakers as GraphQL objects, most talk time first (one query per request, cached in the context). */
export async function meetingSpeakers(ctx: GraphQLContext, meetingId: string): Promise<Speaker[]> {
  const speakers = await ctx.speakersOf(meetingId);
  const out = await Promise.all(speakers.map(async (s) => toSpeaker(s, s.personId ? await ctx.person(s.personId) : undefined)));
  return out.sort((a, b) => b.talkTimeSeconds - a.talkTimeSeconds || a.engineLabel.localeCompare(b.engineLabel));
}
