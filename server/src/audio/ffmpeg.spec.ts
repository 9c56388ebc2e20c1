import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DependencyMissingError } from '../common/errors';
import { decodeToArray } from './decode';
import { clearBinaryCache, ffmpegBinaries, resolveBinaries, runTool, summarizeStderr, type ResolveInputs } from './ffmpeg';
import { probeAudio } from './probe';

let dir: string;

/** An executable file standing in for a binary (never run). */
function fakeExecutable(...parts: string[]): string {
  const file = path.join(dir, ...parts);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '#!/bin/sh\nexit 0\n');
  chmodSync(file, 0o755);
  return file;
}

function inputs(env: NodeJS.ProcessEnv, ffmpegStaticPath: string | null = null): ResolveInputs {
  return { env, ffmpegStaticPath, platform: 'linux' };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'audio-ffmpeg-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('resolveBinaries', () => {
  const onlyIf = process.platform === 'win32' ? describe.skip : describe;

  onlyIf('on a POSIX file system', () => {
    let pathDir: string;
    let staticFfmpeg: string;
    beforeAll(() => {
      pathDir = path.dirname(fakeExecutable('bin', 'ffmpeg'));
      fakeExecutable('bin', 'ffprobe');
      staticFfmpeg = fakeExecutable('static', 'ffmpeg'); // like ffmpeg-static: no ffprobe beside it
      fakeExecutable('custom', 'my-ffmpeg');
      fakeExecutable('custom', 'ffprobe');
      writeFileSync(path.join(dir, 'custom', 'not-executable'), '');
    });

    test('FFMPEG_PATH wins, and the ffprobe beside it is preferred to the one on PATH', () => {
      const found = resolveBinaries(inputs({ FFMPEG_PATH: path.join(dir, 'custom', 'my-ffmpeg'), PATH: pathDir }, staticFfmpeg));
      expect(found).toEqual({
        ffmpegPath: path.join(dir, 'custom', 'my-ffmpeg'),
        ffmpegSource: 'FFMPEG_PATH',
        ffprobePath: path.join(dir, 'custom', 'ffprobe'),
      });
    });

    test('FFMPEG_PATH may be a bare command name looked up on PATH', () => {
      expect(resolveBinaries(inputs({ FFMPEG_PATH: 'ffmpeg', PATH: pathDir })).ffmpegPath).toBe(path.join(pathDir, 'ffmpeg'));
    });

    test('a FFMPEG_PATH that points nowhere is an error, not a silent fallback', () => {
      const run = (): unknown => resolveBinaries(inputs({ FFMPEG_PATH: path.join(dir, 'custom', 'not-executable'), PATH: pathDir }));
      expect(run).toThrow(DependencyMissingError);
      expect(run).toThrow(/FFMPEG_PATH is set to ".*not-executable", but no executable file is there/);
    });

    test("ffmpeg-static's binary comes next, when it was downloaded; ffprobe then comes from PATH", () => {
      expect(resolveBinaries(inputs({ PATH: pathDir }, staticFfmpeg))).toEqual({
        ffmpegPath: staticFfmpeg,
        ffmpegSource: 'ffmpeg-static',
        ffprobePath: path.join(pathDir, 'ffprobe'),
      });
    });

    test("ffmpeg-static's path is skipped when its binary was never downloaded", () => {
      const found = resolveBinaries(inputs({ PATH: pathDir }, path.join(dir, 'static', 'missing-ffmpeg')));
      expect(found).toMatchObject({ ffmpegPath: path.join(pathDir, 'ffmpeg'), ffmpegSource: 'PATH' });
    });

    test('FFPROBE_PATH overrides the ffprobe search', () => {
      const probe = fakeExecutable('elsewhere', 'ffprobe-5');
      expect(resolveBinaries(inputs({ PATH: pathDir, FFPROBE_PATH: probe })).ffprobePath).toBe(probe);
    });

    test('no ffprobe anywhere leaves ffprobePath out (probing falls back to ffmpeg)', () => {
      expect(resolveBinaries(inputs({ PATH: '' }, staticFfmpeg))).toEqual({ ffmpegPath: staticFfmpeg, ffmpegSource: 'ffmpeg-static' });
    });

    test('no ffmpeg anywhere says how to install it', () => {
      const run = (): unknown => resolveBinaries(inputs({ PATH: path.join(dir, 'custom') }));
      expect(run).toThrow(DependencyMissingError);
      expect(run).toThrow(/apt-get install -y ffmpeg.*FFMPEG_PATH/);
    });
  });

  test('the real resolution is cached', () => {
    expect(ffmpegBinaries()).toBe(ffmpegBinaries());
  });
});

