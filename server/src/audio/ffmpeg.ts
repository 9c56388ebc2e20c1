/**
 * The one place that knows where ffmpeg/ffprobe live and how to start them.
 * Only audio/ imports fluent-ffmpeg (this file, decode and the playable transcode) and only this
 * file resolves the binaries, so swapping fluent-ffmpeg (archived upstream) for a direct spawn
 * stays inside audio/.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import ffmpegStaticPath from 'ffmpeg-static';
import Ffmpeg from 'fluent-ffmpeg';
import { DependencyMissingError } from '../common/errors';

export interface FfmpegBinaries {
  ffmpegPath: string;
  /** Where ffmpegPath came from, for diagnostics. */
  ffmpegSource: 'FFMPEG_PATH' | 'ffmpeg-static' | 'PATH';
  /** Absent when no ffprobe was found: probing then parses `ffmpeg -i` output instead. */
  ffprobePath?: string;
}

export interface ResolveInputs {
  env: NodeJS.ProcessEnv;
  /** What ffmpeg-static exports (a path that exists only when its install script downloaded the binary). */
  ffmpegStaticPath: string | null;
  platform: NodeJS.Platform;
}

const INSTALL_HINT = 'install ffmpeg (Debian: apt-get install -y ffmpeg) or set FFMPEG_PATH to the ffmpeg executable';

function isExecutableFile(file: string, platform: NodeJS.Platform): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    if (platform !== 'win32') accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function executableNames(name: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
  if (platform !== 'win32' || path.extname(name)) return [name];
  const exts = (env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean);
  return [name, ...exts.map((ext) => name + ext.toLowerCase())];
}

/** The first executable called `name` in the PATH directories, like `which`. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | undefined {
  const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    for (const candidate of executableNames(name, env, platform)) {
      const full = path.join(dir, candidate);
      if (isExecutableFile(full, platform)) return full;
    }
  }
  return undefined;
}

/** An explicit setting (env var): a path, or a bare command name looked up on PATH. It must exist. */
function fromEnvVar(varName: string, value: string, inputs: ResolveInputs): string {
  const isBareName = !value.includes('/') && !value.includes('\\');
  const found = isBareName ? findOnPath(value, inputs.env, inputs.platform) : isExecutableFile(value, inputs.platform) ? path.resolve(value) : undefined;
  if (!found) {
    throw new DependencyMissingError(
      `${varName} is set to "${value}", but no executable file is there. Point ${varName} at the executable, or unset it to use the one on PATH.`,
    );
  }
  return found;
}

/**
 * Binary resolution, without caching (tests call this with a fake environment).
 * ffmpeg: FFMPEG_PATH → ffmpeg-static's binary if it was downloaded → `ffmpeg` on PATH.
 * ffprobe: FFPROBE_PATH → `ffprobe` beside the chosen ffmpeg → `ffprobe` on PATH → none (probe with ffmpeg).
 */
export function resolveBinaries(inputs: ResolveInputs): FfmpegBinaries {
  const { env, platform } = inputs;
  let ffmpegPath: string | undefined;
  let ffmpegSource: FfmpegBinaries['ffmpegSource'] = 'PATH';
  if (env.FFMPEG_PATH) {
    ffmpegPath = fromEnvVar('FFMPEG_PATH', env.FFMPEG_PATH, inputs);
    ffmpegSource = 'FFMPEG_PATH';
  } else if (inputs.ffmpegStaticPath && isExecutableFile(inputs.ffmpegStaticPath, platform)) {
    ffmpegPath = inputs.ffmpegStaticPath;
    ffmpegSource = 'ffmpeg-static';
  } else {
    ffmpegPath = findOnPath('ffmpeg', env, platform);
  }
  if (!ffmpegPath) {
    throw new DependencyMissingError(`ffmpeg was not found (not in FFMPEG_PATH, not downloaded by ffmpeg-static, not on PATH): ${INSTALL_HINT}.`);
  }

  let ffprobePath: string | undefined;
  if (env.FFPROBE_PATH) {
    ffprobePath = fromEnvVar('FFPROBE_PATH', env.FFPROBE_PATH, inputs);
  } else {
    const beside = executableNames('ffprobe', env, platform)
      .map((name) => path.join(path.dirname(ffmpegPath), name))
      .find((candidate) => isExecutableFile(candidate, platform));
    ffprobePath = beside ?? findOnPath('ffprobe', env, platform);
  }
  return { ffmpegPath, ffmpegSource, ...(ffprobePath ? { ffprobePath } : {}) };
}

let cachedBinaries: FfmpegBinaries | undefined;

/** The resolved binaries, looked up once per process. */
export function ffmpegBinaries(): FfmpegBinaries {
  cachedBinaries ??= resolveBinaries({ env: process.env, ffmpegStaticPath, platform: process.platform });
  return cachedBinaries;
}

/** Forget the cached resolution (after changing FFMPEG_PATH / FFPROBE_PATH at runtime). */
export function clearBinaryCache(): void {
  cachedBinaries = undefined;
}

