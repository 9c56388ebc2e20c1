import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Reader } from 'protobufjs/minimal';

import { ffmpegBinaries } from '../../server/src/audio';

/** A fresh temporary folder for generated media; call the returned cleanup in afterAll. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the resolved ffmpeg binary (tests build their media with it). */
export function ffmpeg(args: string[]): void {
  execFileSync(ffmpegBinaries().ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

/** Copies an ONNX model without its metadata_props (ModelProto field 14), to test the error path. */
export function writeModelWithoutMetadata(source: string, target: string): void {
  const bytes = readFileSync(source);
  const reader = Reader.create(bytes);
  const parts: Buffer[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    reader.skipType(tag & 7);
    if (tag >>> 3 !== 14) parts.push(bytes.subarray(start, reader.pos));
  }
  writeFileSync(target, Buffer.concat(parts));
}

/** A canonical 44-byte PCM WAV header (16 kHz mono s16) whose data chunk holds no samples: ffprobe accepts it, decoding fails. */
export function emptyWavHeader(): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // channels
  header.writeUInt32LE(16000, 24); // sample rate
  header.writeUInt32LE(32000, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(0, 40); // no samples
  return header;
}
