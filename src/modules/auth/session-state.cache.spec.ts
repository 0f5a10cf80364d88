import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainEvents } from '../../common/events/domain-events';
import type { AppConfig } from '../../config/app-config';
import { SessionStateCache } from './session-state.cache';
import type { SessionState } from './sessions.service';

const state = (role: SessionState['role']): SessionState => ({
  userId: 'u1',
  eventId: 'e1',
  revoked: false,
  userActive: true,
  isStaff: false,
  role,
  membershipActive: true,
});

function cache(ttlMs = 60_000): SessionStateCache {
  return new SessionStateCache(new DomainEvents(), { authCacheTtlMs: ttlMs, redisUrl: null } as unknown as AppConfig);
}

/** A loader whose reads the test answers by hand, counting them. */
function loader() {
  const pending: { resolve: (s: SessionState | null) => void; reject: (e: Error) => void }[] = [];
  return {
    pending,
    load: () => new Promise<SessionState | null>((resolve, reject) => pending.push({ resolve, reject })),
  };
}

describe('SessionStateCache', () => {
  it('requests that miss the same session while its read runs share that read', async () => {
    const c = cache();
    const l = loader();
    const answers = Array.from({ length: 50 }, () => c.get('s1', l.load));
    assert.equal(l.pending.length, 1, 'one read for 50 concurrent misses');
    l.pending[0]?.resolve(state('controlleur_des_badges'));
    for (const answer of await Promise.all(answers)) assert.equal(answer?.role, 'controlleur_des_badges');
    assert.equal((await c.get('s1', l.load))?.role, 'controlleur_des_badges', 'then a hit');
    assert.equal(l.pending.length, 1);
    // Another session is read on its own.
    void c.get('s2', l.load);
    assert.equal(l.pending.length, 2);
  });

  it('a request after an eviction does not take the read that started before it', async () => {
    const c = cache();
    const l = loader();
    const before = c.get('s1', l.load);
    await c.invalidate({ sid: 's1' });
    const after = c.get('s1', l.load);
    assert.equal(l.pending.length, 2, 'the eviction made the running read unusable');
    l.pending[1]?.resolve(state('participant'));
    l.pending[0]?.resolve(state('controlleur_des_badges'));
    assert.equal((await before)?.role, 'controlleur_des_badges', 'the earlier request gets its own read');
    assert.equal((await after)?.role, 'participant');
    // The read that raced with the eviction was not stored, and its end did not drop the newer one's result.
    assert.equal((await c.get('s1', l.load))?.role, 'participant');
    assert.equal(l.pending.length, 2);
  });

  it('a failed read is shared by the requests waiting on it, then forgotten', async () => {
    const c = cache();
    const l = loader();
    const answers = [c.get('s1', l.load), c.get('s1', l.load)];
    l.pending[0]?.reject(new Error('connection lost'));
    for (const answer of answers) await assert.rejects(answer, /connection lost/);
    const next = c.get('s1', l.load);
    assert.equal(l.pending.length, 2, 'the next request reads again');
    l.pending[1]?.resolve(state('controlleur_des_badges'));
    assert.equal((await next)?.role, 'controlleur_des_badges');
    // Even a loader that throws before it returns a promise leaves no stuck read behind.
    await assert.rejects(
      c.get('s2', () => {
        throw new Error('no connection');
      }),
      /no connection/,
    );
    await new Promise((r) => setImmediate(r));
    const again = c.get('s2', l.load);
    assert.equal(l.pending.length, 3);
    l.pending[2]?.resolve(state('participant'));
    assert.equal((await again)?.role, 'participant');
  });

  it('with the cache off, every request reads', async () => {
    const c = cache(0);
    const l = loader();
    void c.get('s1', l.load);
    void c.get('s1', l.load);
    assert.equal(l.pending.length, 2);
  });
});
