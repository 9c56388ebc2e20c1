/**
 * Just enough RIFF/WAVE for the benchmarks: read the format of a file (is it the 16 kHz mono s16 PCM the
 * peer insists on?), load small s16 files as float samples, and write the header of a file whose samples
 * are streamed after it. The engine itself never reads WAV this way (it decodes everything with ffmpeg).
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';

export interface WavFormat {
  /** 1 = integer PCM, 3 = IEEE float, 0xFFFE = extensible. */
  audioFormat: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Byte offset of the first sample. */
  dataOffset: number;
  /** Bytes of sample data (clipped to the file's real size, which a streamed header may overstate). */
  dataBytes: number;
  durationSec: number;
}

/** Enough bytes to reach the data chunk of any file written by ffmpeg or sox (a LIST chunk may precede it). */
const HEADER_PROBE_BYTES = 64 * 1024;

/** The format of a WAV file, from its header only; undefined when it is not RIFF/WAVE. */
export function readWavFormat(file: string): WavFormat | undefined {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(HEADER_PROBE_BYTES);
    const got = readSync(fd, head, 0, head.length, 0);
    return parseWavHeader(head.subarray(0, got), fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

/** True when the peer (sherpa-onnx readWave) can take the file as it is. */
export function isPeerReadableWav(format: WavFormat | undefined): boolean {
  return format !== undefined && format.audioFormat === 1 && format.channels === 1 && format.sampleRate === 16000 && format.bitsPerSample === 16;
}

/** A 16-bit PCM mono WAV file as floats in [-1, 1); for the small source utterances of the synthetic meeting. */
export function readWavMono16(file: string): { samples: Float32Array; sampleRate: number } {
  const bytes = readFileSync(file);
  const format = parseWavHeader(bytes, bytes.length);
  if (!format || format.audioFormat !== 1 || format.bitsPerSample !== 16 || format.channels !== 1) {
    throw new Error(`${file}: expected a 16-bit PCM mono WAV file`);
  }
  const count = Math.floor(format.dataBytes / 2);
  const samples = new Float32Array(count);
  for (let i = 0; i < count; i++) samples[i] = bytes.readInt16LE(format.dataOffset + 2 * i) / 32768;
  return { samples, sampleRate: format.sampleRate };
}

/** The 44-byte header of a 16-bit PCM mono file with `numSamples` samples (known up front, so no seek-back). */
export function wavHeaderMono16(numSamples: number, sampleRate: number): Buffer {
  const dataBytes = numSamples * 2;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

function parseWavHeader(head: Buffer, fileSize: number): WavFormat | undefined {
  if (head.length < 12 || head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE') return undefined;
  let fmt: Omit<WavFormat, 'dataOffset' | 'dataBytes' | 'durationSec'> | undefined;
  let offset = 12;
  while (offset + 8 <= head.length) {
    const id = head.toString('ascii', offset, offset + 4);
    const size = head.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ' && body + 16 <= head.length) {
      fmt = {
        audioFormat: head.readUInt16LE(body),
        channels: head.readUInt16LE(body + 2),
        sampleRate: head.readUInt32LE(body + 4),
        bitsPerSample: head.readUInt16LE(body + 14),
      };
    } else if (id === 'data' && fmt) {
      const dataBytes = Math.min(size, fileSize - body);
      const bytesPerSecond = fmt.sampleRate * fmt.channels * (fmt.bitsPerSample / 8);
      return { ...fmt, dataOffset: body, dataBytes, durationSec: bytesPerSecond > 0 ? dataBytes / bytesPerSecond : 0 };
    }
    offset = body + size + (size % 2); // chunks are word-aligned
  }
  return undefined;
}
