import { randomUUID } from 'node:crypto';

import { describeStore, rejection, inCreationOrder, vector } from '../store-spec-support';

describeStore('person repository', (fx) => {
  const { newUpload, diarized, newPerson } = fx;

  // ---- people and enrollments

  it('round-trips people and pages them by name', async () => {
    const prefix = `p${randomUUID().slice(0, 8)}`;
    const names = ['Carla', 'bruno', 'Ana', 'ana', 'Émile'];
    const people = [];
    for (const name of names) people.push(await newPerson(`${prefix} ${name}`, `${prefix}-${name}`));
    expect(people[0]).toMatchObject({ name: `${prefix} Carla`, externalId: `${prefix}-Carla`, metadata: { team: 'support', level: 2 } });
    expect(await fx.store.getPerson(people[0].id)).toEqual(people[0]);
    expect(await fx.store.getPerson('no-such-person')).toBeUndefined();
    expect(await fx.store.getPeople([people[2].id, 'nope', people[0].id])).toEqual([people[2], people[0]]);

    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 5; i++) {
      const page = await fx.store.listPeople({ text: prefix.toUpperCase() }, 2, after);
      expect(page.totalCount).toBe(5);
      seen.push(...page.items.map((p) => p.id));
      if (!page.hasNextPage) break;
      after = page.endCursor;
    }
    const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
    const expected = [...people].sort((x, y) => cmp(x.name.toLowerCase(), y.name.toLowerCase()) || cmp(x.id, y.id)).map((p) => p.id);
    expect(seen).toEqual(expected);
    expect((await fx.store.listPeople({ text: `${prefix}-bruno` }, 10)).items.map((p) => p.id)).toEqual([people[1].id]);
    expect((await fx.store.listPeople({ text: `${prefix}-BRUNO` }, 10)).totalCount).toBe(0);

    await fx.store.updatePerson(people[0].id, { name: 'Zoe', externalId: 'crm-9', metadata: { vip: true } });
    expect(await fx.store.getPerson(people[0].id)).toMatchObject({ name: 'Zoe', externalId: 'crm-9', metadata: { vip: true } });
    expect((await rejection(fx.store.insertPerson({ id: people[1].id, name: 'dup', metadata: {} }))).code).toBe('CONFLICT');
  });

  it('round-trips enrollments with exact embeddings and lists them by person and model', async () => {
    const person = await newPerson('Lee');
    const uploadId = await newUpload();
    const model = `hash-${randomUUID()}`;
    const first = await fx.store.insertEnrollment({
      id: randomUUID(),
      personId: person.id,
      source: 'clip',
      uploadId,
      speechSec: 8.5,
      embedding: vector(3),
      modelName: 'ecapa',
      modelHash: model,
    });
    const second = await fx.store.insertEnrollment({
      id: randomUUID(),
      personId: person.id,
      source: 'clip',
      speechSec: 4,
      embedding: vector(4),
      modelName: 'ecapa',
      modelHash: 'hash-a',
    });
    expect(first).toMatchObject({ personId: person.id, source: 'clip', uploadId, speechSec: 8.5, modelName: 'ecapa', modelHash: model });
    expect(first.embedding).toEqual(vector(3));
    expect(await fx.store.getEnrollment(first.id)).toEqual(first);
    expect(await fx.store.getEnrollment('no-such-enrollment')).toBeUndefined();
    expect((await fx.store.enrollmentsOfPerson(person.id)).map((e) => e.id)).toEqual(inCreationOrder([first, second]));
    expect(await fx.store.enrollmentsOfModel(model)).toEqual([first]);
    const notOfModel = await fx.store.countEnrollmentsNotOfModel(model);
    expect(notOfModel).toBeGreaterThanOrEqual(1);
    expect(await fx.store.countEnrollmentsNotOfModel(`other-${randomUUID()}`)).toBe(notOfModel + 1);

    expect(await fx.store.deleteEnrollment(second.id)).toEqual(second);
    expect(await fx.store.deleteEnrollment(second.id)).toBeUndefined();
    expect(await fx.store.enrollmentsOfPerson(person.id)).toEqual([first]);
    const unknown = await rejection(fx.store.insertEnrollment({ ...first, id: randomUUID(), personId: 'no-such-person' }));
    expect(unknown.code).toBe('NOT_FOUND');
  });

  it('deletes a person with every enrollment and unassigns their speakers', async () => {
    const person = await newPerson('Withdrawn Consent');
    const keep = await newPerson('Someone Else');
    const { meeting, speakers } = await diarized(2);
    await fx.store.updateSpeaker(speakers[0].id, { personId: person.id, personSource: 'auto', matchScore: 0.9, displayName: 'W.' });
    await fx.store.updateSpeaker(speakers[1].id, { personId: keep.id, personSource: 'manual' });
    const enrollment = await fx.store.insertEnrollment({
      id: randomUUID(),
      personId: person.id,
      source: 'speaker',
      meetingSpeakerId: speakers[0].id,
      speechSec: 3,
      embedding: vector(5),
      modelName: 'ecapa',
      modelHash: 'hash-a',
    });

    const deleted = await fx.store.deletePerson(person.id);
    expect(deleted).toEqual(person);
    expect(await fx.store.getPerson(person.id)).toBeUndefined();
    expect(await fx.store.getEnrollment(enrollment.id)).toBeUndefined();
    expect(await fx.store.enrollmentsOfPerson(person.id)).toEqual([]);
    const unassigned = await fx.store.getSpeaker(speakers[0].id);
    expect(unassigned?.personId).toBeUndefined();
    expect(unassigned?.personSource).toBeUndefined();
    expect(unassigned?.matchScore).toBeUndefined();
    expect((await fx.store.getSpeaker(speakers[1].id))?.personId).toBe(keep.id);
    expect(await fx.store.meetingIds({ personId: person.id })).toEqual([]);
    expect(await fx.store.meetingIds({ personId: keep.id })).toEqual([meeting.id]);
    expect(await fx.store.deletePerson(person.id)).toBeUndefined();
  });
});
