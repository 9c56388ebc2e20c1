/** audio/: the only module that spawns ffmpeg/ffprobe. Everything else gets 16 kHz mono float32 from here. */
export { probeAudio, type AudioInfo } from './probe';
export { decodeAudio, decodeToArray, decodersStarted, TARGET_SAMPLE_RATE, DEFAULT_BLOCK_SAMPLES, DEFAULT_MAX_DURATION_SEC, type DecodeOptions } from './decode';
export { ffmpegBinaries, clearBinaryCache, type FfmpegBinaries } from './ffmpeg';
export { normalizeLevel, type LevelNormalizationOptions, type LevelDecision } from './level';
