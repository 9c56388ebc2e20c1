/**
 * A browser-playable copy of a recording: Opus in WebM, mono, 32 kb/s VBR (13–18 MB per hour of speech),
 * which every current browser plays in <audio> and seeks in with range requests.
 * Written to a seekable file (not a pipe) so that the WebM muxer can add the duration and the cues
 * that browsers need for seeking.
 */
import { unlink } from 'node:fs/promises';
import Ffmpeg from 'fluent-ffmpeg';
import { AbortedError, InvalidArgumentError, InvalidAudioError, throwIfAborted } from '../common/errors';
import { ffmpegBinaries, summarizeStderr } from './ffmpeg';
import { probeAudio, type AudioInfo } from './probe';

export const PLAYABLE_CONTENT_TYPE = 'audio/webm';
export const PLAYABLE_EXTENSION = '.webm';
export const DEFAULT_PLAYABLE_BITRATE_KBPS = 32;

export interface PlayableOptions {
  /** Opus bitrate in kb/s (6–256); default 32, plenty for speech. */
  bitrateKbps?: number;
  signal?: AbortSignal;
  /** The result of probeAudio(input) when the caller already has it. */
  info?: AudioInfo;
}

/**
 * Transcodes the first audio stream of `input` to Opus/WebM mono at `output` (a local path,
 * overwritten). Removes `output` on failure. Throws InvalidAudioError / NoAudioStreamError for bad
 * input (after probing), AbortedError when `signal` fires.
 */
export async function transcodePlayable(input: string, output: string, options: PlayableOptions = {}): Promise<void> {
  const bitrate = options.bitrateKbps ?? DEFAULT_PLAYABLE_BITRATE_KBPS;
  if (!(Number.isInteger(bitrate) && bitrate >= 6 && bitrate <= 256)) {
    throw new InvalidArgumentError(`bitrateKbps must be an integer from 6 to 256 (Opus), received ${String(options.bitrateKbps)}.`);
  }
  const { signal } = options;
  throwIfAborted(signal, 'transcoding');
  const info = options.info ?? (await probeAudio(input));
  throwIfAborted(signal, 'transcoding');
  try {
    await runFfmpeg(info.path, output, bitrate, signal);
  } catch (err) {
    await unlink(output).catch(() => undefined);
    throw err;
  }
}

function runFfmpeg(input: string, output: string, bitrateKbps: number, signal: AbortSignal | undefined): Promise<void> {
  const { ffmpegPath } = ffmpegBinaries();
  const command = Ffmpeg()
    .setFfmpegPath(ffmpegPath)
    .input(input)
    .inputOptions(['-nostdin', '-hide_banner', '-loglevel', 'error'])
    // Audio only, metadata dropped (titles/comments of the original need not reach browsers).
    // compression_level 5 (default 10): about 4× less CPU (1 h: ~12 s instead of ~45 s here) for a
    // difference nobody hears in speech at this bitrate.
    .outputOptions([
      '-map',
      '0:a:0',
      '-vn',
      '-sn',
      '-dn',
      '-map_metadata',
      '-1',
      '-ac',
      '1',
      '-c:a',
      'libopus',
      '-b:a',
      `${bitrateKbps}k`,
      '-compression_level',
      '5',
      '-f',
      'webm',
    ])
    .output(output);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      command.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    command.on('end', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    command.on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) {
        reject(new AbortedError('transcoding'));
        return;
      }
      const said = summarizeStderr(stderr ?? '', input) || err.message;
      reject(
        new InvalidAudioError(`ffmpeg could not make a playable copy of "${input}": "${said}". The file may be damaged or truncated; check that it plays.`, {
          cause: err,
        }),
      );
    });
    command.run();
  });
}