describe('with ffmpeg only (no ffprobe), as with ffmpeg-static', () => {
  const VARS = ['FFMPEG_PATH', 'FFPROBE_PATH', 'PATH'] as const;
  const saved = Object.fromEntries(VARS.map((name) => [name, process.env[name]]));
  let clip: string;

  beforeAll(() => {
    const real = ffmpegBinaries().ffmpegPath;
    clip = path.join(dir, 'clip.wav');
    execFileSync(real, ['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'aevalsrc=0.5*sin(2*PI*300*t)|0.5*sin(2*PI*1000*t):s=44100:d=2', clip]);
    const lonely = path.join(dir, 'lonely');
    mkdirSync(lonely);
    symlinkSync(real, path.join(lonely, 'ffmpeg'));
    process.env.FFMPEG_PATH = path.join(lonely, 'ffmpeg');
    process.env.PATH = lonely;
    delete process.env.FFPROBE_PATH;
    clearBinaryCache();
  });

  afterAll(() => {
    for (const name of VARS) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    clearBinaryCache();
  });

  test('probing and decoding still work', async () => {
    expect(ffmpegBinaries().ffprobePath).toBeUndefined();
    const info = await probeAudio(clip);
    expect(info).toMatchObject({ formatName: 'wav', sampleRate: 44100, channels: 2, codec: 'pcm_s16le', hasVideo: false });
    expect(info.durationSec).toBeCloseTo(2, 2);
    expect((await decodeToArray(clip, { channel: 1 })).length).toBe(32_000);
  });
});

describe('runTool', () => {
  test('captures the output and exit code', async () => {
    const result = await runTool(ffmpegBinaries().ffmpegPath, ['-hide_banner', '-version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ffmpeg version/);
  });

  test('a binary that cannot be started is DependencyMissingError', async () => {
    await expect(runTool(path.join(dir, 'no-such-ffmpeg'), ['-version'])).rejects.toThrow(DependencyMissingError);
  });

  test('a tool that runs too long is killed and reported', async () => {
    const result = await runTool(ffmpegBinaries().ffmpegPath, ['-nostdin', '-re', '-f', 'lavfi', '-i', 'sine=d=30', '-f', 'null', '-'], { timeoutMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(result.code).toBeUndefined();
  });
});

describe('summarizeStderr', () => {
  test('keeps the specific then the generic message, without addresses, paths and noise', () => {
    const stderr =
      '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55cbdd56e700] moov atom not found\n' + '/data/cut.mp4: Invalid data found when processing input\n' + 'Conversion failed!\n';
    expect(summarizeStderr(stderr, '/data/cut.mp4')).toBe('moov atom not found; Invalid data found when processing input');
  });

  test('repeated decoder complaints are quoted once', () => {
    const stderr = '[mp3float @ 0x1] Header missing\n'.repeat(50) + 'Error while decoding stream #0:0: Invalid data found when processing input\n';
    expect(summarizeStderr(stderr)).toBe('Header missing');
  });

  test('nothing useful gives an empty string', () => {
    expect(summarizeStderr('At least one output file must be specified\n\n')).toBe('');
  });
});
