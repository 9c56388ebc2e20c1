import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type Redis from 'ioredis';
import { RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export interface RateLimitOptions {
  /** Requests allowed per credential in each window. */
  points: number;
  windowSec: number;
  /** Shared counters across processes (scale-out with REDIS_URL); in memory per process without. */
  redis?: Redis;
}

export function createRateLimiter(options: RateLimitOptions): RateLimiterAbstract {
  const base = { points: options.points, duration: options.windowSec, keyPrefix: 'rate-limit' };
  return options.redis ? new RateLimiterRedis({ ...base, storeClient: options.redis }) : new RateLimiterMemory(base);
}

/**
 * Per-token limit: requests are counted by a hash of their credential (the raw token is never a
 * key), or by address when they carry none. Beyond it: 429 with Retry-After in seconds.
 */
export function rateLimitMiddleware(limiter: RateLimiterAbstract) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const credential = req.headers.authorization ?? (typeof req.query.token === 'string' ? req.query.token : undefined);
    const key = credential ? 'token:' + createHash('sha256').update(credential).digest('hex').slice(0, 32) : `ip:${req.ip}`;
    try {
      await limiter.consume(key);
      next();
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) return next(rejection);
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      res.setHeader('Retry-After', String(retryAfter));
      res.status(429).json({
        error: {
          code: 'RATE_LIMITED',
          message: `Too many requests for this token: the limit is ${limiter.points} per ${limiter.duration} s. Retry after ${retryAfter} s.`,
        },
      });
    }
  };
}
