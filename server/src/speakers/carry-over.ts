/**
 * After a meeting is diarized again, the work people did on its old speakers (a name, a person chosen by
 * hand) moves to the new speakers with the same voice. Old and new speakers are paired one-to-one by
 * the Hungarian algorithm on centroid cosine similarity; a pair below `minSimilarity` is no match.
 * Centroids of two different embedding models cannot be compared: then, when the turns are given, the
 * pairing runs on shared speaking time instead (seconds both talk / seconds either talks).
 */
import { munkres } from 'munkres';

import { cosine } from '../vectors/math';
import { intersectionLength, mergeIntervals, totalLength, type AnalyticsTurn } from '../analytics/meeting-stats';
import type { MeetingSpeakerRecord } from '../store/types';

export type CarrySpeaker = Pick<MeetingSpeakerRecord, 'id' | 'label' | 'displayName' | 'personId' | 'personSource' | 'centroid' | 'modelHash'>;

/** A patch for Store.updateSpeaker on a new speaker. */
export interface CarryPatch {
  speakerId: string;
  /** From the old speaker it matched. */
  fromSpeakerId: string;
  similarity: number;
  displayName?: string;
  personId?: string;
  personSource?: 'manual';
}

export interface NotCarried {
  oldSpeakerId: string;
  /** A sentence for the batch notes. */
  message: string;
}

export interface CarryOverResult {
  patches: CarryPatch[];
  notCarried: NotCarried[];
  /** How speakers were compared. */
  by: 'centroid' | 'time-overlap';
}

export interface CarryOverOptions {
  /** Lowest centroid cosine (or time overlap) of a match. Default 0.5. */
  minSimilarity?: number;
  /** Turns of the old and the new run: the comparison when the two runs used different embedding models. */
  oldTurns?: readonly AnalyticsTurn[];
  newTurns?: readonly AnalyticsTurn[];
}

/** Old speakers carrying manual work: a name or a person set by hand. */
export function hasManualWork(s: CarrySpeaker): boolean {
  return Boolean(s.displayName) || (s.personSource === 'manual' && Boolean(s.personId));
}

export function carryOver(oldSpeakers: readonly CarrySpeaker[], newSpeakers: readonly CarrySpeaker[], options: CarryOverOptions = {}): CarryOverResult {
  const minSimilarity = options.minSimilarity ?? 0.5;
  const worked = oldSpeakers.filter(hasManualWork);
  const sameModel = worked.every((o) => newSpeakers.every((n) => n.modelHash === o.modelHash && n.centroid.length === o.centroid.length));
  const by = sameModel ? 'centroid' : 'time-overlap';
  const result: CarryOverResult = { patches: [], notCarried: [], by };
  if (worked.length === 0) return result;
  if (newSpeakers.length === 0) {
    result.notCarried = worked.map((o) => ({ oldSpeakerId: o.id, message: `${describe(o)} was not carried over: the new run found no speakers.` }));
    return result;
  }
  if (!sameModel && (!options.oldTurns || !options.newTurns)) {
    result.notCarried = worked.map((o) => ({
      oldSpeakerId: o.id,
      message: `${describe(o)} was not carried over: the new run used another embedding model, so voices cannot be compared; redo it by hand.`,
    }));
    return result;
  }

  // [worked, new] similarity
  const similarity = sameModel
    ? worked.map((o) => newSpeakers.map((n) => cosine(o.centroid, n.centroid)))
    : timeOverlap(worked, newSpeakers, options.oldTurns!, options.newTurns!);
  const cost = similarity.map((row) => row.map((s) => 1 - s));
  const matchOf = new Map<number, number>();
  for (const [o, n] of munkres(cost)) matchOf.set(o, n);

  worked.forEach((old, o) => {
    const n = matchOf.get(o);
    const best = Math.max(...similarity[o]);
    if (n === undefined) {
      result.notCarried.push({
        oldSpeakerId: old.id,
        message: `${describe(old)} was not carried over: the new run has fewer speakers and its closest voice (${fmt(best)}) went to another old speaker.`,
      });
      return;
    }
    if (similarity[o][n] < minSimilarity) {
      result.notCarried.push({
        oldSpeakerId: old.id,
        message: `${describe(old)} was not carried over: no new speaker sounds alike enough (${fmt(similarity[o][n])} < ${fmt(minSimilarity)}${by === 'time-overlap' ? ' shared speaking time' : ' centroid similarity'}).`,
      });
      return;
    }
    const patch: CarryPatch = { speakerId: newSpeakers[n].id, fromSpeakerId: old.id, similarity: similarity[o][n] };
    if (old.displayName) patch.displayName = old.displayName;
    if (old.personSource === 'manual' && old.personId) {
      patch.personId = old.personId;
      patch.personSource = 'manual';
    }
    result.patches.push(patch);
  });
  return result;
}

function timeOverlap(
  worked: readonly CarrySpeaker[],
  fresh: readonly CarrySpeaker[],
  oldTurns: readonly AnalyticsTurn[],
  newTurns: readonly AnalyticsTurn[],
): number[][] {
  const speech = (turns: readonly AnalyticsTurn[], id: string): [number, number][] =>
    mergeIntervals(turns.filter((t) => t.speakerId === id).map((t) => [t.start, t.end]));
  const freshSpeech = fresh.map((n) => speech(newTurns, n.id));
  return worked.map((o) => {
    const a = speech(oldTurns, o.id);
    return freshSpeech.map((b) => {
      const both = intersectionLength(a, b);
      const either = totalLength(a) + totalLength(b) - both;
      return either > 0 ? both / either : 0;
    });
  });
}

function describe(s: CarrySpeaker): string {
  const work = [
    s.displayName ? `named "${s.displayName}"` : undefined,
    s.personSource === 'manual' && s.personId ? `assigned to person ${s.personId}` : undefined,
  ].filter(Boolean);
  return `Speaker ${s.label} (${work.join(', ')})`;
}

function fmt(x: number): string {
  return x.toFixed(2);
}
