import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { devDataDir } from '../common/paths';
import { InvalidAudioError, NoAudioStreamError } from '../common/errors';
import { ffmpegBinaries } from './ffmpeg';
import { parseFfmpegInfo, probeAudio, probeWithFfmpeg, toAudioInfo, type AudioInfo } from './probe';

const SOURCE = path.join(devDataDir, 'diarization', 'pyannote_sample.wav');

let dir: string;

function generate(name: string, args: string[]): string {
  const out = path.join(dir, name);
  execFileSync(ffmpegBinaries().ffmpegPath, ['-v', 'error', '-nostdin', '-y', ...args, out]);
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'audio-probe-'));
  generate('cover.png', ['-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=1', '-frames:v', '1']);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

type Expected = Omit<AudioInfo, 'path' | 'durationSec'> & { durationSec: number };

const cases: Array<[string, string[], Expected]> = [
  [
    'mono16k.wav',
    ['-i', SOURCE, '-t', '5', '-c:a', 'pcm_s16le'],
    { formatName: 'wav', durationSec: 5, sampleRate: 16000, channels: 1, codec: 'pcm_s16le', hasVideo: false },
  ],
  [
    'stereo44k.flac',
    ['-i', SOURCE, '-t', '5', '-ar', '44100', '-ac', '2'],
    { formatName: 'flac', durationSec: 5, sampleRate: 44100, channels: 2, codec: 'flac', hasVideo: false },
  ],
  [
    'six48k.wav',
    ['-f', 'lavfi', '-i', 'sine=r=48000:d=3', '-ac', '6'],
    { formatName: 'wav', durationSec: 3, sampleRate: 48000, channels: 6, codec: 'pcm_s16le', hasVideo: false },
  ],
  [
    'phone.wav',
    ['-i', SOURCE, '-t', '5', '-ar', '8000', '-c:a', 'pcm_mulaw'],
    { formatName: 'wav', durationSec: 5, sampleRate: 8000, channels: 1, codec: 'pcm_mulaw', hasVideo: false },
  ],
  [
    'speech.ogg',
    ['-i', SOURCE, '-t', '5', '-c:a', 'libopus'],
    { formatName: 'ogg', durationSec: 5, sampleRate: 48000, channels: 1, codec: 'opus', hasVideo: false },
  ],
  [
    'video.mp4',
    ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-i', SOURCE, '-map', '0:v', '-map', '1:a', '-t', '5', '-c:v', 'mpeg4', '-c:a', 'aac'],
    { formatName: 'mov,mp4,m4a,3gp,3g2,mj2', durationSec: 5, sampleRate: 16000, channels: 1, codec: 'aac', hasVideo: true },
  ],
  [
    // Cover art is stored as a video stream, but it is not a video.
    'with-cover.mp3',
    ['-i', SOURCE, '-i', '{dir}/cover.png', '-map', '0:a', '-map', '1:v', '-t', '5', '-c:a', 'libmp3lame', '-c:v', 'png', '-disposition:v', 'attached_pic'],
    { formatName: 'mp3', durationSec: 5, sampleRate: 16000, channels: 1, codec: 'mp3', hasVideo: false },
  ],
];

describe.each(cases)('%s', (name, args, expected) => {
  let file: string;
  beforeAll(() => {
    file = generate(
      name,
      args.map((a) => a.replace('{dir}', dir)),
    );
  });

  test('probeAudio reports container, duration and the audio stream', async () => {
    const { durationSec, ...info } = await probeAudio(file);
    const { durationSec: expectedDuration, ...rest } = expected;
    expect(info).toEqual({ path: file, ...rest });
    expect(durationSec).toBeDefined();
    expect(Math.abs(durationSec! - expectedDuration)).toBeLessThan(0.15);
  });

  test('the ffmpeg-only fallback (no ffprobe) reads the same', async () => {
    const viaFfprobe = await probeAudio(file);
    const viaFfmpeg = toAudioInfo(file, await probeWithFfmpeg(ffmpegBinaries().ffmpegPath, file), 'ffmpeg');
    expect({ ...viaFfmpeg, durationSec: undefined }).toEqual({ ...viaFfprobe, durationSec: undefined });
    expect(Math.abs(viaFfmpeg.durationSec! - viaFfprobe.durationSec!)).toBeLessThanOrEqual(0.01);
  });
});

describe('ffmpeg-only fallback on bad input', () => {
  test('a video without sound is NoAudioStreamError', async () => {
    const file = generate('silent.mp4', ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '1', '-c:v', 'mpeg4']);
    const probed = await probeWithFfmpeg(ffmpegBinaries().ffmpegPath, file);
    expect(() => toAudioInfo(file, probed, 'ffmpeg')).toThrow(NoAudioStreamError);
  });

  test('a text file is InvalidAudioError quoting ffmpeg', async () => {
    const file = path.join(dir, 'notes.wav');
    writeFileSync(file, 'meeting notes, not audio\n');
    const err = await probeWithFfmpeg(ffmpegBinaries().ffmpegPath, file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidAudioError);
    expect((err as Error).message).toMatch(/not a recognised audio\/video file.*ffmpeg: "Invalid data found when processing input"/);
  });
});

describe('parseFfmpegInfo', () => {
  const header = "Input #0, matroska,webm, from 'x.mkv':\n  Duration: 01:02:03.50, start: 0.000000, bitrate: 128 kb/s\n";

  test.each([
    ['5.1(side)', 6],
    ['7.1', 8],
    ['6 channels', 6],
    ['3 channels (FL+FR+LFE)', 3],
    ['FL+FR+LFE', 3],
    ['quad', 4],
    ['mono', 1],
  ])('reads the channel count of layout %p', (layout, channels) => {
    const parsed = parseFfmpegInfo(`${header}  Stream #0:0(eng): Audio: opus, 48000 Hz, ${layout}, fltp (default)\n`);
    expect(parsed?.streams).toEqual([{ type: 'audio', codec: 'opus', sampleRate: 48000, channels, attachedPic: false }]);
  });

  test('reads format, duration, and the stream lines of older ffmpeg builds', () => {
    const parsed = parseFfmpegInfo(
      `${header}    Stream #0:0(und): Video: h264 (High), yuv420p, 1280x720, 25 fps (default)\n` +
        '    Stream #0:1(und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 125 kb/s (default)\n' +
        '    Stream #0:2: Video: mjpeg, yuvj420p, 300x300, 90k tbn (attached pic)\n',
    );
    expect(parsed).toEqual({
      formatName: 'matroska,webm',
      durationSec: 3723.5,
      streams: [
        { type: 'video', codec: 'h264', attachedPic: false },
        { type: 'audio', codec: 'aac', sampleRate: 44100, channels: 2, attachedPic: false },
        { type: 'video', codec: 'mjpeg', attachedPic: true },
      ],
    });
  });

  test('Duration: N/A leaves the duration out; no "Input #0" means not recognised', () => {
    expect(parseFfmpegInfo("Input #0, wav, from 'z.wav':\n  Duration: N/A, bitrate: 256 kb/s\n")?.durationSec).toBeUndefined();
    expect(parseFfmpegInfo('z.wav: Invalid data found when processing input\n')).toBeUndefined();
  });

  test('an unknown layout is refused with a hint to install ffprobe', () => {
    const parsed = parseFfmpegInfo(`${header}  Stream #0:0: Audio: pcm_s16le, 48000 Hz, ambisonic 3, s16\n`);
    expect(() => toAudioInfo('x.mkv', parsed!, 'ffmpeg')).toThrow(/channels.*FFPROBE_PATH/);
  });
});
