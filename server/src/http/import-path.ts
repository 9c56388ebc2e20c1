/**
 * Server-side batch imports read files from IMPORT_DIR only. The requested path is checked twice:
 * lexically (no `..` escapes, absolute paths must be under IMPORT_DIR) and after resolving symlinks
 * (realpath), so a link inside IMPORT_DIR that points elsewhere is refused too.
 */
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError, InvalidArgumentError } from '../common/errors';

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

function forbidden(requested: string, why: string): AppError {
  return new AppError(
    'FORBIDDEN_PATH',
    `Import path "${requested}" is refused: ${why}. Imports may only read files inside IMPORT_DIR; copy the file there and pass its path relative to IMPORT_DIR.`,
  );
}

/**
 * The real absolute path of `requested` (relative to `importDir`, or absolute inside it).
 * Throws AppError IMPORT_DISABLED when importDir is unset or missing, FORBIDDEN_PATH for anything
 * outside it (`..`, absolute paths elsewhere, symlinks that lead out, devices/sockets/FIFOs),
 * FILE_NOT_FOUND when there is no such file, INVALID_ARGUMENT for a folder or an empty path.
 */
export async function resolveImportPath(importDir: string | undefined, requested: string): Promise<string> {
  if (!importDir)
    throw new AppError('IMPORT_DISABLED', 'Server-side imports are disabled: set IMPORT_DIR to the folder that imports may read, and restart the server.');
  if (typeof requested !== 'string' || requested.trim() === '')
    throw new InvalidArgumentError(`Expected the path of a file inside IMPORT_DIR, received ${JSON.stringify(requested)}.`);
  if (requested.includes('\0')) throw forbidden(requested.replace(/\0/g, '\\0'), 'it contains a NUL character');

  let root: string;
  try {
    root = await realpath(importDir);
  } catch {
    throw new AppError(
      'IMPORT_DISABLED',
      `IMPORT_DIR is set to "${importDir}", which does not exist or cannot be read. Create it or point IMPORT_DIR at an existing folder, and restart.`,
    );
  }
  // Absolute paths may name IMPORT_DIR as configured or as resolved (it may itself be a symlink).
  const configuredRoot = path.resolve(importDir);
  const candidate = path.isAbsolute(requested) ? path.resolve(requested) : path.resolve(root, requested);
  if (candidate === root || candidate === configuredRoot)
    throw new InvalidArgumentError(`Import path "${requested}" is IMPORT_DIR itself; pass the path of a recording inside it.`);
  if (!isInside(root, candidate) && !isInside(configuredRoot, candidate)) {
    throw forbidden(requested, path.isAbsolute(requested) ? 'it is not inside IMPORT_DIR' : 'it leads outside IMPORT_DIR');
  }

  let real: string;
  try {
    real = await realpath(candidate);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new AppError('FILE_NOT_FOUND', `No file "${requested}" in IMPORT_DIR (or a symlink there points at nothing). List IMPORT_DIR to check the name.`);
    }
    if (code === 'ELOOP') throw forbidden(requested, 'it is a symlink loop');
    throw forbidden(requested, `it cannot be read (${code ?? 'unknown error'})`);
  }
  if (!isInside(root, real)) throw forbidden(requested, 'it is a symlink (or goes through one) that leads outside IMPORT_DIR');

  const info = await stat(real);
  if (info.isDirectory()) throw new InvalidArgumentError(`Import path "${requested}" is a folder; pass the path of a recording inside it.`);
  if (!info.isFile()) throw forbidden(requested, 'it is not a regular file (a device, socket or FIFO)');
  return real;
}
