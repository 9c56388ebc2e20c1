/**
 * What is in a media file: container, duration, and the first audio stream (the one decode.ts reads).
 * Uses ffprobe when one was found, else parses `ffmpeg -i` (ffmpeg-static ships no ffprobe).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FileNotFoundError, InvalidArgumentError, InvalidAudioError, NoAudioStreamError } from '../common/errors';
import { ffmpegBinaries, runTool, summarizeStderr } from './ffmpeg';

export interface AudioInfo {
  /** Absolute path of the file. */
  path: string;
  /** Container as ffmpeg names it, e.g. "wav", "mp3", "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm". */
  formatName: string;
  /** Absent when the container does not say (raw streams, some zero-length files). Estimated for CBR mp3. */
  durationSec?: number;
  /** Of the first audio stream. */
  sampleRate: number;
  channels: number;
  codec: string;
  /** A real video track (cover art in an mp3/m4a does not count). */
  hasVideo: boolean;
}

/** What either probing backend reads, before validation. */
export interface ProbedStream {
  type: 'audio' | 'video' | 'other';
  codec: string;
  sampleRate?: number;
  channels?: number;
  /** Cover art stored as a video stream. */
  attachedPic: boolean;
}

export interface ProbedFile {
  formatName: string;
  durationSec?: number;
  streams: ProbedStream[];
}

const PROBE_TIMEOUT_MS = 60_000;

const SUPPORTED_HINT = 'common formats are wav, mp3, m4a/aac, ogg/opus, flac, webm, mp4 and mkv';

/** Path checks that give a clearer message than ffmpeg would; returns the absolute path. */
async function checkInputFile(file: string): Promise<string> {
  if (typeof file !== 'string' || file.length === 0) {
    throw new InvalidArgumentError(`Expected the path of an audio file, received ${JSON.stringify(file)}.`);
  }
  const absolute = path.resolve(file);
  let stats;
  try {
    stats = await stat(absolute);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new FileNotFoundError(file);
    if (code === 'EACCES' || code === 'EPERM') {
      throw new InvalidArgumentError(`Cannot read "${file}": permission denied. Check the file's permissions.`);
    }
    throw err;
  }
  if (stats.isDirectory()) {
    throw new InvalidArgumentError(`"${file}" is a directory, not an audio file. Pass the path of a recording (e.g. a .wav or .mp3 inside it).`);
  }
  if (!stats.isFile()) {
    throw new InvalidArgumentError(`"${file}" is not a regular file (a device, socket or pipe?). Pass the path of a recording saved on disk.`);
  }
  if (stats.size === 0) {
    throw new InvalidAudioError(`"${file}" is empty (0 bytes). The upload or copy probably failed; provide the recording again.`);
  }
  return absolute;
}

function unreadable(file: string, tool: string, stderr: string): InvalidAudioError {
  const said = summarizeStderr(stderr, file);
  return new InvalidAudioError(
    `"${file}" is not a recognised audio/video file, or it is damaged (${tool}: ${said ? `"${said}"` : 'no details'}). ` +
      `Check that it plays in a media player and that it is a complete recording; ${SUPPORTED_HINT}.`,
  );
}

