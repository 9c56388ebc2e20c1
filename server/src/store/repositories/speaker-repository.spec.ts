import { randomUUID } from 'node:crypto';

import type { TurnInsert } from '../types';
import { describeStore, rejection, vector } from '../store-spec-support';

describeStore('speaker repository', (fx) => {
  const { newMeeting, speaker, turns, diarized, newPerson } = fx;

  // ---- speakers and turns

  it('writes a diarization and reads speakers (exact centroids) and turns back', async () => {
    const { meeting, speakers } = await diarized(6);
    const stored = await fx.store.speakersOfMeeting(meeting.id);
    expect(stored.map((s) => s.label)).toEqual(['SPEAKER_00', 'SPEAKER_01']);
    expect(stored[0]).toMatchObject({ id: speakers[0].id, meetingId: meeting.id, talkTimeSec: 11, modelName: 'ecapa', modelHash: 'hash-a' });
    expect(stored[0].centroid).toEqual(vector(1));
    expect(stored[0].centroid).toBeInstanceOf(Float32Array);
    expect(stored[0].personId).toBeUndefined();
    expect(await fx.store.getSpeaker(speakers[1].id)).toEqual(stored[1]);
    expect(await fx.store.getSpeakers([speakers[1].id, 'nope', speakers[0].id])).toEqual([stored[1], stored[0]]);
    expect(await fx.store.getSpeaker('no-such-speaker')).toBeUndefined();
    expect((await fx.store.getMeeting(meeting.id))?.durationSec).toBe(120);

    const all = await fx.store.turnsOfMeeting(meeting.id);
    expect(all.totalCount).toBe(6);
    expect(all.hasNextPage).toBe(false);
    expect(all.items.map((t) => [t.startSec, t.endSec])).toEqual([0, 1.75, 3.5, 5.25, 7, 8.75].map((s) => [s, s + 1.5]));
    expect(all.items.map((t) => t.speakerId)).toEqual([0, 1, 0, 1, 0, 1].map((i) => speakers[i].id));
    expect(await fx.store.getTurn(all.items[2].id)).toEqual(all.items[2]);
    expect(await fx.store.getTurn('no-such-turn')).toBeUndefined();
    expect(await fx.store.countTurns(meeting.id)).toBe(6);
  });

  it('replaces speakers and turns idempotently when a diarization is written again', async () => {
    const { meeting, speakers } = await diarized(6);
    const write = {
      meetingId: meeting.id,
      durationSec: 121,
      speakers,
      turns: turns(
        meeting.id,
        speakers.map((s) => s.id),
        6,
      ).map((t, i) => ({ ...t, id: `${meeting.id}-t${i}` })),
    };
    await fx.store.writeDiarization(write);
    await fx.store.writeDiarization(write);
    expect(await fx.store.countTurns(meeting.id)).toBe(6);
    expect((await fx.store.speakersOfMeeting(meeting.id)).map((s) => s.id)).toEqual(speakers.map((s) => s.id));

    // A new run with new speakers: the old ones are gone, nothing is duplicated.
    const fresh = [speaker(meeting.id, 'SPEAKER_00', 5), speaker(meeting.id, 'SPEAKER_01', 6), speaker(meeting.id, 'SPEAKER_02', 7)];
    await fx.store.writeDiarization({
      meetingId: meeting.id,
      durationSec: 121,
      speakers: fresh,
      turns: turns(
        meeting.id,
        fresh.map((s) => s.id),
        9,
      ),
    });
    expect((await fx.store.speakersOfMeeting(meeting.id)).map((s) => s.id)).toEqual(fresh.map((s) => s.id));
    expect(await fx.store.countTurns(meeting.id)).toBe(9);
    expect(await fx.store.getSpeaker(speakers[0].id)).toBeUndefined();
  });

  it('leaves the previous diarization intact when a write fails', async () => {
    const { meeting, speakers } = await diarized(4);
    const before = await fx.store.turnsOfMeeting(meeting.id);
    const fresh = [speaker(meeting.id, 'SPEAKER_00', 8)];
    const duplicateTurns = turns(meeting.id, [fresh[0].id], 2).map((t) => ({ ...t, id: `${meeting.id}-same` }));
    const error = await rejection(fx.store.writeDiarization({ meetingId: meeting.id, durationSec: 5, speakers: fresh, turns: duplicateTurns }));
    expect(error.code).toBe('CONFLICT');
    expect(await fx.store.turnsOfMeeting(meeting.id)).toEqual(before);
    expect((await fx.store.speakersOfMeeting(meeting.id)).map((s) => s.id)).toEqual(speakers.map((s) => s.id));
    expect((await fx.store.getMeeting(meeting.id))?.durationSec).toBe(120);

    const stray = await rejection(
      fx.store.writeDiarization({ meetingId: meeting.id, durationSec: 5, speakers: fresh, turns: turns(meeting.id, ['someone-else'], 1) }),
    );
    expect(stray.code).toBe('INVALID_ARGUMENT');
    expect((await rejection(fx.store.writeDiarization({ meetingId: 'no-such-meeting', durationSec: 1, speakers: [], turns: [] }))).code).toBe('NOT_FOUND');
  });

  it('writes and reads 12 000 turns (chunked inserts, one query for all)', async () => {
    const meeting = await newMeeting({ durationSec: 4 * 3600 });
    const speakers = [0, 1, 2, 3].map((i) => speaker(meeting.id, `SPEAKER_0${i}`, 10 + i));
    const many = turns(
      meeting.id,
      speakers.map((s) => s.id),
      12_000,
    );
    await fx.store.writeDiarization({ meetingId: meeting.id, durationSec: 4 * 3600, speakers, turns: many });
    expect(await fx.store.countTurns(meeting.id)).toBe(12_000);
    const all = await fx.store.turnsOfMeeting(meeting.id);
    expect(all.items).toHaveLength(12_000);
    expect(all.totalCount).toBe(12_000);
    expect(all.items[11_999].startSec).toBe(11_999 * 1.75);
    expect(all.items.every((t, i) => i === 0 || t.startSec > all.items[i - 1].startSec)).toBe(true);
    const page = await fx.store.turnsOfMeeting(meeting.id, {}, 500);
    expect(page.items).toHaveLength(500);
    expect(page.hasNextPage).toBe(true);
    expect(page.totalCount).toBe(12_000);
  });

  it('pages turns in time order across ties and keeps turns overlapping [from, to)', async () => {
    const meeting = await newMeeting();
    const speakers = [speaker(meeting.id, 'SPEAKER_00', 1), speaker(meeting.id, 'SPEAKER_01', 2)];
    const [a, b] = speakers.map((s) => s.id);
    // Three turns start at 2.0 s (overlapping speech): the id breaks the tie.
    const spec: TurnInsert[] = [
      { id: 'k', meetingId: meeting.id, speakerId: a, startSec: 0, endSec: 2 },
      { id: 'c', meetingId: meeting.id, speakerId: b, startSec: 2, endSec: 3 },
      { id: 'a', meetingId: meeting.id, speakerId: a, startSec: 2, endSec: 4 },
      { id: 'b', meetingId: meeting.id, speakerId: b, startSec: 2, endSec: 2.5 },
      { id: 'z', meetingId: meeting.id, speakerId: a, startSec: 5, endSec: 6 },
    ].map((t) => ({ ...t, id: `${meeting.id}-${t.id}` }));
    await fx.store.writeDiarization({ meetingId: meeting.id, durationSec: 6, speakers, turns: spec });
    const order = ['k', 'a', 'b', 'c', 'z'].map((s) => `${meeting.id}-${s}`);

    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 5; i++) {
      const page = await fx.store.turnsOfMeeting(meeting.id, {}, 2, after);
      expect(page.totalCount).toBe(5);
      seen.push(...page.items.map((t) => t.id));
      if (!page.hasNextPage) break;
      after = page.endCursor;
    }
    expect(seen).toEqual(order);

    // The rest after a cursor, without a page size.
    const firstTwo = await fx.store.turnsOfMeeting(meeting.id, {}, 2);
    const rest = await fx.store.turnsOfMeeting(meeting.id, {}, undefined, firstTwo.endCursor);
    expect(rest.items.map((t) => t.id)).toEqual(order.slice(2));
    expect(rest.totalCount).toBe(5);

    // [2, 5): the turn ending exactly at 2 and the one starting at 5 are out.
    const ranged = await fx.store.turnsOfMeeting(meeting.id, { from: 2, to: 5 });
    expect(ranged.items.map((t) => t.id)).toEqual(order.slice(1, 4));
    expect(ranged.totalCount).toBe(3);
    expect((await fx.store.turnsOfMeeting(meeting.id, { from: 2.6 })).items.map((t) => t.id)).toEqual([order[1], order[3], order[4]]);
    expect((await fx.store.turnsOfMeeting(meeting.id, { to: 0.5 })).items.map((t) => t.id)).toEqual([order[0]]);
    expect((await fx.store.turnsOfMeeting('no-such-meeting')).totalCount).toBe(0);
  });

  it('edits turns in one transaction: delete, reassign, move, insert', async () => {
    const { meeting, speakers } = await diarized(6);
    const [a, b] = speakers.map((s) => s.id);
    const c = speaker(meeting.id, 'SPEAKER_02', 3);
    await fx.store.insertSpeaker(c);
    const before = (await fx.store.turnsOfMeeting(meeting.id)).items;

    await fx.store.editTurns(meeting.id, {
      deleteIds: [before[0].id],
      insert: [
        { meetingId: meeting.id, speakerId: c.id, startSec: 0, endSec: 0.75 },
        { meetingId: meeting.id, speakerId: a, startSec: 0.75, endSec: 1.5 },
      ],
      reassign: { fromSpeakerId: b, toSpeakerId: a },
      move: { turnId: before[2].id, toSpeakerId: c.id },
    });
    const after = (await fx.store.turnsOfMeeting(meeting.id)).items;
    expect(after).toHaveLength(7);
    expect(after.map((t) => [t.startSec, t.speakerId])).toEqual([
      [0, c.id],
      [0.75, a],
      [1.75, a],
      [3.5, c.id],
      [5.25, a],
      [7, a],
      [8.75, a],
    ]);
    // With no turns left, speaker b can go.
    await fx.store.deleteSpeaker(b);
    expect(await fx.store.getSpeaker(b)).toBeUndefined();
  });

  it('rolls an edit back entirely when one part fails', async () => {
    const { meeting, speakers } = await diarized(4);
    const before = await fx.store.turnsOfMeeting(meeting.id);
    const missing = await rejection(
      fx.store.editTurns(meeting.id, { deleteIds: [before.items[0].id], move: { turnId: 'no-such-turn', toSpeakerId: speakers[0].id } }),
    );
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toContain('no-such-turn');
    expect(await fx.store.turnsOfMeeting(meeting.id)).toEqual(before);

    // A speaker of another meeting is not a valid target.
    const other = await diarized(1);
    const foreign = await rejection(
      fx.store.editTurns(meeting.id, { deleteIds: [before.items[0].id], reassign: { fromSpeakerId: speakers[0].id, toSpeakerId: other.speakers[0].id } }),
    );
    expect(foreign.code).toBe('NOT_FOUND');
    expect(await fx.store.turnsOfMeeting(meeting.id)).toEqual(before);
    expect((await rejection(fx.store.editTurns('no-such-meeting', {}))).code).toBe('NOT_FOUND');
  });

  it('refuses to delete a speaker that still has turns', async () => {
    const { speakers } = await diarized(2);
    const error = await rejection(fx.store.deleteSpeaker(speakers[0].id));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toContain('still has turns');
    expect(await fx.store.getSpeaker(speakers[0].id)).toBeDefined();
  });

  it('updates and clears speaker fields, and finds speakers by person and model', async () => {
    const person = await newPerson('Ana Lima');
    const { meeting, speakers } = await diarized(2);
    const other = speaker(meeting.id, 'SPEAKER_09', 4, { modelHash: `hash-${randomUUID()}`, personId: person.id, personSource: 'auto', matchScore: 0.71 });
    await fx.store.insertSpeaker(other);
    await fx.store.updateSpeaker(speakers[0].id, {
      displayName: 'Ana',
      personId: person.id,
      personSource: 'manual',
      matchScore: 0.83,
      talkTimeSec: 42.5,
      centroid: vector(77),
    });
    const updated = await fx.store.getSpeaker(speakers[0].id);
    expect(updated).toMatchObject({ displayName: 'Ana', personId: person.id, personSource: 'manual', matchScore: 0.83, talkTimeSec: 42.5 });
    expect(updated?.centroid).toEqual(vector(77));
    expect((await fx.store.speakersOfPerson(person.id)).map((s) => s.id).sort()).toEqual([speakers[0].id, other.id].sort());

    await fx.store.updateSpeaker(speakers[0].id, { displayName: null, matchScore: null });
    const cleared = await fx.store.getSpeaker(speakers[0].id);
    expect(cleared?.displayName).toBeUndefined();
    expect(cleared?.matchScore).toBeUndefined();
    expect(cleared?.personId).toBe(person.id);
    await fx.store.updateSpeaker(speakers[0].id, {});

    expect((await fx.store.speakersOfModel(other.modelHash)).map((s) => s.id)).toEqual([other.id]);
    const everyone = await fx.store.countSpeakersNotOfModel(`other-${randomUUID()}`);
    expect(everyone).toBeGreaterThanOrEqual(3);
    expect(await fx.store.countSpeakersNotOfModel(other.modelHash)).toBe(everyone - 1);

    expect((await rejection(fx.store.updateSpeaker(speakers[1].id, { personId: 'no-such-person' }))).code).toBe('NOT_FOUND');
    expect((await rejection(fx.store.insertSpeaker(speaker('no-such-meeting', 'SPEAKER_00', 1)))).code).toBe('NOT_FOUND');
    expect((await rejection(fx.store.insertSpeaker(other))).code).toBe('CONFLICT');
  });
});
