import { describe as describeJobError } from '../jobs/job-service';
import { AppError, InvalidAudioError } from './errors';
import { redactUrl, sanitizeForClients } from './redact';

describe('sanitizeForClients', () => {
  it.each([
    ['ffprobe could not read "/srv/data/uploads/abc/original.mp3": Invalid data', 'ffprobe could not read "original.mp3": Invalid data'],
    ['connect ECONNREFUSED 127.0.0.1:5432', 'connect ECONNREFUSED [address]'],
    ['connect ECONNREFUSED ::1:5432', 'connect ECONNREFUSED [address]'],
    ['Cannot connect to PostgreSQL at db.internal:5432 (ECONNREFUSED).', 'Cannot connect to PostgreSQL at [address] (ECONNREFUSED).'],
    ['postgres://user:secret@db/x failed', '[url] failed'],
    ['File C:\\Users\\bob\\a.wav is missing', 'File a.wav is missing'],
  ])('%s', (input, expected) => {
    expect(sanitizeForClients(input)).toBe(expected);
    expect(sanitizeForClients(expected)).toBe(expected); // idempotent
  });

  it('keeps what a person needs: times, ratios, routes and setting names', () => {
    const text = 'Turn at 10:30:15 covers 1/2 of the call; POST /uploads again (JOB_MAX_ATTEMPTS = 3).';
    expect(sanitizeForClients(text)).toBe(text);
  });

  it('caps the length', () => {
    expect(sanitizeForClients('x'.repeat(5000)).length).toBeLessThanOrEqual(600);
  });
});

describe('redactUrl (log lines)', () => {
  it.each([
    ['GET /media/a/audio?token=abc123&x=1', 'GET /media/a/audio?token=[redacted]&x=1'],
    ['Authorization: Bearer abc.def-123', 'Authorization: Bearer [redacted]'],
    ['redis error at redis://default:s3cret@cache:6379/0', 'redis error at redis://default:[redacted]@cache:6379/0'],
    ['postgres://app:p%40ss@db:5432/x?schema=a', 'postgres://app:[redacted]@db:5432/x?schema=a'],
    ['redis://cache:6379 and postgres://app@db/x keep no secret', 'redis://cache:6379 and postgres://app@db/x keep no secret'],
  ])('%s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});

describe('job error messages for clients', () => {
  it('strips the server path from an AppError, keeping its code and advice', () => {
    const { code, message } = describeJobError(new InvalidAudioError('"/var/lib/app/uploads/u1/original.mp3" is not audio; upload a recording.'));
    expect(code).toBe('INVALID_AUDIO');
    expect(message).toBe('"original.mp3" is not audio; upload a recording.');
  });

  it('replaces infrastructure messages (host, port, driver text) with a fixed text', () => {
    const { code, message } = describeJobError(new AppError('DATABASE_UNAVAILABLE', 'Cannot connect to PostgreSQL at 10.1.2.3:5432 (ECONNREFUSED).'));
    expect(code).toBe('DATABASE_UNAVAILABLE');
    expect(message).not.toMatch(/10\.1\.2\.3|5432|PostgreSQL/);
    expect(message).toMatch(/database could not be reached/);
  });

  it('shows an unexpected error only by its system code, never its text', () => {
    const error = Object.assign(new Error('insert into "turns" ("id") values ($1) - connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const { code, message } = describeJobError(error);
    expect(code).toBe('INTERNAL');
    expect(message).toContain('(ECONNREFUSED)');
    expect(message).not.toMatch(/insert|turns|127\.0\.0\.1|5432/);
  });
});
