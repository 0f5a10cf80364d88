import type { Redis } from 'ioredis';

/** Hits counted in the current window of a key, and the milliseconds until that window ends. */
export interface WindowCount {
  hits: number;
  msLeft: number;
}

/** In-process fixed windows, from each key's first hit: exact within one process (every count is synchronous). */
export class LocalWindows {
  private readonly windows = new Map<string, { hits: number; endsAt: number }>();
  private lastSweep = Date.now();

  hit(key: string, windowMs: number, now = Date.now()): WindowCount {
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      window = { hits: 0, endsAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.hits += 1;
    if (now - this.lastSweep >= 30_000) this.sweep(now);
    return { hits: window.hits, msLeft: window.endsAt - now };
  }

  get size(): number {
    return this.windows.size;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
  }
}

/**
 * One atomic step in Redis: add the hits, start the window with the first one. INCRBY and PEXPIRE in one script, so
 * that of any number of parallel hits on any number of instances exactly `limit` see a count within the limit, and a
 * key never outlives its window (a key left without expiry is repaired here too).
 */
const HIT_SCRIPT = `
local hits = redis.call('INCRBY', KEYS[1], ARGV[2])
local ms = redis.call('PTTL', KEYS[1])
if ms < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ms = tonumber(ARGV[1])
end
return {hits, ms}`;

interface RedisHit {
  makeplusRateHit(key: string, windowMs: number, hits: number): Promise<[number, number]>;
}

function withHitCommand(redis: Redis): Redis & RedisHit {
  if (!('makeplusRateHit' in redis)) redis.defineCommand('makeplusRateHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
  return redis as Redis & RedisHit;
}

/** Fixed windows from each key's first hit, counted in Redis by one Lua script: exact across instances. */
export class RedisWindows {
  private readonly redis: Redis & RedisHit;

  constructor(redis: Redis) {
    this.redis = withHitCommand(redis);
  }

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    const [hits, msLeft] = await this.redis.makeplusRateHit(key, windowMs, 1);
    return { hits: Number(hits), msLeft: Number(msLeft) };
  }
}

interface SyncedWindow {
  windowMs: number;
  endsAt: number;
  /** The key's total in Redis at the last flush (every instance's flushed hits). */
  known: number;
  /** Hits of this instance sent to Redis, not acknowledged yet. */
  inFlight: number;
  /** Hits of this instance not sent yet. */
  pending: number;
}

/**
 * Approximate shared windows for hot paths (door scans, the general limits): a hit is counted in memory, with no I/O,
 * and every `syncMs` each instance adds its new hits to the key's window in Redis (one pipeline, the script above
 * once for every key hit since the last flush) and learns the total of all instances and when the shared window
 * ends. Across N instances a key can overshoot by what the other instances counted during one sync interval. While
 * Redis is away the flushes fail and each instance goes on with its own counts (a local limiter), adding them up when
 * Redis is back.
 */
export class SyncedWindows {
  private readonly windows = new Map<string, SyncedWindow>();
  private readonly redis: (Redis & RedisHit) | null;
  private flushing = false;

  constructor(
    redis: Redis | null,
    private readonly onError: (error: Error) => void,
  ) {
    this.redis = redis ? withHitCommand(redis) : null;
  }

  hit(key: string, windowMs: number, now = Date.now()): WindowCount {
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      window = { windowMs, endsAt: now + windowMs, known: 0, inFlight: 0, pending: 0 };
      this.windows.set(key, window);
    }
    window.pending += 1;
    return { hits: window.known + window.inFlight + window.pending, msLeft: window.endsAt - now };
  }

  get size(): number {
    return this.windows.size;
  }

  /** Drops the ended windows; with Redis, sends the new hits and learns the totals. */
  async flush(now = Date.now()): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      const batch: { key: string; window: SyncedWindow; sent: number }[] = [];
      for (const [key, window] of this.windows) {
        if (window.endsAt <= now) this.windows.delete(key);
        else if (this.redis && window.pending > 0) batch.push({ key, window, sent: window.pending });
      }
      if (!this.redis || batch.length === 0) return;
      const redis = this.redis;
      const results = await Promise.allSettled(
        batch.map(({ key, window, sent }) => {
          window.pending -= sent;
          window.inFlight += sent;
          return redis.makeplusRateHit(key, window.windowMs, sent);
        }),
      );
      const at = Date.now();
      batch.forEach(({ window, sent }, i) => {
        window.inFlight -= sent;
        const result = results[i] as PromiseSettledResult<[number, number]>;
        if (result.status === 'fulfilled') {
          // Redis holds the shared window: its total and its end (it may have started on another instance).
          window.known = Number(result.value[0]);
          window.endsAt = at + Number(result.value[1]);
        } else {
          window.pending += sent; // not counted in Redis: sent again at the next flush
          this.onError(result.reason as Error);
        }
      });
    } finally {
      this.flushing = false;
    }
  }
}
