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
