import { randomUUID } from 'node:crypto';

import type { MeetingOrder, MeetingRecord } from '../types';
import { describeStore, rejection, vector } from '../store-spec-support';

describeStore('meeting repository', (fx) => {
  const { newUpload, newMeeting, diarized, newPerson } = fx;

  // ---- uploads

  it('round-trips uploads (sizes beyond 32 bits) and deletes them', async () => {
    const upload = {
      id: randomUUID(),
      originalName: 'big.wav',
      path: 'uploads/big.wav',
      bytes: 3_000_000_123,
      format: 'wav',
      durationSec: 3600.25,
      createdAt: '2025-03-01T10:00:00.000Z',
    };
    await fx.store.insertUpload(upload);
    expect(await fx.store.getUpload(upload.id)).toEqual(upload);
    expect((await rejection(fx.store.insertUpload(upload))).code).toBe('CONFLICT');
    await fx.store.deleteUpload(upload.id);
    expect(await fx.store.getUpload(upload.id)).toBeUndefined();
  });

  it('refuses to delete an upload a meeting uses, and to back two meetings with one upload', async () => {
    const meeting = await newMeeting();
    const inUse = await rejection(fx.store.deleteUpload(meeting.uploadId));
    expect(inUse.code).toBe('CONFLICT');
    expect(inUse.message).toContain('delete the meeting first');
    const second = await rejection(
      fx.store.insertMeeting({ id: randomUUID(), title: 'Again', tags: [], uploadId: meeting.uploadId, audioPath: 'x', durationSec: 1 }),
    );
    expect(second.code).toBe('CONFLICT');
    expect(await fx.store.getUpload(meeting.uploadId)).toBeDefined();
  });

  it('finds old uploads that no meeting or enrollment uses, and deletes one only while still unused', async () => {
    // Created in 2000: no other test's rows are that old.
    const old = '2000-01-01T00:00:00.000Z';
    const insert = async (createdAt: string) => {
      const id = randomUUID();
      await fx.store.insertUpload({ id, originalName: 'a.wav', path: `uploads/${id}/a.wav`, bytes: 1, format: 'wav', durationSec: 1, createdAt });
      return id;
    };
    const orphan = await insert(old);
    const forMeeting = await insert(old);
    const forEnrollment = await insert(old);
    const recent = await insert('2000-06-01T00:00:00.000Z');
    await fx.store.insertMeeting({ id: randomUUID(), title: 'Kept', tags: [], uploadId: forMeeting, audioPath: 'x', durationSec: 1 });
    const person = await newPerson('Clip owner');
    await fx.store.insertEnrollment({
      id: randomUUID(),
      personId: person.id,
      source: 'clip',
      uploadId: forEnrollment,
      speechSec: 3,
      embedding: vector(1),
      modelName: 'm',
      modelHash: 'h',
    });

    const found = (await fx.store.unreferencedUploads('2000-01-02T00:00:00.000Z', 100)).map((u) => u.id);
    expect(found).toEqual([orphan]);
    expect(await fx.store.existingUploadIds([orphan, recent, 'no-such-upload'])).toEqual(new Set([orphan, recent]));
    expect(await fx.store.deleteUploadIfUnreferenced(forMeeting)).toBe(false);
    expect(await fx.store.deleteUploadIfUnreferenced(forEnrollment)).toBe(false);
    expect(await fx.store.getUpload(forEnrollment)).toBeDefined();
    expect(await fx.store.deleteUploadIfUnreferenced(orphan)).toBe(true);
    expect(await fx.store.getUpload(orphan)).toBeUndefined();
  });

  // ---- meetings

  it('round-trips meetings, updates them and answers undefined for unknown ids', async () => {
    const uploadId = await newUpload();
    const created = await fx.store.insertMeeting({
      id: randomUUID(),
      title: 'Quarterly Review',
      tags: ['sales', 'emea', 'sales'],
      uploadId,
      audioPath: 'uploads/q.mp3',
      playablePath: 'media/q.webm',
      durationSec: 1800.5,
      numSpeakers: 3,
      minSpeakers: 2,
      maxSpeakers: 4,
    });
    expect(created).toMatchObject({
      title: 'Quarterly Review',
      tags: ['sales', 'emea'],
      playablePath: 'media/q.webm',
      numSpeakers: 3,
      minSpeakers: 2,
      maxSpeakers: 4,
    });
    expect(created.latestJobId).toBeUndefined();
    expect(created.peaksPath).toBeUndefined();
    expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);
    expect(await fx.store.getMeeting(created.id)).toEqual(created);
    expect(await fx.store.meetingOfUpload(uploadId)).toEqual(created);
    expect(await fx.store.meetingOfUpload('no-such-upload')).toBeUndefined();

    const job = await fx.store.insertJob({ id: randomUUID(), kind: 'diarize', meetingId: created.id });
    await fx.store.updateMeeting(created.id, { title: 'Q3 Review', tags: ['apac'], peaksPath: 'media/q.peaks', latestJobId: job.id, durationSec: 1799 });
    const updated = await fx.store.getMeeting(created.id);
    expect(updated).toMatchObject({
      title: 'Q3 Review',
      tags: ['apac'],
      peaksPath: 'media/q.peaks',
      playablePath: 'media/q.webm',
      latestJobId: job.id,
      durationSec: 1799,
      numSpeakers: 3,
    });
    expect(updated!.updatedAt >= created.updatedAt).toBe(true);
    // The tag index follows the update.
    expect((await fx.store.meetingIds({ tag: 'apac', ids: [created.id] })).length).toBe(1);
    expect((await fx.store.meetingIds({ tag: 'sales', ids: [created.id] })).length).toBe(0);

    expect(await fx.store.getMeeting('no-such-meeting')).toBeUndefined();
    await expect(fx.store.updateMeeting('no-such-meeting', { title: 'x' })).resolves.toBeUndefined();
    expect(await fx.store.getMeetings(['no-such-meeting', created.id, created.id])).toEqual([updated]);
    expect(await fx.store.getMeetings([])).toEqual([]);
  });

  it('refuses a meeting on an unknown upload with NOT_FOUND', async () => {
    const error = await rejection(
      fx.store.insertMeeting({ id: randomUUID(), title: 'x', tags: [], uploadId: 'no-such-upload', audioPath: 'x', durationSec: 1 }),
    );
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain('no-such-upload');
  });

  it('lists every distinct tag, sorted', async () => {
    const tag = `t-${randomUUID()}`;
    await newMeeting({ tags: [tag, `${tag}-b`] });
    await newMeeting({ tags: [tag] });
    const tags = await fx.store.allTags();
    expect(tags.filter((t) => t.startsWith(tag))).toEqual([tag, `${tag}-b`]);
    expect([...tags].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(tags);
  });

  describe('meeting pages', () => {
    let scope: string;
    let all: MeetingRecord[];

    beforeAll(async () => {
      scope = `page-${randomUUID()}`;
      // Ties on duration and (case-folded) title; creation instants may tie as well.
      const specs = [
        { title: 'beta', durationSec: 30 },
        { title: 'Alpha', durationSec: 10 },
        { title: 'alpha', durationSec: 30 },
        { title: 'Éclair', durationSec: 20 },
        { title: 'gamma', durationSec: 30 },
        { title: 'Beta', durationSec: 10 },
        { title: 'delta', durationSec: 20 },
      ];
      all = [];
      for (const spec of specs) all.push(await newMeeting({ ...spec, tags: [scope] }));
    });

    const key = (m: MeetingRecord, field: MeetingOrder['field']): string | number =>
      field === 'title' ? m.title.toLowerCase() : field === 'durationSec' ? m.durationSec : m.createdAt;

    function expected(order: MeetingOrder): string[] {
      const sign = order.direction === 'ASC' ? 1 : -1;
      const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
      return [...all].sort((a, b) => sign * (cmp(key(a, order.field), key(b, order.field)) || cmp(a.id, b.id))).map((m) => m.id);
    }

    const orders: MeetingOrder[] = (['createdAt', 'title', 'durationSec'] as const).flatMap((field) =>
      (['ASC', 'DESC'] as const).map((direction) => ({ field, direction })),
    );

    it.each(orders)('pages by $field $direction with a stable tie-break', async (order) => {
      const seen: string[] = [];
      let after: string | undefined;
      const flags: boolean[] = [];
      for (let guard = 0; guard < 10; guard++) {
        const page = await fx.store.listMeetings({ tag: scope }, order, 3, after);
        expect(page.totalCount).toBe(7);
        seen.push(...page.items.map((m) => m.id));
        flags.push(page.hasNextPage);
        if (!page.hasNextPage) break;
        after = page.endCursor;
      }
      expect(flags).toEqual([true, true, false]);
      expect(seen).toEqual(expected(order));
    });

    it('answers an empty page after the last item and a count-only page for first: 0', async () => {
      const order: MeetingOrder = { field: 'createdAt', direction: 'ASC' };
      const whole = await fx.store.listMeetings({ tag: scope }, order, 100);
      expect(whole.items).toHaveLength(7);
      expect(whole.hasNextPage).toBe(false);
      const past = await fx.store.listMeetings({ tag: scope }, order, 3, whole.endCursor);
      expect(past).toEqual({ items: [], endCursor: undefined, hasNextPage: false, totalCount: 7 });
      const none = await fx.store.listMeetings({ tag: scope }, order, 0);
      expect(none).toEqual({ items: [], endCursor: undefined, hasNextPage: true, totalCount: 7 });
    });

    it('filters by title text case-insensitively, with LIKE wildcards taken literally', async () => {
      const order: MeetingOrder = { field: 'title', direction: 'ASC' };
      const alpha = await fx.store.listMeetings({ tag: scope, text: 'ALPH' }, order, 10);
      expect(alpha.items.map((m) => m.title)).toEqual(expect.arrayContaining(['Alpha', 'alpha']));
      expect(alpha.totalCount).toBe(2);
      expect((await fx.store.listMeetings({ tag: scope, text: 'éCLAIR' }, order, 10)).items.map((m) => m.title)).toEqual(['Éclair']);
      expect((await fx.store.listMeetings({ tag: scope, text: 'a%' }, order, 10)).totalCount).toBe(0);
      expect((await fx.store.listMeetings({ tag: scope, text: '_' }, order, 10)).totalCount).toBe(0);
    });

    it('filters by exact tag, ids and creation range', async () => {
      const order: MeetingOrder = { field: 'createdAt', direction: 'ASC' };
      expect((await fx.store.listMeetings({ tag: scope.slice(0, -1) }, order, 10)).totalCount).toBe(0);
      const ids = [all[1].id, all[4].id, 'no-such-meeting'];
      expect((await fx.store.listMeetings({ tag: scope, ids }, order, 10)).items.map((m) => m.id).sort()).toEqual([all[1].id, all[4].id].sort());
      expect((await fx.store.listMeetings({ tag: scope, ids: [] }, order, 10)).totalCount).toBe(0);

      const sorted = [...all].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
      const from = sorted[2].createdAt;
      const to = sorted[5].createdAt;
      const inRange = all
        .filter((m) => m.createdAt >= from && m.createdAt < to)
        .map((m) => m.id)
        .sort();
      const page = await fx.store.listMeetings({ tag: scope, createdFrom: from, createdTo: to }, order, 10);
      expect(page.items.map((m) => m.id).sort()).toEqual(inRange);
      expect((await fx.store.meetingIds({ tag: scope, createdFrom: from, createdTo: to })).sort()).toEqual(inRange);
      expect((await fx.store.meetingIds({ tag: scope, createdFrom: '2000-01-01' })).length).toBe(7);
    });

    it('refuses bad dates, cursors and page sizes with INVALID_ARGUMENT', async () => {
      const order: MeetingOrder = { field: 'createdAt', direction: 'ASC' };
      const date = await rejection(fx.store.listMeetings({ createdFrom: 'yesterday' }, order, 10));
      expect(date.code).toBe('INVALID_ARGUMENT');
      expect(date.message).toContain('createdFrom "yesterday"');
      const first = await fx.store.listMeetings({ tag: scope }, { field: 'title', direction: 'ASC' }, 2);
      const foreign = await rejection(fx.store.listMeetings({ tag: scope }, order, 2, first.endCursor));
      expect(foreign.code).toBe('INVALID_ARGUMENT');
      expect((await rejection(fx.store.listMeetings({}, order, 2, 'garbage'))).code).toBe('INVALID_ARGUMENT');
      expect((await rejection(fx.store.listMeetings({}, order, -1))).code).toBe('INVALID_ARGUMENT');
    });
  });

  it('filters meetings by person through their assigned speakers', async () => {
    const person = await newPerson('Dana Reyes');
    const { meeting, speakers } = await diarized();
    await newMeeting();
    await fx.store.updateSpeaker(speakers[1].id, { personId: person.id, personSource: 'manual' });
    const page = await fx.store.listMeetings({ personId: person.id }, { field: 'createdAt', direction: 'DESC' }, 10);
    expect(page.items.map((m) => m.id)).toEqual([meeting.id]);
    expect(page.totalCount).toBe(1);
    expect(await fx.store.meetingIds({ personId: person.id })).toEqual([meeting.id]);
  });

  it('deletes a meeting with its jobs, tags, speakers and turns; enrollments keep their voice', async () => {
    const tag = `del-${randomUUID()}`;
    const { speakers } = await diarized();
    const meetingId = speakers[0].meetingId;
    await fx.store.updateMeeting(meetingId, { tags: [tag] });
    const job = await fx.store.insertJob({ id: randomUUID(), kind: 'diarize', meetingId });
    const person = await newPerson('Kim');
    const enrollment = await fx.store.insertEnrollment({
      id: randomUUID(),
      personId: person.id,
      source: 'speaker',
      meetingSpeakerId: speakers[0].id,
      speechSec: 12,
      embedding: vector(9),
      modelName: 'ecapa',
      modelHash: 'hash-a',
    });
    const someTurn = (await fx.store.turnsOfMeeting(meetingId)).items[0];

    const deleted = await fx.store.deleteMeeting(meetingId);
    expect(deleted?.id).toBe(meetingId);
    expect(deleted?.tags).toEqual([tag]);
    expect(await fx.store.getMeeting(meetingId)).toBeUndefined();
    expect(await fx.store.getJob(job.id)).toBeUndefined();
    expect(await fx.store.jobsOfMeeting(meetingId)).toEqual([]);
    expect(await fx.store.speakersOfMeeting(meetingId)).toEqual([]);
    expect(await fx.store.countTurns(meetingId)).toBe(0);
    expect(await fx.store.getTurn(someTurn.id)).toBeUndefined();
    expect(await fx.store.allTags()).not.toContain(tag);
    const kept = await fx.store.getEnrollment(enrollment.id);
    expect(kept?.meetingSpeakerId).toBeUndefined();
    expect(kept?.embedding).toEqual(vector(9));
    expect(await fx.store.deleteMeeting(meetingId)).toBeUndefined();
  });
});
