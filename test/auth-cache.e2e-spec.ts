import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createMember, createWorld, type World } from './helpers/factories';
import { bootTestApp, type TestApp } from './helpers/test-app';

/*
 * The guard's session cache (AUTH_CACHE_TTL_MS). Changes made through the API evict it at once (the rest of the
 * suite runs with it on and checks that logout and role changes act immediately); a change made directly in the
 * database, as an operator might, is seen once the TTL has passed.
 */

describe('session cache', () => {
  let t: TestApp;
  let w: World;

  before(async () => {
    t = await bootTestApp({ AUTH_CACHE_TTL_MS: '400' });
    w = await createWorld(t);
  });
  after(() => t.close());

  it('a membership deactivated in the database is refused once the TTL has passed', async () => {
    const m = await createMember(t, w.event.id);
    const me = () => t.http.get('/api/auth/profile/').set(bearer(m.token));
    assert.equal((await me()).status, 200);
    await t.db.query('UPDATE user_event_assignments SET is_active = false WHERE event_id = $1 AND user_id = $2', [
      w.event.id,
      m.user.id,
    ]);
    // Within the TTL the cached check may still answer; the point is the bound, not the staleness.
    await new Promise((r) => setTimeout(r, 450));
    const res = await me();
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'MEMBERSHIP_REVOKED');
  });

  it('logout and a role change made through the API act on the very next request', async () => {
    const m = await createMember(t, w.event.id, 'gestionnaire_des_salles');
    const conflicts = () => t.http.get('/api/room-access/conflicts/').set(bearer(m.token));
    assert.equal((await conflicts()).status, 200);
    const rows: { id: string }[] = await t.db.query(
      'SELECT id FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
      [w.event.id, m.user.id],
    );
    await t.http
      .patch(`/api/user-assignments/${rows[0]?.id}/`)
      .set(bearer(w.tokens.organisateur))
      .send({ role: 'participant' })
      .expect(200);
    assert.equal((await conflicts()).status, 403);
    await t.http.post('/api/auth/logout/').set(bearer(m.token)).send({}).expect(204);
    assert.equal((await conflicts()).status, 401);
  });

  it('with the cache off, a change in the database acts at once (AUTH_CACHE_TTL_MS=0)', async () => {
    const off = await bootTestApp({ AUTH_CACHE_TTL_MS: '0' });
    try {
      const world = await createWorld(off);
      const m = await createMember(off, world.event.id);
      assert.equal((await off.http.get('/api/auth/profile/').set(bearer(m.token))).status, 200);
      await off.db.query('UPDATE users SET is_active = false WHERE id = $1', [m.user.id]);
      assert.equal((await off.http.get('/api/auth/profile/').set(bearer(m.token))).status, 401);
    } finally {
      await off.close();
    }
  });
});
