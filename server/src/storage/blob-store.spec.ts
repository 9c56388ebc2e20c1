import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { InvalidArgumentError } from '../common/errors';
import { LocalBlobStore } from './blob-store';

let root: string;
let store: LocalBlobStore;

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'blob-store-'));
  store = new LocalBlobStore(path.join(root, 'data'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

async function put(key: string, bytes: Buffer): Promise<void> {
  await pipeline(Readable.from([bytes.subarray(0, 3), bytes.subarray(3)]), store.createWriteStream(key));
}

async function read(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test('writes a blob into nested folders, stats, reads it whole and by inclusive range', async () => {
  await put('uploads/u1/original.mp3', Buffer.from('0123456789'));
  expect(readFileSync(path.join(root, 'data', 'uploads', 'u1', 'original.mp3'), 'utf8')).toBe('0123456789');
  const info = await store.stat('uploads/u1/original.mp3');
  expect(info?.bytes).toBe(10);
  expect(Math.abs(info!.modifiedAt.getTime() - Date.now())).toBeLessThan(60_000);
  expect((await read(store.createReadStream('uploads/u1/original.mp3'))).toString()).toBe('0123456789');
  expect((await read(store.createReadStream('uploads/u1/original.mp3', { start: 2, end: 4 }))).toString()).toBe('234');
  expect(store.absolutePath('uploads/u1/original.mp3')).toBe(path.join(root, 'data', 'uploads', 'u1', 'original.mp3'));
});

test('a write destroyed before it finishes leaves no file (not even the temporary one)', async () => {
  const writer = store.createWriteStream('uploads/u2/original.wav');
  await new Promise<void>((resolve) => writer.write(Buffer.alloc(1000), () => resolve()));
  const folder = path.join(root, 'data', 'uploads', 'u2');
  expect(readdirSync(folder)).toHaveLength(1); // the .partial file
  expect(existsSync(path.join(folder, 'original.wav'))).toBe(false);
  const errors: Error[] = [];
  writer.on('error', (err) => errors.push(err));
  writer.destroy(new Error('client went away'));
  await new Promise((resolve) => writer.on('close', resolve));
  expect(errors.map((e) => e.message)).toEqual(['client went away']);
  expect(readdirSync(folder)).toEqual([]);
  expect(await store.stat('uploads/u2/original.wav')).toBeUndefined();
});

test('stat of a missing blob is undefined, remove and removePrefix of missing ones are no-ops', async () => {
  expect(await store.stat('nope/x.bin')).toBeUndefined();
  await expect(store.remove('nope/x.bin')).resolves.toBeUndefined();
  await expect(store.removePrefix('nope')).resolves.toBeUndefined();
});

test('removePrefix removes one folder and nothing beside it', async () => {
  await put('meetings/m1/playable.webm', Buffer.from('a'));
  await put('meetings/m1/peaks.dat', Buffer.from('b'));
  await put('meetings/m10/peaks.dat', Buffer.from('c'));
  await store.removePrefix('meetings/m1/');
  expect(await store.stat('meetings/m1/peaks.dat')).toBeUndefined();
  expect(await store.stat('meetings/m10/peaks.dat')).toEqual(expect.objectContaining({ bytes: 1 }));
  await store.remove('meetings/m10/peaks.dat');
  expect(await store.stat('meetings/m10/peaks.dat')).toBeUndefined();
});

test.each(['../escape.txt', 'a/../../b', '/etc/passwd', 'a//b', './a', 'a\\..\\b', '', 'a/x.partial-123'])('refuses key %p', (key) => {
  expect(() => store.absolutePath(key)).toThrow(InvalidArgumentError);
  expect(() => store.createWriteStream(key)).toThrow(InvalidArgumentError);
  expect(() => store.createReadStream(key)).toThrow(InvalidArgumentError);
});

test('refuses removePrefix of the whole store or outside it', async () => {
  await expect(store.removePrefix('')).rejects.toThrow(InvalidArgumentError);
  await expect(store.removePrefix('/')).rejects.toThrow(InvalidArgumentError);
  await expect(store.removePrefix('..')).rejects.toThrow(InvalidArgumentError);
});

test('a missing blob read errors with ENOENT', async () => {
  await expect(read(store.createReadStream('missing.bin'))).rejects.toMatchObject({ code: 'ENOENT' });
});

test('stat does not report folders as blobs', async () => {
  await put('a/b/c.bin', Buffer.from('x'));
  expect(await store.stat('a/b')).toBeUndefined();
  symlinkSync(path.join(root, 'data', 'a', 'b', 'c.bin'), path.join(root, 'data', 'link.bin'));
  expect((await store.stat('link.bin'))?.bytes).toBe(1);
});
