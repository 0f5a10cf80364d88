import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import { DomainEvents } from '../../common/events/domain-events';
import { closeRedis } from '../../common/redis';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import type { SessionState } from './sessions.service';

/** What stopped being true, told to every instance. */
type Invalidation =
  { sid: string } | { userId: string; exceptSid: string | null } | { eventId: string; userId?: string };

const MAX_ENTRIES = 100_000;

/**
 * Whether a state may be stored: a live session with its membership, or a revoked one (that never comes back). A
 * refusal that a later change can undo (no membership, inactive membership or account) is read again at every
 * request: adding someone back (user-assignments, a registration, a waitlist promotion, an import) then takes effect
 * at once, whichever path did it, without each having to evict.
 */
function lasting(state: SessionState): boolean {
  if (state.revoked) return true;
  return state.userActive && (state.eventId === null || (state.role !== null && state.membershipActive));
}

/**
 * A short-lived cache of the guard's session check (session, user, membership), so that a busy door does not read
 * the same three rows for every scan. It never outlives a change: logout, refresh reuse, password change, role
 * changes and event deletion evict at once, on this instance directly and on the others through Redis when
 * `REDIS_URL` is set; the TTL (`AUTH_CACHE_TTL_MS`) bounds staleness should a message be lost. A read that raced
 * with an eviction is not stored (generation check), so a stale row cannot come back after its eviction.
 *
 * Requests that miss the same session while its read is running share that read (when no eviction happened since it
 * started): at expiry, a door app's 50 requests in flight make one query, not 50 that queue ahead of the door
 * decisions for the pool's connections.
 */
@Injectable()
export class SessionStateCache implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('AuthCache');
  private readonly entries = new Map<string, { state: SessionState; until: number }>();
  /** Reads running now, each with the generation it started in (shared only within that generation). */
  private readonly loading = new Map<string, { generation: number; state: Promise<SessionState | null> }>();
  private generation = 0;
  private redis: { pub: Redis; sub: Redis; channel: string } | null = null;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly events: DomainEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get enabled(): boolean {
    return this.config.authCacheTtlMs > 0;
  }

  async onModuleInit(): Promise<void> {
    const now = { immediate: true };
    this.unsubscribe.push(
      this.events.on(
        'auth.revoked',
        (e) =>
          this.invalidate('sessionId' in e ? { sid: e.sessionId } : { userId: e.userId, exceptSid: e.exceptSessionId }),
        now,
      ),
      this.events.on('membership.changed', (e) => this.invalidate({ eventId: e.eventId, userId: e.userId }), now),
      this.events.on('event.deleted', (e) => this.invalidate({ eventId: e.eventId }), now),
    );
    if (!this.enabled || !this.config.redisUrl) return;
    const channel = `${this.config.redisPrefix}:auth-invalidate`;
    // No offline queue: while Redis is away, an eviction message fails at once (the TTL bounds what others miss)
    // instead of holding up the logout that sent it.
    const pub = new Redis(this.config.redisUrl, { enableOfflineQueue: false });
    const sub = new Redis(this.config.redisUrl);
    for (const client of [pub, sub]) {
      client.on('error', (error: Error) => this.log.warn({ err: error.message }, 'Redis connection problem'));
    }
    sub.on('message', (_channel: string, message: string) => {
      try {
        this.evict(JSON.parse(message) as Invalidation);
      } catch {
        this.log.warn('Ignored a malformed invalidation message');
      }
    });
    await sub.subscribe(channel);
    this.redis = { pub, sub, channel };
  }

  async onModuleDestroy(): Promise<void> {
    for (const off of this.unsubscribe) off();
    const redis = this.redis;
    this.redis = null;
    if (redis) await Promise.all([closeRedis(redis.pub), closeRedis(redis.sub)]);
  }

  /** The cached state, or the loader's answer (stored unless an eviction happened meanwhile). */
  async get(sid: string, load: () => Promise<SessionState | null>): Promise<SessionState | null> {
    if (!this.enabled) return load();
    const hit = this.entries.get(sid);
    if (hit && hit.until > Date.now()) return hit.state;
    const running = this.loading.get(sid);
    if (running && running.generation === this.generation) return running.state;
    const read = { generation: this.generation, state: this.read(sid, this.generation, load) };
    this.loading.set(sid, read);
    void read.state
      .catch(() => null)
      .then(() => {
        if (this.loading.get(sid) === read) this.loading.delete(sid);
      });
    return read.state;
  }

  /** Reads the state and stores it unless an eviction happened since `generation`. */
  private async read(
    sid: string,
    generation: number,
    load: () => Promise<SessionState | null>,
  ): Promise<SessionState | null> {
    const state = await load();
    if (state && generation === this.generation && lasting(state)) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(sid, { state, until: Date.now() + this.config.authCacheTtlMs });
    }
    return state;
  }

  /** Forgets everything on this instance (after a change made directly in the database, e.g. by tests). */
  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }

  /**
   * Evicts here at once, then tells the other instances; resolves once Redis has handed the message to them, so the
   * change is answered only after every instance has it on its way (or after a failure, bounded by the TTL).
   */
  async invalidate(what: Invalidation): Promise<void> {
    this.evict(what);
    if (!this.redis) return;
    await this.redis.pub.publish(this.redis.channel, JSON.stringify(what)).catch((error: Error) => {
      this.log.warn({ err: error.message }, 'Could not tell other instances; their cache expires by itself');
    });
  }

  private evict(what: Invalidation): void {
    this.generation += 1;
    if ('sid' in what) {
      this.entries.delete(what.sid);
      return;
    }
    for (const [sid, { state }] of this.entries) {
      const match =
        'exceptSid' in what
          ? state.userId === what.userId && sid !== what.exceptSid
          : state.eventId === what.eventId && (what.userId === undefined || state.userId === what.userId);
      if (match) this.entries.delete(sid);
    }
  }
}
