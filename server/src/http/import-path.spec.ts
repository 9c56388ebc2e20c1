import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../common/errors';
import { resolveImportPath } from './import-path';

let base: string;
let importDir: string;

beforeAll(() => {
  base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'import-path-')));
  importDir = path.join(base, 'import');
  mkdirSync(path.join(importDir, 'calls', '2026'), { recursive: true });
  writeFileSync(path.join(importDir, 'calls', '2026', 'a.wav'), 'x');
  writeFileSync(path.join(importDir, 'top.mp3'), 'x');
  writeFileSync(path.join(importDir, '..dots.wav'), 'x');
  writeFileSync(path.join(base, 'secret.txt'), 'outside');
  mkdirSync(path.join(base, 'import-evil'));
  writeFileSync(path.join(base, 'import-evil', 'b.wav'), 'x');
  mkdirSync(path.join(base, 'elsewhere'));
  writeFileSync(path.join(base, 'elsewhere', 'c.wav'), 'x');
  // Links: one that stays inside, one file link out, one folder link out, a dangling one, a loop.
  symlinkSync(path.join(importDir, 'top.mp3'), path.join(importDir, 'inside-link.mp3'));
  symlinkSync(path.join(base, 'secret.txt'), path.join(importDir, 'out-link.wav'));
  symlinkSync(path.join(base, 'elsewhere'), path.join(importDir, 'out-dir'));
  symlinkSync(path.join(base, 'nothing.wav'), path.join(importDir, 'dangling.wav'));
  symlinkSync(path.join(importDir, 'loop-b'), path.join(importDir, 'loop-a'));
  symlinkSync(path.join(importDir, 'loop-a'), path.join(importDir, 'loop-b'));
  execFileSync('mkfifo', [path.join(importDir, 'pipe.wav')]);
  // IMPORT_DIR configured through a symlink to the real folder.
  symlinkSync(importDir, path.join(base, 'import-alias'));
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return (err as AppError).code;
  }
  throw new Error('expected a rejection');
}

describe('accepted', () => {
  test.each([
    ['calls/2026/a.wav', 'calls/2026/a.wav'],
    ['./top.mp3', 'top.mp3'],
    ['calls/../top.mp3', 'top.mp3'], // `..` that stays inside is harmless
    ['inside-link.mp3', 'top.mp3'], // the real path is returned
    ['..dots.wav', '..dots.wav'], // a name that starts with two dots is not `..`
  ])('relative %p', async (requested, expected) => {
    expect(await resolveImportPath(importDir, requested)).toBe(path.join(importDir, expected));
  });

  test('an absolute path inside IMPORT_DIR', async () => {
    expect(await resolveImportPath(importDir, path.join(importDir, 'calls', '2026', 'a.wav'))).toBe(path.join(importDir, 'calls', '2026', 'a.wav'));
  });

  test('IMPORT_DIR that is itself a symlink, with relative and absolute paths through it', async () => {
    const alias = path.join(base, 'import-alias');
    expect(await resolveImportPath(alias, 'top.mp3')).toBe(path.join(importDir, 'top.mp3'));
    expect(await resolveImportPath(alias, path.join(alias, 'top.mp3'))).toBe(path.join(importDir, 'top.mp3'));
  });
});

describe('refused', () => {
  test.each([
    ['../secret.txt', /leads outside IMPORT_DIR/],
    ['calls/../../secret.txt', /leads outside IMPORT_DIR/],
    ['../import-evil/b.wav', /leads outside IMPORT_DIR/], // a sibling whose name starts like IMPORT_DIR
    ['out-link.wav', /symlink .*leads outside IMPORT_DIR/],
    ['out-dir/c.wav', /symlink .*leads outside IMPORT_DIR/],
    ['loop-a', /symlink loop/],
    ['pipe.wav', /not a regular file/],
  ])('%p with FORBIDDEN_PATH', async (requested, message) => {
    await expect(resolveImportPath(importDir, requested)).rejects.toThrow(message);
    expect(await codeOf(resolveImportPath(importDir, requested))).toBe('FORBIDDEN_PATH');
  });

  test('absolute paths outside IMPORT_DIR', async () => {
    for (const p of ['/etc/passwd', path.join(base, 'secret.txt'), path.join(base, 'import-evil', 'b.wav')]) {
      await expect(resolveImportPath(importDir, p)).rejects.toThrow(/is not inside IMPORT_DIR/);
      expect(await codeOf(resolveImportPath(importDir, p))).toBe('FORBIDDEN_PATH');
    }
  });

  test('IMPORT_DIR unset or missing: IMPORT_DISABLED saying to set it', async () => {
    await expect(resolveImportPath(undefined, 'top.mp3')).rejects.toThrow(/set IMPORT_DIR/);
    expect(await codeOf(resolveImportPath('', 'top.mp3'))).toBe('IMPORT_DISABLED');
    expect(await codeOf(resolveImportPath(path.join(base, 'no-such-dir'), 'top.mp3'))).toBe('IMPORT_DISABLED');
  });

  test('missing files and dangling links: FILE_NOT_FOUND', async () => {
    expect(await codeOf(resolveImportPath(importDir, 'calls/nope.wav'))).toBe('FILE_NOT_FOUND');
    expect(await codeOf(resolveImportPath(importDir, 'dangling.wav'))).toBe('FILE_NOT_FOUND');
  });

  test('a folder, an empty path or a NUL byte', async () => {
    await expect(resolveImportPath(importDir, 'calls')).rejects.toThrow(/is a folder/);
    expect(await codeOf(resolveImportPath(importDir, 'calls'))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(resolveImportPath(importDir, '  '))).toBe('INVALID_ARGUMENT');
    await expect(resolveImportPath(importDir, '.')).rejects.toThrow(/is IMPORT_DIR itself/);
    expect(await codeOf(resolveImportPath(importDir, 'top.mp3\0.txt'))).toBe('FORBIDDEN_PATH');
  });
});
