/**
 * Picks the identification threshold (cosine) from verification trial scores: the lowest threshold whose
 * false-accept rate stays at or under a target, which maximises correct identifications under that
 * FAR. A trial is accepted when score >= threshold (the convention of eval/eer.ts).
 */
import { InvalidArgumentError } from '../common/errors';
import { cosine, l2Normalize } from '../vectors/math';
import { computeEer } from '../eval/eer';

export interface OperatingPoint {
  thresholdCosine: number;
  /** Non-target trials accepted / non-target trials. */
  far: number;
  /** Target trials rejected / target trials. */
  frr: number;
}

export interface ThresholdCalibration {
  targetFar: number;
  /** The chosen threshold with its measured rates. */
  chosen: OperatingPoint;
  /** The equal-error point, for comparison. */
  eer: OperatingPoint & { eer: number };
  numTargets: number;
  numNonTargets: number;
}

export interface CalibrationOptions {
  /** Highest acceptable false-accept rate, a fraction (0.01 = 1 %). */
  targetFar: number;
}

/** FAR and FRR when accepting every trial with score >= threshold. labels: 1 target, 0 non-target. */
export function operatingPoint(scores: readonly number[], labels: readonly number[], thresholdCosine: number): OperatingPoint {
  let targets = 0;
  let rejectedTargets = 0;
  let acceptedNonTargets = 0;
  for (let i = 0; i < scores.length; i++) {
    const accepted = scores[i] >= thresholdCosine;
    if (labels[i] === 1) {
      targets += 1;
      if (!accepted) rejectedTargets += 1;
    } else if (accepted) {
      acceptedNonTargets += 1;
    }
  }
  const nonTargets = scores.length - targets;
  return { thresholdCosine, far: acceptedNonTargets / nonTargets, frr: rejectedTargets / targets };
}

export function calibrateThreshold(scores: readonly number[], labels: readonly number[], options: CalibrationOptions): ThresholdCalibration {
  const { targetFar } = options;
  if (!(targetFar >= 0 && targetFar < 1)) throw new InvalidArgumentError(`targetFar must be a fraction in [0, 1), got ${targetFar}.`);
  // computeEer validates lengths, labels, finiteness and that both classes are present.
  const { eer, thresholdScore } = computeEer(scores, labels);

  const nonTarget = scores.filter((_, i) => labels[i] === 0).sort((a, b) => b - a);
  const allowed = Math.floor(targetFar * nonTarget.length + 1e-9);
  // Accepting score >= t admits at most `allowed` non-targets when t lies above the (allowed+1)-th
  // highest one; the lowest observed score there keeps every target it can.
  const firstRejected = allowed < nonTarget.length ? nonTarget[allowed] : Number.NEGATIVE_INFINITY;
  const above = scores.filter((s) => s > firstRejected);
  const lowest = above.length > 0 ? Math.min(...above) : nextUp(firstRejected);
  return {
    targetFar,
    chosen: operatingPoint(scores, labels, shortestIn(firstRejected, lowest)),
    eer: { ...operatingPoint(scores, labels, thresholdScore), eer },
    numTargets: labels.filter((l) => l === 1).length,
    numNonTargets: nonTarget.length,
  };
}

/**
 * The number with fewest decimals in (low, high]: every threshold there accepts the same trials, so the
 * written figure is short without changing the operating point (rounding up could drop a target).
 */
function shortestIn(low: number, high: number): number {
  for (let decimals = 0; decimals <= 10; decimals++) {
    const scale = 10 ** decimals;
    const candidate = Math.floor(high * scale) / scale;
    if (candidate > low && candidate <= high) return candidate;
  }
  return high;
}

/** The next representable double above x (no observed score lies between). */
function nextUp(x: number): number {
  const step = Math.abs(x) * Number.EPSILON || Number.MIN_VALUE;
  return x + step;
}

export interface OpenSetResult {
  /** People in the simulated directory (every speaker of the set). */
  people: number;
  /** Probes whose speaker was left out of the directory, and how many of them were still given someone. */
  unknownProbes: number;
  falseIdentifications: number;
  /** Probes whose speaker is enrolled (from their other utterances), and how many got the right person. */
  knownProbes: number;
  correct: number;
  /** Known probes given someone else. */
  wrongPerson: number;
}

/**
 * Identification as the directory does it (score = cosine to each person's mean enrollment, best person
 * above the threshold), simulated leave-one-out over a labelled set: each utterance is a probe, once with
 * its speaker absent from the directory (an unknown voice) and, when the speaker has other utterances,
 * once with them enrolled. Per-trial FAR understates the risk: an unknown voice meets every enrolled person.
 */
export function openSetIdentification(items: readonly { speaker: string; embedding: Float32Array }[], thresholdCosine: number): OpenSetResult {
  const speakers = [...new Set(items.map((i) => i.speaker))];
  const meanOf = (members: readonly Float32Array[]): Float32Array | undefined => {
    if (members.length === 0) return undefined;
    const mean = new Float32Array(members[0].length);
    for (const m of members) for (let d = 0; d < mean.length; d++) mean[d] += m[d];
    return l2Normalize(mean);
  };
  const result: OpenSetResult = { people: speakers.length, unknownProbes: 0, falseIdentifications: 0, knownProbes: 0, correct: 0, wrongPerson: 0 };
  items.forEach((probe, p) => {
    let bestOther = Number.NEGATIVE_INFINITY;
    let bestOtherSpeaker = '';
    for (const s of speakers) {
      if (s === probe.speaker) continue;
      const score = cosine(probe.embedding, meanOf(items.filter((i) => i.speaker === s).map((i) => i.embedding))!);
      if (score > bestOther) [bestOther, bestOtherSpeaker] = [score, s];
    }
    result.unknownProbes += 1;
    if (bestOther >= thresholdCosine) result.falseIdentifications += 1;
    const own = meanOf(items.filter((i, j) => j !== p && i.speaker === probe.speaker).map((i) => i.embedding));
    if (!own) return;
    result.knownProbes += 1;
    const ownScore = cosine(probe.embedding, own);
    if (ownScore >= thresholdCosine && ownScore >= bestOther) result.correct += 1;
    else if (bestOther >= thresholdCosine && bestOtherSpeaker) result.wrongPerson += 1;
  });
  return result;
}
