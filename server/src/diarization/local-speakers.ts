/**
 * Local speakers → global clusters, for the windows strategy's frame labelling (issue 14).
 *
 * The segmentation model says, per 10 s chunk, which of its 3 local speakers talks in each frame, and
 * where two talk at once. Clustering says which global speaker each embedding window belongs to. As in
 * pyannote's `SpeakerDiarization.reconstruct`, each chunk's local speakers are mapped to distinct global
 * clusters (Hungarian algorithm), here by how often a local speaker's single-speaker frames carry each
 * cluster's window label, so no extra embeddings are needed. The mapped clusters are then summed per
 * global frame over the chunks that cover it; an overlapped frame where two mapped clusters are active
 * takes those two, else its first speaker and the best-supported other cluster.
 */
import { munkres } from 'munkres';

/** One chunk's segmentation, kept until the clusters are known. */
export interface ChunkActivity {
  /** Global segmentation frame of the chunk's first frame. */
  firstFrame: number;
  /** [numFrames, numLocal] 0/1, row-major. */
  activity: Uint8Array;
  numFrames: number;
}

/**
 * Per local speaker of `chunk`, the global cluster it stands for, or -1 when none of its single-speaker
 * frames carries a label (it only talks in overlap, or its frames were not embedded). `frameLabel(g)`
 * is the cluster of global frame g's first speaker, -1 when it has none.
 */
export function mapLocalSpeakers(chunk: ChunkActivity, numLocal: number, numClusters: number, frameLabel: (g: number) => number): Int32Array {
  const votes = Array.from({ length: numLocal }, () => new Float64Array(numClusters));
  const { activity, firstFrame } = chunk;
  for (let j = 0; j < chunk.numFrames; j++) {
    let active = 0;
    let who = -1;
    for (let k = 0; k < numLocal; k++) {
      if (activity[j * numLocal + k]) {
        active++;
        who = k;
      }
    }
    if (active !== 1) continue;
    const c = frameLabel(firstFrame + j);
    if (c >= 0) votes[who][c]++;
  }
  const mapping = new Int32Array(numLocal).fill(-1);
  const speaking = votes.map((v, k) => ({ k, total: v.reduce((s, x) => s + x, 0) })).filter((s) => s.total > 0);
  if (speaking.length === 0 || numClusters === 0) return mapping;
  // munkres minimises: cost = -votes; a local speaker may only take a cluster its frames voted for.
  const cost = speaking.map(({ k }) => Array.from(votes[k], (v) => -v));
  for (const [row, c] of munkres(cost)) if (votes[speaking[row].k][c] > 0) mapping[speaking[row].k] = c;
  return mapping;
}

/**
 * Per global frame and cluster, how many chunks have a local speaker mapped to that cluster active
 * there: [totalFrames, numClusters] counts (saturating at 255).
 */
export function mappedClusterVotes(
  chunks: readonly ChunkActivity[],
  numLocal: number,
  numClusters: number,
  totalFrames: number,
  frameLabel: (g: number) => number,
): Uint8Array {
  const votes = new Uint8Array(totalFrames * numClusters);
  for (const chunk of chunks) {
    const mapping = mapLocalSpeakers(chunk, numLocal, numClusters, frameLabel);
    for (let k = 0; k < numLocal; k++) {
      const c = mapping[k];
      if (c < 0) continue;
      for (let j = 0; j < chunk.numFrames; j++) {
        const g = chunk.firstFrame + j;
        if (g >= totalFrames || !chunk.activity[j * numLocal + k]) continue;
        const at = g * numClusters + c;
        if (votes[at] < 255) votes[at]++;
      }
    }
  }
  return votes;
}

/** The cluster other than `first` with the most votes at frame g, or undefined when none has any. */
export function secondSpeakerAt(votes: Uint8Array, numClusters: number, g: number, first: number): number | undefined {
  let best: number | undefined;
  let bestVotes = 0;
  for (let c = 0; c < numClusters; c++) {
    const v = votes[g * numClusters + c];
    if (c !== first && v > bestVotes) {
      bestVotes = v;
      best = c;
    }
  }
  return best;
}

/** The two clusters with the most votes at frame g (most first), or undefined unless two have votes. */
export function topTwoAt(votes: Uint8Array, numClusters: number, g: number): [number, number] | undefined {
  const a = secondSpeakerAt(votes, numClusters, g, -1);
  const b = a === undefined ? undefined : secondSpeakerAt(votes, numClusters, g, a);
  return a !== undefined && b !== undefined ? [a, b] : undefined;
}
