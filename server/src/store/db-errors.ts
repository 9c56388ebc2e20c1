/**
 * Driver errors → AppErrors with stable codes. Messages name the host, port, database and user,
 * never the password or the full URL.
 */
import { AppError } from '../common/errors';

export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

/** `code` of a driver error; Node reports a failed dual-stack connect as an AggregateError. */
function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  if (typeof code === 'string' && code) return code;
  if (Array.isArray(errors) && errors.length > 0) return errorCode(errors[0]);
  return undefined;
}

export function postgresConnectionError(target: PostgresTarget, error: unknown): AppError {
  const where = `PostgreSQL at ${target.host}:${target.port}`;
  const code = errorCode(error);
  let message: string;
  if (code === '3D000') {
    message = `${where} has no database "${target.database}" (3D000). Create it (createdb ${target.database}) or fix the database name in DATABASE_URL.`;
  } else if (code === '28P01' || code === '28000') {
    message = `${where} refused the credentials of user "${target.user}" (${code}). Check the user and password in DATABASE_URL.`;
  } else if (code === '53300') {
    message = `${where} has no free connection slots (53300). Raise max_connections or lower the number of servers using it.`;
  } else {
    const reason = code ?? (error instanceof Error && /timeout/i.test(error.message) ? 'connect timeout' : 'connection failed');
    message = `Cannot connect to ${where} (${reason}). Check DATABASE_URL or start the database.`;
  }
  return new AppError('DATABASE_UNAVAILABLE', message, { cause: error });
}

export function sqliteOpenError(file: string, error: unknown): AppError {
  const code = errorCode(error) ?? 'open failed';
  const detail = error instanceof Error ? `: ${error.message}` : '';
  return new AppError(
    'DATABASE_UNAVAILABLE',
    `Cannot open the SQLite database at ${file} (${code}${detail}). Check that DATA_DIR exists and is writable, or set DATABASE_URL.`,
    { cause: error },
  );
}

export type ConstraintKind = 'unique' | 'foreignKey';

export function constraintKind(error: unknown): ConstraintKind | undefined {
  const code = errorCode(error);
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') return 'unique';
  if (code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreignKey';
  return undefined;
}