export interface ToolResult {
  /** Exit code; undefined when the process was killed (see timedOut). */
  code?: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const MAX_CAPTURE_CHARS = 8 * 1024 * 1024;

/** Runs a short-lived tool (ffprobe, `ffmpeg -i`) to completion and captures its text output. */
export function runTool(file: string, args: readonly string[], options: { timeoutMs?: number } = {}): Promise<ToolResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      if (stdout.length < MAX_CAPTURE_CHARS) stdout += text;
    });
    child.stderr.on('data', (text: string) => {
      if (stderr.length < MAX_CAPTURE_CHARS) stderr += text;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new DependencyMissingError(`Could not start "${file}" (${err.code ?? err.message}): ${INSTALL_HINT}.`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ...(code === null ? {} : { code }), stdout, stderr, timedOut });
    });
  });
}

/** ffmpeg failed while decoding; decode.ts turns this into an InvalidAudioError naming the file. */
export class FfmpegRunError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'FfmpegRunError';
  }
}

export interface PcmDecodeSpec {
  /** Absolute path of the input file. */
  input: string;
  sampleRate: number;
  /** Decode this input channel (0-based) instead of the downmix. */
  channel?: number;
}

export interface PcmDecodeRun {
  /** Raw float32 little-endian mono samples, with back-pressure (ffmpeg blocks while nobody reads). */
  stream: Readable;
  /** Resolves when ffmpeg exits 0; rejects with FfmpegRunError (or DependencyMissingError) otherwise. Never left unhandled. */
  done: Promise<void>;
  /** Kills ffmpeg (now, or as soon as it starts) and ends the stream; safe to call repeatedly. */
  kill(): void;
}

/** 1 MiB between ffmpeg and the consumer: about 16 s of 16 kHz float32. */
const PIPE_HIGH_WATER_MARK = 1 << 20;

/**
 * Starts ffmpeg decoding the first audio stream of `input` to mono float32 at `sampleRate`
 * (downmixed with `-ac 1`, or one channel picked with a pan filter).
 */
export function startPcmDecode(spec: PcmDecodeSpec): PcmDecodeRun {
  const { ffmpegPath } = ffmpegBinaries();
  // autoDestroy off: fluent-ffmpeg treats the output stream's 'close' as "consumer gone" and kills
  // ffmpeg 20 ms later, which could race a clean exit; the stream now closes only through kill().
  const stream = new PassThrough({ highWaterMark: PIPE_HIGH_WATER_MARK, autoDestroy: false });
  // Failures also reach the consumer through `done`; this keeps one that arrives after the consumer
  // stopped reading from becoming an uncaught 'error' event.
  stream.on('error', () => undefined);
  const command = Ffmpeg({ stdoutLines: 200 })
    .setFfmpegPath(ffmpegPath)
    .input(spec.input)
    .inputOptions(['-nostdin', '-hide_banner', '-loglevel', 'error'])
    // -flush_packets 0: fill ffmpeg's 32 KiB output buffer before writing. By default it flushes every
    // packet into a pipe (~3 KiB), and the per-chunk cost in Node then doubles the decode time.
    .outputOptions(['-map', '0:a:0', '-vn', '-sn', '-dn', '-flush_packets', '0'])
    .audioFrequency(spec.sampleRate)
    .audioCodec('pcm_f32le')
    .format('f32le');
  if (spec.channel === undefined) command.audioChannels(1);
  else command.audioFilters(`pan=mono|c0=c${spec.channel}`);

  let killed = false;
  let running = false;
  const kill = (): void => {
    if (killed) return;
    killed = true;
    if (running) command.kill('SIGKILL');
    stream.destroy();
  };
  command.on('start', () => {
    running = true;
    if (killed) command.kill('SIGKILL');
  });

  const done = new Promise<void>((resolve, reject) => {
    command.on('end', () => {
      running = false;
      resolve();
    });
    command.on('error', (err: NodeJS.ErrnoException, _stdout: string | null, stderr: string | null) => {
      running = false;
      const failure =
        err.code === 'ENOENT' || err.code === 'EACCES'
          ? new DependencyMissingError(`Could not start "${ffmpegPath}" (${err.code}): ${INSTALL_HINT}.`)
          : new FfmpegRunError(err.message, stderr ?? '');
      // Without this a failed spawn would leave the consumer waiting on a stream that never ends.
      stream.destroy(failure);
      reject(failure);
    });
  });
  done.catch(() => undefined);

  command.pipe(stream, { end: true });
  return { stream, done, kill };
}

/** Lines ffmpeg prints that never explain a failure. */
const NOISE = [
  /^At least one output file must be specified/,
  /^Conversion failed!?$/,
  /^Error while (?:decoding|filtering|opening|processing)/,
  /^Guessed Channel Layout/,
  /Cannot check for SPDIF/,
  /^Exiting normally/,
];

/**
 * The most useful part of ffmpeg/ffprobe's stderr, for quoting in an error message: the specific
 * component message (e.g. "moov atom not found") then the generic one ("Invalid data found when
 * processing input"), with addresses and the file path stripped. Empty when nothing useful was said.
 */
export function summarizeStderr(stderr: string, filePath?: string): string {
  const picked: string[] = [];
  for (const raw of stderr.split(/\r?\n|\r/)) {
    if (!raw.trim() || /^\s/.test(raw)) continue; // blank lines and indented info (metadata, stream lists)
    let line = raw.replace(/^\[[^\]@]*@ 0x[0-9a-f]+\]\s*/i, '').trim();
    if (filePath && line.startsWith(`${filePath}: `)) line = line.slice(filePath.length + 2);
    line = line.replace(/\.$/, '');
    if (!line || NOISE.some((re) => re.test(line)) || picked.includes(line)) continue;
    picked.push(line);
  }
  const text = picked.slice(0, 3).join('; ');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
