/** Speaker counts of a meeting: the one rule lives in clustering/speaker-counts.ts. */
export { parseSpeakerCounts as validateSpeakerCounts, type SpeakerCounts } from '../clustering/speaker-counts';
