/**
 * What `eval:eer` needs around the metrics: embed every utterance of a trial list once, score each trial
 * by cosine similarity and summarise EER and minDCF. The CLI supplies the embedder.
 */
import { InvalidArgumentError } from '../common/errors';
import { computeEer, computeMinDcf, type MinDcfOptions } from './eer';
import type { Trial } from './trials';

export interface TrialScoreOptions extends MinDcfOptions {
  /** Called after each distinct file is embedded. */
  onEmbedded?: (path: string, completed: number, total: number) => void;
}

export interface TrialScores {
  /** Equal error rate, a fraction. */
  eer: number;
  /** Cosine score at the equal-error point. */
  thresholdScore: number;
  /** Normalised minimum detection cost at `pTarget`. */
  minDcf: number;
  pTarget: number;
  numTrials: number;
  numTargets: number;
}

/** Embeds each distinct file once (in first-use order, one at a time), scores trials by cosine similarity. */
export async function scoreTrials(
  trials: readonly Trial[],
  getEmbedding: (path: string) => Promise<Float32Array>,
  options: TrialScoreOptions = {},
): Promise<TrialScores> {
  const paths = [...new Set(trials.flatMap((t) => [t.enrollPath, t.testPath]))];
  const embeddings = new Map<string, Float32Array>();
  for (const p of paths) {
    embeddings.set(p, await getEmbedding(p));
    options.onEmbedded?.(p, embeddings.size, paths.length);
  }
  const scores = trials.map((t) => cosineSimilarity(embeddings.get(t.enrollPath), embeddings.get(t.testPath), t));
  const labels = trials.map((t) => t.label);
  const pTarget = options.pTarget ?? 0.01;
  const { eer, thresholdScore } = computeEer(scores, labels);
  return {
    eer,
    thresholdScore,
    minDcf: computeMinDcf(scores, labels, { pTarget, cMiss: options.cMiss, cFa: options.cFa }),
    pTarget,
    numTrials: trials.length,
    numTargets: labels.filter((l) => l === 1).length,
  };
}

/** A short human-readable summary. */
export function formatEerReport(result: TrialScores): string {
  return [
    `trials     ${result.numTrials} (${result.numTargets} target, ${result.numTrials - result.numTargets} non-target)`,
    `EER        ${(100 * result.eer).toFixed(2)} %  (cosine threshold ${result.thresholdScore.toFixed(4)})`,
    `minDCF     ${result.minDcf.toFixed(4)}  (pTarget ${result.pTarget})`,
  ].join('\n');
}

function cosineSimilarity(a: Float32Array | undefined, b: Float32Array | undefined, trial: Trial): number {
  if (!a || !b) throw new InvalidArgumentError(`Missing embedding for trial ${trial.enrollPath} vs ${trial.testPath}.`);
  if (a.length !== b.length) {
    throw new InvalidArgumentError(
      `Embeddings of different sizes (${a.length} vs ${b.length}) for ${trial.enrollPath} and ${trial.testPath}; use one embedding model.`,
    );
  }
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    normA += a[i] * a[i];
    normB += b[i] * b[i];
  }
  if (normA === 0 || normB === 0) {
    throw new InvalidArgumentError(`A zero embedding for ${normA === 0 ? trial.enrollPath : trial.testPath}: cosine similarity is undefined (silent audio?).`);
  }
  return dot / Math.sqrt(normA * normB);
}
