/**
 * Speaker-verification metrics from trial scores: equal error rate and the minimum normalised
 * detection cost (NIST SRE / VoxCeleb convention). A trial is accepted when score >= threshold.
 */
import { InvalidArgumentError } from '../common/errors';

export interface EerResult {
  /** Equal error rate as a fraction (0.05 = 5 %). */
  eer: number;
  /** Score threshold at the equal-error point, linearly interpolated between the two neighbouring scores. */
  thresholdScore: number;
}

export interface MinDcfOptions {
  /** Prior probability of a target trial. Default 0.01. */
  pTarget?: number;
  /** Cost of a miss (rejected target). Default 1. */
  cMiss?: number;
  /** Cost of a false alarm (accepted non-target). Default 1. */
  cFa?: number;
}

/** One operating point: accept every trial scoring >= thresholdScore. */
interface RocPoint {
  /** False acceptance rate (non-targets accepted / non-targets). */
  far: number;
  /** True acceptance rate (targets accepted / targets) = 1 − FRR. */
  tar: number;
  thresholdScore: number;
}

/**
 * EER where the piecewise-linear ROC curve crosses FAR = FRR (the value sklearn's roc_curve gives with
 * `brentq(lambda x: 1 - x - interp1d(fpr, tpr)(x), 0, 1)`). labels: 1 target, 0 non-target.
 */
export function computeEer(scores: readonly number[], labels: readonly number[]): EerResult {
  const roc = rocCurve(scores, labels);
  for (let k = 0; k + 1 < roc.length; k++) {
    const a = roc[k];
    const b = roc[k + 1];
    // gap = FRR − FAR = 1 − tar − far: positive at (0, 0), negative at (1, 1), strictly falling along the curve.
    const gapA = 1 - a.tar - a.far;
    const gapB = 1 - b.tar - b.far;
    if (gapA >= 0 && gapB <= 0) {
      const t = gapA / (gapA - gapB);
      const eer = a.far + t * (b.far - a.far);
      const thresholdScore = Number.isFinite(a.thresholdScore) ? a.thresholdScore + t * (b.thresholdScore - a.thresholdScore) : b.thresholdScore;
      return { eer, thresholdScore };
    }
  }
  // Unreachable: the curve runs from (0, 0) to (1, 1), so the gap changes sign on some segment.
  throw new InvalidArgumentError('The ROC curve never crosses FAR = FRR; check the scores for NaN.');
}

/**
 * min over thresholds of cMiss·FRR·pTarget + cFa·FAR·(1 − pTarget), divided by the cost of the best
 * trivial system, min(cMiss·pTarget, cFa·(1 − pTarget)). 0 is perfect, 1 is no better than always deciding one way.
 */
export function computeMinDcf(scores: readonly number[], labels: readonly number[], options: MinDcfOptions = {}): number {
  const { pTarget = 0.01, cMiss = 1, cFa = 1 } = options;
  if (!(pTarget > 0 && pTarget < 1)) throw new InvalidArgumentError(`pTarget must lie strictly between 0 and 1, got ${pTarget}.`);
  if (!(cMiss > 0) || !(cFa > 0)) throw new InvalidArgumentError(`cMiss and cFa must be positive, got ${cMiss} and ${cFa}.`);
  let best = Number.POSITIVE_INFINITY;
  for (const p of rocCurve(scores, labels)) {
    best = Math.min(best, cMiss * (1 - p.tar) * pTarget + cFa * p.far * (1 - pTarget));
  }
  return best / Math.min(cMiss * pTarget, cFa * (1 - pTarget));
}

/** Operating points from "accept nothing" (0, 0) through every distinct score to "accept all" (1, 1). */
function rocCurve(scores: readonly number[], labels: readonly number[]): RocPoint[] {
  validate(scores, labels);
  const order = scores.map((_, i) => i).sort((i, j) => scores[j] - scores[i]);
  const numTargets = labels.reduce((n, l) => n + l, 0);
  const numNonTargets = labels.length - numTargets;
  const points: RocPoint[] = [{ far: 0, tar: 0, thresholdScore: Number.POSITIVE_INFINITY }];
  let acceptedTargets = 0;
  let acceptedNonTargets = 0;
  let k = 0;
  while (k < order.length) {
    const threshold = scores[order[k]];
    // Tied scores are accepted together.
    while (k < order.length && scores[order[k]] === threshold) {
      if (labels[order[k]] === 1) acceptedTargets += 1;
      else acceptedNonTargets += 1;
      k += 1;
    }
    points.push({ far: acceptedNonTargets / numNonTargets, tar: acceptedTargets / numTargets, thresholdScore: threshold });
  }
  return points;
}

function validate(scores: readonly number[], labels: readonly number[]): void {
  if (scores.length !== labels.length) {
    throw new InvalidArgumentError(`Got ${scores.length} scores but ${labels.length} labels; give one label per score.`);
  }
  let targets = 0;
  labels.forEach((label, i) => {
    if (label !== 0 && label !== 1) throw new InvalidArgumentError(`Label ${i} is ${label}; labels must be 1 (target) or 0 (non-target).`);
    if (!Number.isFinite(scores[i])) throw new InvalidArgumentError(`Score ${i} is ${scores[i]}; scores must be finite numbers.`);
    targets += label;
  });
  if (targets === 0 || targets === labels.length) {
    throw new InvalidArgumentError(`EER and minDCF need both target and non-target trials; got ${targets} targets out of ${labels.length} trials.`);
  }
}
