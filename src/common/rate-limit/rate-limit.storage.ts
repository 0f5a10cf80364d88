import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { Redis } from 'ioredis';
import { ThrottledWarning } from '../throttled-warning';
import type { AppConfig, RateLimitName } from '../../config/app-config';
import { AppException, ErrorCode } from '../errors/app.exception';
import { RATE_LIMIT_POLICIES, type RateLimitPolicy } from './rate-limit.policies';
import { LocalWindows, RedisWindows, SyncedWindows, type WindowCount } from './rate-limit.windows';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** Seconds a client is told to wait when a login cannot be counted because Redis is away. */
export const REDIS_DOWN_RETRY_AFTER_SEC = 5;

/**
 * The storage of @nestjs/throttler: fixed windows counted in Redis when `REDIS_URL` is set (so the limits hold across
 * instances), else in this process. Each limit follows its policy (rate-limit.policies.ts). A Redis outage never
 * throws anything but the 503 of a fail-closed limit: the client has no offline queue and a short command timeout,
 * its errors are logged (at most one warning per 10 s), and nothing is left unhandled.
 */
export class RateLimitStorage implements ThrottlerStorage, OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('RateLimit');
  private readonly warnings = new ThrottledWarning(this.log);
  private readonly redis: Redis | null;
  private readonly exactRedis: RedisWindows | null;
  private readonly local = new LocalWindows();
  readonly synced: SyncedWindows;
  private readonly prefix: string;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly config: AppConfig) {
    this.prefix = `${config.redisPrefix}:rl:`;
    this.redis = config.redisUrl
      ? new Redis(config.redisUrl, {
          lazyConnect: true,
          enableOfflineQueue: false,
          commandTimeout: config.rateLimitRedisTimeoutMs,
          connectTimeout: 2000,
          maxRetriesPerRequest: 0,
        })
      : null;
    this.redis?.on('error', (error: Error) => this.warn(error));
    this.exactRedis = this.redis ? new RedisWindows(this.redis) : null;
    this.synced = new SyncedWindows(this.redis, (error) => this.warn(error));
  }

  async onModuleInit(): Promise<void> {
    // Not connected yet, the limits behave as with Redis down (and the client keeps trying): boot does not wait.
    await this.redis?.connect().catch((error: Error) => this.warn(error));
    this.timer = setInterval(() => void this.synced.flush(), this.config.rateLimitSyncMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.synced.flush();
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    _blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const policy = RATE_LIMIT_POLICIES[throttlerName as RateLimitName];
    const count =
      policy.store === 'synced'
        ? this.synced.hit(this.prefix + key, ttl)
        : await this.exact(this.prefix + key, ttl, policy);
    const seconds = Math.max(1, Math.ceil(count.msLeft / 1000));
    const isBlocked = count.hits > limit;
    return { totalHits: count.hits, timeToExpire: seconds, isBlocked, timeToBlockExpire: isBlocked ? seconds : 0 };
  }

  private async exact(key: string, windowMs: number, policy: RateLimitPolicy): Promise<WindowCount> {
    if (!this.exactRedis) return this.local.hit(key, windowMs);
    try {
      return await this.exactRedis.hit(key, windowMs);
    } catch (error) {
      this.warn(error as Error);
      if (policy.redisDown === 'open') return this.local.hit(key, windowMs);
      throw new AppException(503, ErrorCode.UNAVAILABLE, 'Rate limiting is unavailable, retry shortly', undefined, {
        'Retry-After': String(REDIS_DOWN_RETRY_AFTER_SEC),
      });
    }
  }

  /** At most one warning per 10 s: an outage would otherwise log once per request. */
  private warn(error: Error): void {
    this.warnings.warn(
      { err: error.message },
      'Redis is away: fail-closed limits answer 503, the others count locally',
    );
  }
}