function parseSeconds(text: string | undefined): number | undefined {
  if (text === undefined || text === 'N/A') return undefined;
  const value = Number(text);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

// --- ffprobe backend -------------------------------------------------------------------------

const numberish = z.union([z.number(), z.string()]).optional();

const ffprobeOutput = z.object({
  format: z.object({ format_name: z.string().optional(), duration: numberish }).optional(),
  streams: z
    .array(
      z.object({
        codec_type: z.string().optional(),
        codec_name: z.string().optional(),
        sample_rate: numberish,
        channels: z.number().optional(),
        disposition: z.object({ attached_pic: z.number().optional() }).optional(),
      }),
    )
    .optional(),
});

const FFPROBE_ENTRIES = 'format=format_name,duration:stream=index,codec_type,codec_name,sample_rate,channels:stream_disposition=attached_pic';

export async function probeWithFfprobe(ffprobePath: string, file: string): Promise<ProbedFile> {
  const result = await runTool(ffprobePath, ['-v', 'error', '-hide_banner', '-print_format', 'json', '-show_entries', FFPROBE_ENTRIES, file], {
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  if (result.timedOut)
    throw new InvalidAudioError(
      `Probing "${file}" with ffprobe took longer than ${PROBE_TIMEOUT_MS / 1000} s; the file may be on a stalled disk or network share.`,
    );
  if (result.code !== 0) throw unreadable(file, 'ffprobe', result.stderr);
  let parsed;
  try {
    parsed = ffprobeOutput.parse(JSON.parse(result.stdout));
  } catch (err) {
    throw new InvalidAudioError(`ffprobe gave unreadable output for "${file}". Set FFPROBE_PATH to a working ffprobe, or unset it.`, { cause: err });
  }
  return {
    formatName: parsed.format?.format_name ?? 'unknown',
    durationSec: parseSeconds(parsed.format?.duration?.toString()),
    streams: (parsed.streams ?? []).map((s) => {
      const type = s.codec_type === 'audio' || s.codec_type === 'video' ? s.codec_type : 'other';
      const sampleRate = s.sample_rate === undefined ? undefined : Number(s.sample_rate);
      return {
        type,
        codec: s.codec_name ?? 'none',
        ...(sampleRate !== undefined && Number.isFinite(sampleRate) ? { sampleRate } : {}),
        ...(s.channels !== undefined ? { channels: s.channels } : {}),
        attachedPic: s.disposition?.attached_pic === 1,
      };
    }),
  };
}

// --- ffmpeg -i backend -----------------------------------------------------------------------

/** Channel counts of the layout names ffmpeg prints (libavutil/channel_layout.c). */
const LAYOUT_CHANNELS: Record<string, number> = {
  mono: 1,
  stereo: 2,
  downmix: 2,
  '2.1': 3,
  '3.0': 3,
  '3.0(back)': 3,
  '4.0': 4,
  quad: 4,
  'quad(side)': 4,
  '3.1': 4,
  '3.1.2': 6,
  '5.0': 5,
  '5.0(side)': 5,
  '4.1': 5,
  '5.1': 6,
  '5.1(side)': 6,
  '6.0': 6,
  '6.0(front)': 6,
  hexagonal: 6,
  '6.1': 7,
  '6.1(back)': 7,
  '6.1(front)': 7,
  '7.0': 7,
  '7.0(front)': 7,
  '7.1': 8,
  '7.1(wide)': 8,
  '7.1(wide-side)': 8,
  '7.1(top)': 8,
  '5.1.2': 8,
  '5.1.4': 10,
  '7.1.2': 10,
  '7.1.4': 12,
  '7.2.3': 12,
  '9.1.4': 14,
  octagonal: 8,
  cube: 8,
  hexadecagonal: 16,
  '22.2': 24,
};

function channelsFromLayout(layout: string): number | undefined {
  const counted = /^(\d+) channels?\b/.exec(layout);
  if (counted) return Number(counted[1]);
  if (layout in LAYOUT_CHANNELS) return LAYOUT_CHANNELS[layout];
  if (/^[A-Z]+[0-9]*(\+[A-Z]+[0-9]*)+$/.test(layout)) return layout.split('+').length; // custom, e.g. FL+FR+LFE
  return undefined;
}

const STREAM_LINE = /^\s*Stream #0:\d+(?:\[[^\]]*\])?(?:\([^)]*\))?: (\w+): (.*)$/;

/** Parses the stream summary that `ffmpeg -i file` prints on stderr (exported for tests). */
export function parseFfmpegInfo(stderr: string): ProbedFile | undefined {
  const input = /^Input #0, (.+), from '/m.exec(stderr);
  if (!input) return undefined;
  const duration = /^\s*Duration: (N\/A|(\d+):(\d{2}):(\d{2}(?:\.\d+)?))/m.exec(stderr);
  const durationSec = duration && duration[1] !== 'N/A' ? Number(duration[2]) * 3600 + Number(duration[3]) * 60 + Number(duration[4]) : undefined;
  const streams: ProbedStream[] = [];
  for (const line of stderr.split(/\r?\n/)) {
    const match = STREAM_LINE.exec(line);
    if (!match) continue;
    const [, kind, details] = match;
    const codec = /^[\w-]+/.exec(details)?.[0] ?? 'none';
    if (kind === 'Audio') {
      const parts = details.split(', ');
      const hzIndex = parts.findIndex((part) => / Hz$/.test(part));
      const sampleRate = hzIndex >= 0 ? Number.parseInt(parts[hzIndex], 10) : undefined;
      const channels = hzIndex >= 0 && hzIndex + 1 < parts.length ? channelsFromLayout(parts[hzIndex + 1]) : undefined;
      streams.push({
        type: 'audio',
        codec,
        ...(sampleRate !== undefined ? { sampleRate } : {}),
        ...(channels !== undefined ? { channels } : {}),
        attachedPic: false,
      });
    } else {
      streams.push({ type: kind === 'Video' ? 'video' : 'other', codec, attachedPic: /\(attached pic\)/.test(details) });
    }
  }
  return { formatName: input[1], durationSec, streams };
}

export async function probeWithFfmpeg(ffmpegPath: string, file: string): Promise<ProbedFile> {
  // No output is given, so ffmpeg exits 1 after printing the input summary; the summary is what counts.
  const result = await runTool(ffmpegPath, ['-hide_banner', '-nostdin', '-i', file], { timeoutMs: PROBE_TIMEOUT_MS });
  if (result.timedOut)
    throw new InvalidAudioError(
      `Probing "${file}" with ffmpeg took longer than ${PROBE_TIMEOUT_MS / 1000} s; the file may be on a stalled disk or network share.`,
    );
  const parsed = parseFfmpegInfo(result.stderr);
  if (!parsed) throw unreadable(file, 'ffmpeg', result.stderr);
  return parsed;
}

// --- validation ------------------------------------------------------------------------------

/** Turns a probe into AudioInfo, refusing files decode.ts could not read. */
export function toAudioInfo(file: string, probed: ProbedFile, backend: 'ffprobe' | 'ffmpeg'): AudioInfo {
  const audio = probed.streams.find((s) => s.type === 'audio');
  if (!audio) throw new NoAudioStreamError(file);
  if (audio.codec === 'none') {
    throw new InvalidAudioError(
      `"${file}" has an audio stream in a codec this ffmpeg cannot decode. Convert it with a full ffmpeg build (e.g. to .wav or .flac) first.`,
    );
  }
  if (!audio.sampleRate || audio.sampleRate <= 0) {
    throw new InvalidAudioError(
      `"${file}" has an audio stream (${audio.codec}) without a sample rate; the file is probably damaged. Re-export or re-record it.`,
    );
  }
  if (!audio.channels || audio.channels <= 0) {
    const hint =
      backend === 'ffmpeg'
        ? " Install ffprobe (it comes with Debian's ffmpeg package) or set FFPROBE_PATH so the channels can be read reliably."
        : ' The file is probably damaged; re-export or re-record it.';
    throw new InvalidAudioError(`Could not tell how many channels the audio stream of "${file}" has.${hint}`);
  }
  return {
    path: file,
    formatName: probed.formatName,
    ...(probed.durationSec !== undefined ? { durationSec: probed.durationSec } : {}),
    sampleRate: audio.sampleRate,
    channels: audio.channels,
    codec: audio.codec,
    hasVideo: probed.streams.some((s) => s.type === 'video' && !s.attachedPic),
  };
}

/**
 * Reads container, duration and first audio stream of a media file.
 * Throws FileNotFoundError, InvalidArgumentError (a directory, not a regular file), InvalidAudioError
 * (empty, unrecognised, damaged) or NoAudioStreamError (e.g. a video without sound).
 */
export async function probeAudio(file: string): Promise<AudioInfo> {
  const absolute = await checkInputFile(file);
  const { ffmpegPath, ffprobePath } = ffmpegBinaries();
  const probed = ffprobePath ? await probeWithFfprobe(ffprobePath, absolute) : await probeWithFfmpeg(ffmpegPath, absolute);
  return toAudioInfo(absolute, probed, ffprobePath ? 'ffprobe' : 'ffmpeg');
}
