/** Runs ffmpeg with a complete argument list to write a file (eval:robustness's transformed copies). */
import { InvalidAudioError } from '../common/errors';
import { ffmpegBinaries, runTool, summarizeStderr } from './ffmpeg';

/** Runs `ffmpeg <args>` to completion; a failure names the input and ffmpeg's own reason. */
export async function runFfmpeg(args: readonly string[], what: string): Promise<void> {
  const result = await runTool(ffmpegBinaries().ffmpegPath, args, { timeoutMs: 10 * 60_000 });
  if (result.code !== 0) {
    const reason = result.timedOut ? 'timed out after 10 minutes' : summarizeStderr(result.stderr) || `exit code ${result.code}`;
    throw new InvalidAudioError(`ffmpeg could not make ${what}: ${reason}.`);
  }
}
