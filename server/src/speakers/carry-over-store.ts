/**
 * Applies carry-over (carry-over.ts, pure) to a stored meeting: reads the new speakers and turns,
 * pairs them with the previous ones and writes the names and person assignments that move over.
 * Takes the store it writes through, so the diarize job can run it inside the transaction that
 * wrote the new speakers (no meeting with its new speakers but without its manual work).
 */
import type { MeetingSpeakerRecord, Store, TurnRecord } from '../store/types';
import { carryOver } from './carry-over';

/** Returns what could not be carried over, in words (for the batch notes). */
export async function carryOverManualWork(store: Store, meetingId: string, previous: MeetingSpeakerRecord[], previousTurns: TurnRecord[]): Promise<string[]> {
  const current = await store.speakersOfMeeting(meetingId);
  const newTurns = (await store.turnsOfMeeting(meetingId)).items;
  const asTurns = (turns: TurnRecord[]) => turns.map((t) => ({ speakerId: t.speakerId, start: t.startSec, end: t.endSec }));
  const result = carryOver(previous, current, { oldTurns: asTurns(previousTurns), newTurns: asTurns(newTurns) });
  for (const patch of result.patches) {
    await store.updateSpeaker(patch.speakerId, {
      ...(patch.displayName !== undefined ? { displayName: patch.displayName } : {}),
      ...(patch.personId !== undefined ? { personId: patch.personId, personSource: 'manual' as const, matchScore: null } : {}),
    });
  }
  return result.notCarried.map((n) => n.message);
}
