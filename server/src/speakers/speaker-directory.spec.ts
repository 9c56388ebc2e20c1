import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { AppError } from '../common/errors';
import { manifestPath } from '../models/manifest';
import { axis, MemorySpeakerStore, unitAt } from './memory-store.fixture';
import { calibratedThreshold, DEFAULT_IDENTIFY_THRESHOLD_COSINE, SpeakerDirectory } from './speaker-directory';

const MODEL = { name: 'test-model', hash: 'hash-a' };

describe('SpeakerDirectory', () => {
  let dataDir: string;
  let db: MemorySpeakerStore;
  const open = (thresholdCosine = 0.75): Promise<SpeakerDirectory> => SpeakerDirectory.open({ store: db.asStore(), dataDir, model: MODEL, thresholdCosine });
  const clip = { source: 'clip' as const, speechSec: 10 };

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'speaker-directory-'));
    db = new MemorySpeakerStore();
    db.addPerson('P');
    db.addPerson('Q');
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('matches speakers to the nearest enrolled person above the threshold, others stay anonymous', async () => {
    const dir = await open();
    await dir.enrollEmbedding('P', unitAt(0), clip);
    await dir.enrollEmbedding('Q', unitAt(90), clip);
    db.addSpeaker({ id: 's1', meetingId: 'm', centroid: unitAt(10) }); // cos 0.985 to P
    db.addSpeaker({ id: 's2', meetingId: 'm', centroid: unitAt(80) }); // cos 0.985 to Q
    db.addSpeaker({ id: 's3', meetingId: 'm', centroid: axis(2) }); // orthogonal to both
    const decisions = await dir.identifyMeeting('m');
    expect(decisions.map((d) => [d.speakerId, d.personId])).toEqual([
      ['s1', 'P'],
      ['s2', 'Q'],
      ['s3', null],
    ]);
    expect(decisions[0].matchScore).toBeCloseTo(Math.cos((10 * Math.PI) / 180), 6);
    expect(db.speakers.get('s1')).toMatchObject({ personId: 'P', personSource: 'auto' });
    expect(db.speakers.get('s3')!.personId).toBeUndefined();
  });

  it('scores a person by the mean of their enrollments, not the best single one', async () => {
    const dir = await open();
    // Two clips 90° apart: each is at cos 0.707 from the speaker (< 0.75), their mean is at cos 1.
    await dir.enrollEmbedding('P', unitAt(0), clip);
    await dir.enrollEmbedding('P', unitAt(90), clip);
    const [d] = await dir.identify([db.addSpeaker({ id: 's', meetingId: 'm', centroid: unitAt(45) })]);
    expect(d.personId).toBe('P');
    expect(d.matchScore).toBeCloseTo(1, 6);
  });

  it('gives a person to one speaker of a meeting only: the most similar', async () => {
    const dir = await open();
    await dir.enrollEmbedding('P', unitAt(0), clip);
    const speakers = [
      db.addSpeaker({ id: 'near', meetingId: 'm', centroid: unitAt(5) }),
      db.addSpeaker({ id: 'nearer', meetingId: 'm', centroid: unitAt(-2) }),
    ];
    const decisions = await dir.identify(speakers);
    expect(decisions.map((d) => [d.speakerId, d.personId])).toEqual([
      ['near', null],
      ['nearer', 'P'],
    ]);
  });

  it('never changes a manual assignment, and does not give that person to another speaker', async () => {
    const dir = await open();
    await dir.enrollEmbedding('P', unitAt(0), clip);
    db.addSpeaker({ id: 'manual', meetingId: 'm', centroid: axis(3), personId: 'P', personSource: 'manual' });
    db.addSpeaker({ id: 'auto', meetingId: 'm', centroid: unitAt(1) });
    const decisions = await dir.identifyMeeting('m');
    expect(decisions).toEqual([{ speakerId: 'auto', personId: null, matchScore: null, personSource: null }]);
    expect(db.speakers.get('manual')).toMatchObject({ personId: 'P', personSource: 'manual' });
  });

  it('clears an automatic match that no longer holds after the enrollment is removed', async () => {
    const dir = await open();
    const e = await dir.enrollEmbedding('P', unitAt(0), clip);
    db.addSpeaker({ id: 's', meetingId: 'm', centroid: unitAt(3) });
    await dir.identifyMeeting('m');
    expect(db.speakers.get('s')!.personId).toBe('P');
    await dir.removeEnrollment(e.id);
    await dir.identifyMeeting('m');
    expect(db.speakers.get('s')).toMatchObject({ personId: undefined, matchScore: undefined, personSource: undefined });
  });

  it('refuses matching while stored embeddings come from another model', async () => {
    const dir = await open();
    db.addSpeaker({ id: 'old', meetingId: 'm0', centroid: axis(0), modelHash: 'hash-old' });
    await expect(dir.identify([])).rejects.toMatchObject({ code: 'MODEL_SWITCH_PENDING' });
    await expect(dir.assertModelUsable()).rejects.toThrow(/0 enrollment\(s\) and 1 meeting speaker\(s\).*reprocessing batch/);
    db.speakers.delete('old');
    await expect(dir.assertModelUsable()).resolves.toBeUndefined();
  });

  it('removes a person with every embedding: database rows, index entries, vector bytes on disk, other models’ indexes', async () => {
    const dir = await open();
    const secret = unitAt(33.3);
    await dir.enrollEmbedding('P', secret, clip);
    await dir.enrollEmbedding('P', unitAt(20), clip);
    await dir.enrollEmbedding('Q', axis(2), clip);
    const otherModelDir = path.join(dataDir, 'index', 'hash-old');
    mkdirSync(otherModelDir, { recursive: true });
    const graph = path.join(dataDir, 'index', MODEL.hash, 'enrollments.hnsw');
    const bytes = Buffer.from(secret.buffer);
    expect(readFileSync(graph).includes(bytes)).toBe(true);

    await dir.removePerson('P');
    expect([...db.enrollments.values()].map((e) => e.personId)).toEqual(['Q']);
    expect(readFileSync(graph).includes(bytes)).toBe(false);
    expect(existsSync(otherModelDir)).toBe(false);
    const [d] = await dir.identify([db.addSpeaker({ id: 's', meetingId: 'm', centroid: secret })]);
    expect(d.personId).toBeNull();
    await expect(dir.removePerson('P')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('validates enrollments: unknown person, wrong size, zero vector', async () => {
    const dir = await open();
    await expect(dir.enrollEmbedding('nobody', axis(0), clip)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await dir.enrollEmbedding('P', axis(0), clip);
    await expect(dir.enrollEmbedding('P', new Float32Array(8).fill(1), clip)).rejects.toThrow(/8 dimensions; test-model makes 4/);
    await expect(dir.enrollEmbedding('P', new Float32Array(4), clip)).rejects.toThrow(AppError);
    expect(db.enrollments.size).toBe(1);
    await expect(dir.removeEnrollment('missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('finds the meetings where a voice appears, and forgets a removed meeting', async () => {
    const dir = await open(0.5);
    db.addSpeaker({ id: 'a1', meetingId: 'A', centroid: unitAt(0) });
    db.addSpeaker({ id: 'a2', meetingId: 'A', centroid: axis(2) });
    db.addSpeaker({ id: 'b1', meetingId: 'B', centroid: unitAt(15) });
    db.addSpeaker({ id: 'old', meetingId: 'B', centroid: unitAt(5), modelHash: 'hash-old' }); // other model: not indexed
    await dir.indexMeetingSpeakers('A');
    await dir.indexMeetingSpeakers('B');
    const hits = dir.findSpeaker(unitAt(10), { k: 5 });
    expect(hits.map((h) => [h.meetingId, h.speakerId])).toEqual([
      ['B', 'b1'],
      ['A', 'a1'],
    ]);
    expect(hits[0].similarity).toBeCloseTo(Math.cos((5 * Math.PI) / 180), 6);

    // Re-diarized: a1 is gone, a3 is new.
    db.speakers.delete('a1');
    db.addSpeaker({ id: 'a3', meetingId: 'A', centroid: unitAt(12) });
    await dir.indexMeetingSpeakers('A');
    expect(dir.findSpeaker(unitAt(10)).map((h) => h.speakerId)).toEqual(['a3', 'b1']);
    expect(dir.removeMeeting('B')).toBe(1);
    expect(dir.findSpeaker(unitAt(10)).map((h) => h.speakerId)).toEqual(['a3']);
  });

  it('reopens from its files, and rebuilds from the database when they are gone', async () => {
    const first = await open();
    await first.enrollEmbedding('P', unitAt(0), clip);
    const lines: string[] = [];
    const again = await SpeakerDirectory.open({ store: db.asStore(), dataDir, model: MODEL, thresholdCosine: 0.75, log: (l) => lines.push(l) });
    expect(lines).toEqual([]);
    rmSync(path.join(dataDir, 'index'), { recursive: true });
    const rebuilt = await SpeakerDirectory.open({ store: db.asStore(), dataDir, model: MODEL, thresholdCosine: 0.75, log: (l) => lines.push(l) });
    expect(lines[0]).toMatch(/rebuilt enrollments and speakers from the database/);
    for (const dir of [again, rebuilt]) {
      const [d] = await dir.identify([db.addSpeaker({ id: 's', meetingId: 'm', centroid: unitAt(1) })]);
      expect(d.personId).toBe('P');
    }
  });

  it('takes the threshold from the manifest, else the configured fallback', async () => {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { embedding: Record<string, { identifyThresholdCosine?: number }> };
    const written = manifest.embedding['ge2e-resemblyzer-fbank80'].identifyThresholdCosine;
    expect(written).toBeGreaterThan(0.5); // `npm run calibrate:threshold` wrote it
    expect(calibratedThreshold('ge2e-resemblyzer-fbank80')).toBe(written);
    const calibrated = await SpeakerDirectory.open({ store: db.asStore(), dataDir, model: { name: 'ge2e-resemblyzer-fbank80', hash: 'h' } });
    expect(calibrated.thresholdCosine).toBe(calibratedThreshold('ge2e-resemblyzer-fbank80'));
    const fallback = await SpeakerDirectory.open({ store: db.asStore(), dataDir, model: MODEL, fallbackThresholdCosine: 0.6 });
    expect(fallback.thresholdCosine).toBe(0.6);
    expect((await SpeakerDirectory.open({ store: db.asStore(), dataDir, model: MODEL })).thresholdCosine).toBe(DEFAULT_IDENTIFY_THRESHOLD_COSINE);
    await expect(SpeakerDirectory.open({ store: db.asStore(), dataDir, model: { name: 'x', hash: '../escape' } })).rejects.toThrow(
      /cannot name an index folder/,
    );
  });
});
