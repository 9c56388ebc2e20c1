import { AuthChecker } from 'type-graphql';

import { Platform } from '../services/platform-types';
import { scopeAllows, Viewer } from '../auth/tokens';
import { ForbiddenError } from '../common/errors';
import { MeetingSpeakerRecord, PersonRecord } from '../store/types';

/** Per-request state: who asks, and caches that stop N+1 lookups (speakers of a meeting, people). */
export interface GraphQLContext {
  platform: Platform;
  viewer: Viewer;
  speakersOf(meetingId: string): Promise<MeetingSpeakerRecord[]>;
  person(id: string): Promise<PersonRecord | undefined>;
}

export function createContext(platform: Platform, viewer: Viewer): GraphQLContext {
  const speakers = new Map<string, Promise<MeetingSpeakerRecord[]>>();
  const people = new Map<string, Promise<PersonRecord | undefined>>();
  return {
    platform,
    viewer,
    speakersOf(meetingId) {
      let hit = speakers.get(meetingId);
      if (!hit) speakers.set(meetingId, (hit = platform.store.speakersOfMeeting(meetingId)));
      return hit;
    },
    person(id) {
      let hit = people.get(id);
      if (!hit) people.set(id, (hit = platform.store.getPerson(id)));
      return hit;
    },
  };
}

/** `@Authorized()` needs any valid token (read); `@Authorized('admin')` needs the admin scope. */
export const authChecker: AuthChecker<GraphQLContext> = ({ context }, roles) => {
  const need = roles.includes('admin') ? 'admin' : 'read';
  if (scopeAllows(context.viewer.scope, need)) return true;
  throw new ForbiddenError(`This operation needs a token with the "${need}" scope; yours ("${context.viewer.tokenName}") has "${context.viewer.scope}".`);
};
