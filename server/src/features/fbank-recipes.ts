/**
 * Log mel filter-bank recipes: which Kaldi fbank options a speaker-embedding model was trained on.
 * The recipe is a per-model setting (the embedding stage picks it from the model's manifest).
 *
 * Fixed for every recipe (what kaldi-native-fbank and torchaudio.compliance.kaldi.fbank use with the
 * options below): samples in [-1, 1] as given (no 32768 scaling), no dither, FFT size rounded up to a
 * power of two, power spectrum, Kaldi (HTK-formula) mel scale without area normalisation, natural log
 * floored at FLT_EPSILON, no energy coefficient.
 */
import { InvalidArgumentError } from '../common/errors';

export interface FbankRecipe {
  name: string;
  sampleRate: number;
  numMelBins: number;
  frameLengthMs: number;
  frameShiftMs: number;
  lowFreqHz: number;
  /** Kaldi convention: a value <= 0 means nyquist + value (0 = nyquist, -400 = 400 Hz below it). */
  highFreqHz: number;
  /** true: only frames that fit in the signal, first at sample 0; false: round(n / shift) frames centred on the shift grid, edges reflected. */
  snipEdges: boolean;
  preemphasisCoeff: number;
  removeDcOffset: boolean;
  window: 'povey' | 'hamming' | 'hanning' | 'rectangular';
}

export const FBANK_RECIPES: Record<string, FbankRecipe> = {
  /** What sherpa-onnx computes for its speaker-embedding models (and the stand-in ge2e-resemblyzer-fbank80). */
  'sherpa-onnx': {
    name: 'sherpa-onnx',
    sampleRate: 16000,
    numMelBins: 80,
    frameLengthMs: 25,
    frameShiftMs: 10,
    lowFreqHz: 20,
    highFreqHz: -400,
    snipEdges: false,
    preemphasisCoeff: 0.97,
    removeDcOffset: true,
    window: 'povey',
  },
  /** torchaudio.compliance.kaldi.fbank defaults with 80 bins: what 3D-Speaker trained the official CAM++ on. */
  'kaldi-default': {
    name: 'kaldi-default',
    sampleRate: 16000,
    numMelBins: 80,
    frameLengthMs: 25,
    frameShiftMs: 10,
    lowFreqHz: 20,
    highFreqHz: 0,
    snipEdges: true,
    preemphasisCoeff: 0.97,
    removeDcOffset: true,
    window: 'povey',
  },
};

/** The named recipe; an unknown name fails with the list of known ones. */
export function getFbankRecipe(name: string): FbankRecipe {
  const recipe = Object.prototype.hasOwnProperty.call(FBANK_RECIPES, name) ? FBANK_RECIPES[name] : undefined;
  if (!recipe) {
    const known = Object.keys(FBANK_RECIPES)
      .map((k) => `"${k}"`)
      .join(', ');
    throw new InvalidArgumentError(`Unknown fbank recipe "${name}". Known recipes: ${known}.`);
  }
  return recipe;
}
