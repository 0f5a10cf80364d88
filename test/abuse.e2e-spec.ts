/**
 * Requests built to abuse the server, found in review: bodies nested to blow the validation stack, replayed
 * selection tokens, forged forwarded hosts in pagination links, and bad bodies meant to probe a refused route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expectError } from './helpers/assertions';
import { assign, bearer, countRows, createEvent, createUser, createWorld, PASSWORD, uniq } from './helpers/factories';
import { bootTestApp, type TestApp } from './helpers/test-app';

const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('abuse', () => {
  let t: TestApp;
  before(async () => {
    t = await bootTestApp();
  });
  after(() => t.close());

  describe('deeply nested JSON', () => {
    it('is a 400 on a public route, not a stack overflow', async () => {
      const body = `{"email":"a@b.c","password":"x","x":${nested(3000)}}`;
      const res = await t.http.post('/api/auth/login').set('content-type', 'application/json').send(body);
      expectError(res, 400, 'BAD_REQUEST');
      assert.match(res.body.detail, /nested deeper than 32/);
    });

    it('is a 400 on an authenticated write and changes nothing', async () => {
      const world = await createWorld(t);
      const body = `{"metadata":{"a":${nested(5000)}}}`;
      const res = await t.http
        .patch(`/api/events/${world.event.id}`)
        .set(bearer(world.tokens.organisateur))
        .set('content-type', 'application/json')
        .send(body);
      expectError(res, 400, 'BAD_REQUEST');
      const rows: { metadata: object }[] = await t.db.query('SELECT metadata FROM events WHERE id = $1', [
        world.event.id,
      ]);
      assert.deepEqual(rows[0]?.metadata, {});
    });

    it('still accepts ordinary nesting (control)', async () => {
      const world = await createWorld(t);
      const metadata = JSON.parse(`{"a":{"b":{"c":${nested(20)}}}}`) as object;
      const res = await t.http
        .patch(`/api/events/${world.event.id}`)
        .set(bearer(world.tokens.organisateur))
        .send({ metadata });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body.metadata, metadata);
    });
  });

  describe('selection token (temp_token)', () => {
    async function multiEventLogin(): Promise<{ temp: string; events: string[] }> {
      const user = await createUser(t);
      const a = await createEvent(t);
      const b = await createEvent(t);
      await assign(t, a.id, user.id, 'participant');
      await assign(t, b.id, user.id, 'exposant');
      const res = await t.http.post('/api/auth/login').send({ email: user.email, password: PASSWORD }).expect(200);
      assert.equal(res.body.requires_event_selection, true);
      return { temp: res.body.temp_token as string, events: [a.id, b.id] };
    }

    it('opens one session only: a replay is 401 TOKEN_INVALID', async () => {
      const { temp, events } = await multiEventLogin();
      await t.http.post('/api/auth/select-event').set(bearer(temp)).send({ event_id: events[0] }).expect(200);
      const replay = await t.http.post('/api/auth/select-event').set(bearer(temp)).send({ event_id: events[1] });
      expectError(replay, 401, 'TOKEN_INVALID');
    });

    it('is not spent by a wrong choice (control: the refusal above is about reuse)', async () => {
      const { temp, events } = await multiEventLogin();
      const stranger = await createEvent(t);
      const wrong = await t.http.post('/api/auth/select-event').set(bearer(temp)).send({ event_id: stranger.id });
      expectError(wrong, 404, 'NOT_FOUND');
      await t.http.post('/api/auth/select-event').set(bearer(temp)).send({ event_id: events[1] }).expect(200);
    });

    it('under 20 concurrent uses, exactly one session is opened', async () => {
      const { temp, events } = await multiEventLogin();
      const sessionsBefore = await countRows(t, 'auth_sessions', 'event_id = $1', [events[0]]);
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          t.http.post('/api/auth/select-event').set(bearer(temp)).send({ event_id: events[0] }),
        ),
      );
      const statuses = results.map((r) => r.status).sort();
      assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join());
      assert.equal(statuses.filter((s) => s === 401).length, 19, statuses.join());
      assert.equal(await countRows(t, 'auth_sessions', 'event_id = $1', [events[0]]), sessionsBefore + 1);
    });
  });

  describe('pagination links', () => {
    it('ignore a forged X-Forwarded-Host when TRUST_PROXY is off (the default)', async () => {
      const staff = await createUser(t, { isStaff: true });
      await createEvent(t);
      await createEvent(t);
      const login = await t.http.post('/api/auth/login').send({ email: staff.email, password: PASSWORD }).expect(200);
      const res = await t.http
        .get('/api/events/?page_size=1')
        .set(bearer(login.body.access as string))
        .set('x-forwarded-host', 'evil.example')
        .set('x-forwarded-proto', 'https')
        .expect(200);
      assert.ok(res.body.next, 'a second page exists');
      assert.doesNotMatch(res.body.next as string, /evil\.example|^https:/);
    });
  });

  describe('event creation', () => {
    it('refuses a participant with 403 before looking at the body', async () => {
      const world = await createWorld(t);
      const name = uniq('Probe ');
      const res = await t.http
        .post('/api/events/')
        .set(bearer(world.tokens.participant))
        .send({ name, start_date: 'tomorrow', unknown: true });
      expectError(res, 403, 'FORBIDDEN');
      assert.equal(await countRows(t, 'events', 'name = $1', [name]), 0);
    });
  });
});
