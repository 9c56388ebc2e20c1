import { describeStore, vector } from '../store/store-spec-support';
import { carryOverManualWork } from './carry-over-store';

describeStore('carry-over on a stored meeting', (fx) => {
  /** A meeting diarized once, its first speaker named by hand; then a new run's speakers (same voices, new ids). */
  async function rediarize() {
    const { meeting, speakers } = await fx.diarized();
    await fx.store.updateSpeaker(speakers[0].id, { displayName: 'Alice' });
    const previous = await fx.store.speakersOfMeeting(meeting.id);
    const previousTurns = (await fx.store.turnsOfMeeting(meeting.id)).items;
    const fresh = [fx.speaker(meeting.id, 'SPEAKER_00', 2), fx.speaker(meeting.id, 'SPEAKER_01', 1)];
    const write = {
      meetingId: meeting.id,
      durationSec: 120,
      speakers: fresh,
      turns: fx.turns(
        meeting.id,
        fresh.map((s) => s.id),
        6,
      ),
    };
    return { meeting, previous, previousTurns, fresh, write };
  }

  it('moves a manual name to the new speaker with the same voice, through the transaction it is given', async () => {
    const { meeting, previous, previousTurns, fresh, write } = await rediarize();
    const notes = await fx.store.transaction(async (tx) => {
      await tx.writeDiarization(write);
      return carryOverManualWork(tx, meeting.id, previous, previousTurns);
    });
    expect(notes).toEqual([]);
    // fresh[1] has the centroid of the old speaker named Alice (seed 1).
    expect(vector(1)).toEqual(fresh[1].centroid);
    expect((await fx.store.getSpeaker(fresh[1].id))!.displayName).toBe('Alice');
    expect((await fx.store.getSpeaker(fresh[0].id))!.displayName ?? null).toBeNull();
  });

  it('rolls back with the transaction: the old speakers keep their name, no new speaker is left', async () => {
    const { meeting, previous, previousTurns, fresh, write } = await rediarize();
    await expect(
      fx.store.transaction(async (tx) => {
        await tx.writeDiarization(write);
        await carryOverManualWork(tx, meeting.id, previous, previousTurns);
        throw new Error('this run lost the job');
      }),
    ).rejects.toThrow('this run lost the job');
    const stored = await fx.store.speakersOfMeeting(meeting.id);
    expect(stored.map((s) => s.id).sort()).toEqual(previous.map((s) => s.id).sort());
    expect(stored.find((s) => s.label === 'SPEAKER_00')!.displayName).toBe('Alice');
    expect(await fx.store.getSpeaker(fresh[1].id)).toBeUndefined();
  });
});
