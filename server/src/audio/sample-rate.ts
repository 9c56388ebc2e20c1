/**
 * The one sample rate the decoder emits. Kept in its own file, free of ffmpeg imports, so that pure
 * pipeline code (diarization/ frame maths) can name it without loading the decoder.
 */
export const TARGET_SAMPLE_RATE = 16000;
