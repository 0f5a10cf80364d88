import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { JwtService } from '@nestjs/jwt';
import type { Response, Test } from 'supertest';
import type { EventRole } from '../src/common/auth/event-role';
import type { Event } from '../src/modules/events/entities/event.entity';
import {
  assign,
  bearer,
  countRows,
  createEvent,
  createUser,
  openSession,
  PASSWORD,
  type TestUser,
  uniq,
} from './helpers/factories';
import { expectError, expectValidation } from './helpers/assertions';
import { bootTestApp, forgetCachedSessions, TEST_JWT_SECRET, type TestApp } from './helpers/test-app';

type Body = Record<string, unknown>;

const USER_KEYS = ['email', 'first_name', 'full_name', 'id', 'last_name'];
const SESSION_KEYS = ['access', 'event', 'refresh', 'role', 'user'];
const SELECTION_KEYS = ['available_events', 'requires_event_selection', 'temp_token', 'user'];
const PROFILE_KEYS = [
  'discord_user_id',
  'discord_username',
  'email',
  'event',
  'first_name',
  'full_name',
  'id',
  'is_staff',
  'last_name',
  'participant',
  'role',
].sort();

const keys = (value: unknown): string[] => Object.keys(value as Body).sort();
const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');
const email = (): string => `${uniq('auth')}@example.test`;

function claims(token: string): Body {
  const parts = token.split('.');
  assert.equal(parts.length, 3, 'a JWT');
  return JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as Body;
}

describe('auth', () => {
  let t: TestApp;
  before(async () => {
    t = await bootTestApp();
  });
  after(() => t.close());

  const login = (address: string, password = PASSWORD, route = 'login'): Test =>
    t.http.post(`/api/auth/${route}/`).send({ email: address, password });
  const profile = (access: string): Test => t.http.get('/api/auth/profile/').set(bearer(access));
  const refresh = (token: string): Test => t.http.post('/api/auth/token/refresh/').send({ refresh: token });
  const userCount = (address: string): Promise<number> => countRows(t, 'users', 'email = lower($1)', [address]);

  /** A user holding `role` in each of `events`. */
  async function member(events: Event[], role: EventRole = 'participant'): Promise<TestUser> {
    const user = await createUser(t);
    for (const event of events) await assign(t, event.id, user.id, role);
    return user;
  }

  async function loginPair(user: TestUser): Promise<{ access: string; refresh: string }> {
    const res = await login(user.email).expect(200);
    return { access: res.body.access as string, refresh: res.body.refresh as string };
  }

  describe('register', () => {
    it('creates an account: 201 {user, access, refresh}, email lower-cased, refresh stored hashed', async () => {
      const address = email();
      const res = await t.http
        .post('/api/auth/register/')
        .send({ email: address.toUpperCase(), password: 'longenough1', first_name: ' Amina ', last_name: 'Ben' })
        .expect(201);
      assert.deepEqual(keys(res.body), ['access', 'refresh', 'user']);
      const user = res.body.user as Body;
      assert.deepEqual(keys(user), USER_KEYS);
      assert.equal(user.email, address);
      assert.equal(user.first_name, 'Amina');
      assert.equal(user.full_name, 'Amina Ben');
      assert.equal(await userCount(address), 1);

      const me = await profile(res.body.access as string).expect(200);
      assert.equal(me.body.id, user.id);
      assert.equal(me.body.role, null);
      assert.equal(me.body.event, null);
      assert.equal(me.body.is_staff, false);

      const raw = res.body.refresh as string;
      assert.equal(await countRows(t, 'refresh_tokens', 'token_hash = $1', [raw]), 0);
      assert.equal(await countRows(t, 'refresh_tokens', 'token_hash = $1', [sha256(raw)]), 1);
      await login(address, 'longenough1').expect(200);
    });

    it('refuses a password shorter than 8 characters and creates nothing', async () => {
      const address = email();
      const res = await t.http
        .post('/api/auth/register/')
        .send({ email: address, password: 'short12', first_name: 'A', last_name: 'B' });
      expectValidation(res, 'password');
      assert.equal(await userCount(address), 0);
    });

    it('names every invalid or missing field', async () => {
      const res = await t.http.post('/api/auth/register/').send({ email: 'not-an-email', password: 12345678 });
      expectValidation(res, 'email', 'password', 'first_name', 'last_name');
    });

    it('refuses an email already registered, whatever its case, and changes nothing', async () => {
      const existing = await createUser(t);
      const res = await t.http
        .post('/api/auth/register/')
        .send({ email: existing.email.toUpperCase(), password: 'another-password', first_name: 'X', last_name: 'Y' });
      expectError(res, 409, 'EMAIL_TAKEN');
      assert.equal(await userCount(existing.email), 1);
      await login(existing.email).expect(200);
      expectError(await login(existing.email, 'another-password'), 401, 'INVALID_CREDENTIALS');
      const row = await t.db.query('SELECT first_name FROM users WHERE id = $1', [existing.id]);
      assert.equal(row[0].first_name, 'Test');
    });

    it('refuses unknown and read-only fields (is_staff) and creates no user', async () => {
      const address = email();
      const res = await t.http
        .post('/api/auth/register/')
        .send({ email: address, password: 'longenough1', first_name: 'A', last_name: 'B', is_staff: true });
      expectValidation(res, 'is_staff');
      assert.equal(await userCount(address), 0);
    });

    it('claims an account an organizer created without password and keeps its role', async () => {
      const event = await createEvent(t);
      const placeholder = await createUser(t, { password: null, firstName: '', lastName: '' });
      await assign(t, event.id, placeholder.id, 'exposant');
      expectError(await login(placeholder.email, ''), 401, 'INVALID_CREDENTIALS');

      const res = await t.http
        .post('/api/auth/register/')
        .send({ email: placeholder.email.toUpperCase(), password: 'claimed-pass', first_name: 'Nour', last_name: 'H' })
        .expect(201);
      assert.equal(res.body.user.id, placeholder.id);
      assert.equal(res.body.user.full_name, 'Nour H');
      assert.equal(await userCount(placeholder.email), 1);
      const me = await profile(res.body.access as string).expect(200);
      assert.equal(me.body.role, 'exposant');

      const again = await login(placeholder.email, 'claimed-pass').expect(200);
      assert.equal(again.body.role, 'exposant');
      assert.equal(again.body.event.id, event.id);

      const second = await t.http
        .post('/api/auth/register/')
        .send({ email: placeholder.email, password: 'hijack-attempt', first_name: 'E', last_name: 'V' });
      expectError(second, 409, 'EMAIL_TAKEN');
      await login(placeholder.email, 'claimed-pass').expect(200);
    });

    it('does not claim a deactivated password-less account', async () => {
      const placeholder = await createUser(t, { password: null, isActive: false });
      const res = await t.http
        .post('/api/auth/register/')
        .send({ email: placeholder.email, password: 'claimed-pass', first_name: 'N', last_name: 'H' });
      expectError(res, 409, 'EMAIL_TAKEN');
      const rows: { password_hash: string | null }[] = await t.db.query(
        'SELECT password_hash FROM users WHERE id = $1',
        [placeholder.id],
      );
      assert.equal(rows[0]?.password_hash, null);
      assert.equal(await countRows(t, 'auth_sessions', 'user_id = $1', [placeholder.id]), 0);
    });

    it('refuses blank names (they would be stored empty once trimmed)', async () => {
      const address = email();
      const res = await t.http
        .post('/api/auth/register/')
        .send({ email: address, password: 'longenough1', first_name: '   ', last_name: '\t' });
      expectValidation(res, 'first_name', 'last_name');
      assert.equal(await userCount(address), 0);
    });

    it('concurrent registrations of one new email: exactly one account', async () => {
      const address = email();
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          t.http
            .post('/api/auth/register/')
            .send({ email: address, password: `password-${i}`, first_name: 'C', last_name: String(i) }),
        ),
      );
      assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409]);
      for (const r of results.filter((x) => x.status === 409)) expectError(r, 409, 'EMAIL_TAKEN');
      assert.equal(await userCount(address), 1);
    });

    it('concurrent claims of one password-less account: exactly one wins', async () => {
      const placeholder = await createUser(t, { password: null });
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          t.http
            .post('/api/auth/register/')
            .send({ email: placeholder.email, password: `password-${i}`, first_name: 'C', last_name: String(i) }),
        ),
      );
      assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409]);
      const winner = results.find((r) => r.status === 201) as Response;
      const password = `password-${winner.body.user.last_name as string}`;
      await login(placeholder.email, password).expect(200);
      assert.equal(await userCount(placeholder.email), 1);
    });

    it('answers 415 to a non-JSON body and 400 to malformed JSON', async () => {
      const plain = await t.http.post('/api/auth/register/').set('Content-Type', 'text/plain').send('hello');
      expectError(plain, 415, 'UNSUPPORTED_MEDIA_TYPE');
      const broken = await t.http.post('/api/auth/register/').set('Content-Type', 'application/json').send('{"email":');
      expectError(broken, 400, 'BAD_REQUEST');
      for (const raw of ['null', '[]', '"text"']) {
        const res = await t.http.post('/api/auth/register/').set('Content-Type', 'application/json').send(raw);
        assert.equal(res.status, 400, `${raw}: ${res.status}`);
        expectError(res, 400, res.body.code as string);
      }
      const huge = await t.http
        .post('/api/auth/register/')
        .send({ email: email(), password: 'x'.repeat(2 * 1024 * 1024), first_name: 'A', last_name: 'B' });
      expectError(huge, 413, 'PAYLOAD_TOO_LARGE');
    });
  });

  describe('login and token/', () => {
    it('0 events: {access, refresh, user, role: null, event: null} on both routes, any email case', async () => {
      const user = await createUser(t);
      for (const route of ['login', 'token']) {
        const res = await login(`  ${user.email.toUpperCase()} `, PASSWORD, route).expect(200);
        assert.deepEqual(keys(res.body), SESSION_KEYS);
        assert.equal(res.body.role, null);
        assert.equal(res.body.event, null);
        assert.deepEqual(keys(res.body.user), USER_KEYS);
        assert.equal(res.body.user.id, user.id);
        await profile(res.body.access as string).expect(200);
      }
    });

    it('1 event: role and the event object; the access token names the event, not the role', async () => {
      const event = await createEvent(t);
      const user = await member([event], 'controlleur_des_badges');
      for (const route of ['login', 'token']) {
        const res = await login(user.email, PASSWORD, route).expect(200);
        assert.deepEqual(keys(res.body), SESSION_KEYS);
        assert.equal(res.body.role, 'controlleur_des_badges');
        assert.equal(res.body.event.id, event.id);
        assert.equal(res.body.event.name, event.name);
        assert.equal('role' in res.body.event, false);
        const c = claims(res.body.access as string);
        assert.equal(c.sub, user.id);
        assert.equal(c.event_id, event.id);
        assert.equal(c.typ, 'access');
        assert.equal(typeof c.sid, 'string');
        assert.equal(typeof c.jti, 'string');
        assert.equal('role' in c, false);
        assert.equal((c.exp as number) - (c.iat as number), 15 * 60);
      }
    });

    it('several events: a selection token and the events with roles, and no tokens', async () => {
      const [a, b, gone] = [await createEvent(t), await createEvent(t), await createEvent(t)];
      const user = await createUser(t);
      await assign(t, a.id, user.id, 'organisateur');
      await assign(t, b.id, user.id, 'participant');
      await assign(t, gone.id, user.id, 'exposant', false);
      for (const route of ['login', 'token']) {
        const res = await login(user.email, PASSWORD, route).expect(200);
        assert.deepEqual(keys(res.body), SELECTION_KEYS);
        assert.equal(res.body.requires_event_selection, true);
        assert.equal('access' in res.body, false);
        assert.equal('refresh' in res.body, false);
        assert.deepEqual(keys(res.body.user), USER_KEYS);
        const roles = Object.fromEntries(
          (res.body.available_events as Body[]).map((e) => [e.id as string, e.role as string]),
        );
        assert.deepEqual(roles, { [a.id]: 'organisateur', [b.id]: 'participant' });
        const c = claims(res.body.temp_token as string);
        assert.equal(c.typ, 'select');
        assert.equal(c.sub, user.id);
        assert.equal((c.exp as number) - (c.iat as number), 10 * 60);
      }
    });

    it('unknown email, wrong password and password-less account give the identical 401 body', async () => {
      const user = await createUser(t);
      const placeholder = await createUser(t, { password: null });
      const bodies = [
        await login(email(), PASSWORD),
        await login(user.email, 'wrong-password'),
        await login(placeholder.email, PASSWORD),
        await login(email(), 'wrong-password', 'token'),
      ].map((res) => {
        const { request_id: _id, ...rest } = expectError(res, 401, 'INVALID_CREDENTIALS');
        return rest;
      });
      for (const body of bodies) assert.deepEqual(body, bodies[0]);
    });

    it('refuses a deactivated user even with the right password', async () => {
      const user = await createUser(t, { isActive: false });
      expectError(await login(user.email), 401, 'INVALID_CREDENTIALS');
    });

    it('validates the body', async () => {
      expectValidation(await t.http.post('/api/auth/login/').send({ email: 'a@b.test' }), 'password');
      expectValidation(await t.http.post('/api/auth/login/').send({ email: 5, password: 'x' }), 'email');
      expectValidation(
        await t.http.post('/api/auth/token/').send({ email: 'a@b.test', password: 'x', remember: true }),
        'remember',
      );
    });

    it('answers no other method on login/', async () => {
      const res = await t.http.get('/api/auth/login/');
      assert.ok(res.status === 404 || res.status === 405, `got ${res.status}`);
      expectError(res, res.status, res.status === 404 ? 'NOT_FOUND' : 'METHOD_NOT_ALLOWED');
    });
  });

  describe('select-event/', () => {
    async function selection(): Promise<{ user: TestUser; a: Event; b: Event; other: Event; temp: string }> {
      const [a, b, other] = [await createEvent(t), await createEvent(t), await createEvent(t)];
      const user = await createUser(t);
      await assign(t, a.id, user.id, 'gestionnaire_des_salles');
      await assign(t, b.id, user.id, 'participant');
      await assign(t, other.id, (await createUser(t)).id, 'organisateur');
      const res = await login(user.email).expect(200);
      return { user, a, b, other, temp: res.body.temp_token as string };
    }

    it('with the temp_token, answers like a single-event login', async () => {
      const { user, a, temp } = await selection();
      const res = await t.http.post('/api/auth/select-event/').set(bearer(temp)).send({ event_id: a.id }).expect(200);
      assert.deepEqual(keys(res.body), SESSION_KEYS);
      assert.equal(res.body.role, 'gestionnaire_des_salles');
      assert.equal(res.body.event.id, a.id);
      assert.equal(res.body.user.id, user.id);
      const me = await profile(res.body.access as string).expect(200);
      assert.equal(me.body.role, 'gestionnaire_des_salles');
      assert.equal(me.body.event.id, a.id);
      const mine = await t.http
        .get('/api/auth/my-events/')
        .set(bearer(res.body.access as string))
        .expect(200);
      assert.equal(mine.body.current_event_id, a.id);
      await refresh(res.body.refresh as string).expect(200);
    });

    it('refuses an access token', async () => {
      const { user, a } = await selection();
      const pair = await openSession(t, user.id, null);
      const res = await t.http.post('/api/auth/select-event/').set(bearer(pair.access)).send({ event_id: a.id });
      expectError(res, 401, 'TOKEN_INVALID');
    });

    it('404 for an event the user is not a member of; 400 for a malformed id', async () => {
      const { other, temp } = await selection();
      const res = await t.http.post('/api/auth/select-event/').set(bearer(temp)).send({ event_id: other.id });
      expectError(res, 404, 'NOT_FOUND');
      const random = await t.http
        .post('/api/auth/select-event/')
        .set(bearer(temp))
        .send({ event_id: '00000000-0000-4000-8000-000000000000' });
      expectError(random, 404, 'NOT_FOUND');
      expectValidation(
        await t.http.post('/api/auth/select-event/').set(bearer(temp)).send({ event_id: 'nope' }),
        'event_id',
      );
    });

    it('the temp_token is not an access token', async () => {
      const { a, temp } = await selection();
      expectError(await profile(temp), 401, 'TOKEN_INVALID');
      expectError(await t.http.get('/api/auth/my-events/').set(bearer(temp)), 401, 'TOKEN_INVALID');
      expectError(
        await t.http.post('/api/auth/switch-event/').set(bearer(temp)).send({ event_id: a.id }),
        401,
        'TOKEN_INVALID',
      );
      expectError(await t.http.post('/api/auth/logout/').set(bearer(temp)), 401, 'TOKEN_INVALID');
    });

    it('a password change voids pending temp_tokens; one earned after it works', async () => {
      const { user, a, temp } = await selection();
      const session = await openSession(t, user.id, a.id);
      await t.http
        .post('/api/auth/change-password/')
        .set(bearer(session.access))
        .send({ old_password: PASSWORD, new_password: 'rotated-password' })
        .expect(204);
      const stale = await t.http.post('/api/auth/select-event/').set(bearer(temp)).send({ event_id: a.id });
      expectError(stale, 401, 'TOKEN_INVALID');
      const fresh = (await login(user.email, 'rotated-password').expect(200)).body.temp_token as string;
      await t.http.post('/api/auth/select-event/').set(bearer(fresh)).send({ event_id: a.id }).expect(200);
    });

    it('needs a token, refuses an expired one and a deactivated user', async () => {
      const { user, a } = await selection();
      expectError(await t.http.post('/api/auth/select-event/').send({ event_id: a.id }), 401, 'AUTH_REQUIRED');
      const jwt = t.app.get(JwtService, { strict: false });
      const { iat: _iat, exp: _exp, ...selectClaims } = claims((await login(user.email).expect(200)).body.temp_token);
      const expired = jwt.sign({ ...selectClaims, exp: Math.floor(Date.now() / 1000) - 60 });
      const notUuid = jwt.sign({ ...selectClaims, sub: 'not-a-uuid' }, { expiresIn: 60 });
      expectError(
        await t.http.post('/api/auth/select-event/').set(bearer(notUuid)).send({ event_id: a.id }),
        401,
        'TOKEN_INVALID',
      );
      // Control: the same claims, not expired, are accepted.
      await t.http
        .post('/api/auth/select-event/')
        .set(bearer(jwt.sign(selectClaims, { expiresIn: 60 })))
        .send({ event_id: a.id })
        .expect(200);
      expectError(
        await t.http.post('/api/auth/select-event/').set(bearer(expired)).send({ event_id: a.id }),
        401,
        'TOKEN_INVALID',
      );
      const fresh = (await login(user.email).expect(200)).body.temp_token as string;
      await t.db.query('UPDATE users SET is_active = false WHERE id = $1', [user.id]);
      forgetCachedSessions(t);
      expectError(
        await t.http.post('/api/auth/select-event/').set(bearer(fresh)).send({ event_id: a.id }),
        401,
        'MEMBERSHIP_REVOKED',
      );
      // Only the control above opened a session.
      assert.equal(await countRows(t, 'auth_sessions', 'user_id = $1', [user.id]), 1);
    });
  });

  describe('switch-event/', () => {
    it('issues a new pair for the other event and ends the old session', async () => {
      const [a, b] = [await createEvent(t), await createEvent(t)];
      const user = await createUser(t);
      await assign(t, a.id, user.id, 'organisateur');
      await assign(t, b.id, user.id, 'exposant');
      const old = await openSession(t, user.id, a.id);
      const res = await t.http
        .post('/api/auth/switch-event/')
        .set(bearer(old.access))
        .send({ event_id: b.id })
        .expect(200);
      assert.deepEqual(keys(res.body), SESSION_KEYS);
      assert.equal(res.body.role, 'exposant');
      assert.equal(res.body.event.id, b.id);
      const me = await profile(res.body.access as string).expect(200);
      assert.equal(me.body.event.id, b.id);
      assert.equal(me.body.role, 'exposant');
      expectError(await profile(old.access), 401, 'TOKEN_INVALID');
      expectError(await refresh(old.refresh), 401, 'TOKEN_INVALID');
      await refresh(res.body.refresh as string).expect(200);
    });

    it('404 for an event the caller is not a member of, and the current session goes on', async () => {
      const [a, foreign] = [await createEvent(t), await createEvent(t)];
      const user = await member([a]);
      const inactive = await createEvent(t);
      await assign(t, inactive.id, user.id, 'organisateur', false);
      const pair = await openSession(t, user.id, a.id);
      for (const id of [foreign.id, inactive.id]) {
        const res = await t.http.post('/api/auth/switch-event/').set(bearer(pair.access)).send({ event_id: id });
        expectError(res, 404, 'NOT_FOUND');
      }
      expectValidation(
        await t.http.post('/api/auth/switch-event/').set(bearer(pair.access)).send({ event_id: a.id, role: 'x' }),
        'role',
      );
      const me = await profile(pair.access).expect(200);
      assert.equal(me.body.event.id, a.id);
      expectError(await t.http.post('/api/auth/switch-event/').send({ event_id: a.id }), 401, 'AUTH_REQUIRED');
    });
  });

  describe('my-events/', () => {
    it('lists the events with role and is_current', async () => {
      const [a, b] = [await createEvent(t), await createEvent(t)];
      const user = await createUser(t);
      await assign(t, a.id, user.id, 'organisateur');
      await assign(t, b.id, user.id, 'participant');
      await assign(t, (await createEvent(t)).id, user.id, 'exposant', false);
      const pair = await openSession(t, user.id, b.id);
      const res = await t.http.get('/api/auth/my-events/').set(bearer(pair.access)).expect(200);
      assert.deepEqual(keys(res.body), ['count', 'current_event_id', 'events']);
      assert.equal(res.body.count, 2);
      assert.equal(res.body.current_event_id, b.id);
      const byId = new Map((res.body.events as Body[]).map((e) => [e.id, e]));
      assert.equal(byId.size, 2);
      assert.equal(byId.get(a.id)?.role, 'organisateur');
      assert.equal(byId.get(a.id)?.is_current, false);
      assert.equal(byId.get(b.id)?.role, 'participant');
      assert.equal(byId.get(b.id)?.is_current, true);
      assert.equal(byId.get(b.id)?.name, b.name);
    });

    it('is empty for a user without events', async () => {
      const user = await createUser(t);
      const { access } = await loginPair(user);
      const res = await t.http.get('/api/auth/my-events').set(bearer(access)).expect(200);
      assert.deepEqual(res.body, { count: 0, current_event_id: null, events: [] });
      expectError(await t.http.get('/api/auth/my-events/'), 401, 'AUTH_REQUIRED');
    });
  });

  describe('token/refresh/', () => {
    it('rotates: the new pair works, the old refresh is spent, reuse revokes the whole family', async () => {
      const event = await createEvent(t);
      const user = await member([event]);
      const first = await loginPair(user);
      const other = await loginPair(user);

      const second = await refresh(first.refresh).expect(200);
      assert.deepEqual(keys(second.body), ['access', 'refresh']);
      assert.notEqual(second.body.refresh, first.refresh);
      const me = await profile(second.body.access as string).expect(200);
      assert.equal(me.body.event.id, event.id);
      assert.equal(claims(second.body.access as string).sid, claims(first.access).sid);

      const third = await refresh(second.body.refresh as string).expect(200);

      // The first one again: a replay. The family dies, including the newest pair.
      expectError(await refresh(first.refresh), 401, 'TOKEN_INVALID');
      expectError(await refresh(third.body.refresh as string), 401, 'TOKEN_INVALID');
      expectError(await profile(third.body.access as string), 401, 'TOKEN_INVALID');
      expectError(await profile(second.body.access as string), 401, 'TOKEN_INVALID');
      expectError(await profile(first.access), 401, 'TOKEN_INVALID');

      // Another session of the same user is not that family.
      await profile(other.access).expect(200);
      await refresh(other.refresh).expect(200);
    });

    it('never extends a login past SESSION_MAX_AGE (30 days by default)', async () => {
      const user = await createUser(t);
      const fresh = await loginPair(user);
      await refresh(fresh.refresh).expect(200); // control: the same steps on a young session work
      const old = await loginPair(user);
      await t.db.query(`UPDATE auth_sessions SET created_at = now() - interval '31 days' WHERE id = $1`, [
        claims(old.access).sid,
      ]);
      forgetCachedSessions(t);
      expectError(await refresh(old.refresh), 401, 'TOKEN_INVALID');
    });

    it('refuses garbage, an access token, and bad bodies', async () => {
      const user = await createUser(t);
      const pair = await loginPair(user);
      expectError(await refresh('not-a-refresh-token'), 401, 'TOKEN_INVALID');
      expectError(await refresh(pair.access.slice(0, 200)), 401, 'TOKEN_INVALID');
      expectValidation(await t.http.post('/api/auth/token/refresh/').send({}), 'refresh');
      expectValidation(await t.http.post('/api/auth/token/refresh/').send({ refresh: '' }), 'refresh');
      expectValidation(
        await t.http.post('/api/auth/token/refresh/').send({ refresh: pair.refresh, access: pair.access }),
        'access',
      );
      // None of that spent the real one.
      await refresh(pair.refresh).expect(200);
    });

    it('refuses an expired refresh token', async () => {
      const user = await createUser(t);
      const pair = await loginPair(user);
      await t.db.query(`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, [
        sha256(pair.refresh),
      ]);
      expectError(await refresh(pair.refresh), 401, 'TOKEN_INVALID');
    });

    it('20 parallel uses of one refresh token: exactly one 200, then the family is revoked as a reuse', async () => {
      const user = await createUser(t);
      const pair = await loginPair(user);
      const results = await Promise.all(Array.from({ length: 20 }, () => refresh(pair.refresh)));
      const ok = results.filter((r) => r.status === 200);
      assert.equal(ok.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
      for (const r of results.filter((x) => x.status !== 200)) expectError(r, 401, 'TOKEN_INVALID');
      const sid = claims(pair.access).sid as string;
      // One spend, one new token: nothing was issued twice.
      assert.equal(await countRows(t, 'refresh_tokens', 'session_id = $1', [sid]), 2);
      assert.equal(await countRows(t, 'refresh_tokens', 'session_id = $1 AND used_at IS NOT NULL', [sid]), 1);
      const rows: { revoked_reason: string | null }[] = await t.db.query(
        'SELECT revoked_reason FROM auth_sessions WHERE id = $1',
        [sid],
      );
      assert.equal(rows[0]?.revoked_reason, 'refresh_reuse');
      const winner = ok[0] as Response;
      expectError(await refresh(winner.body.refresh as string), 401, 'TOKEN_INVALID');
      expectError(await profile(winner.body.access as string), 401, 'TOKEN_INVALID');
      // Logging in again gives a working session.
      const again = await loginPair(user);
      await profile(again.access).expect(200);
    });

    it('control: 20 parallel refreshes of 20 different sessions all succeed', async () => {
      const user = await createUser(t);
      const pairs = await Promise.all(Array.from({ length: 20 }, () => openSession(t, user.id, null)));
      const results = await Promise.all(pairs.map((p) => refresh(p.refresh)));
      assert.deepEqual(
        results.map((r) => r.status),
        pairs.map(() => 200),
      );
    });

    it('a refresh token of a logged-out session is refused and not counted as a replay', async () => {
      const user = await createUser(t);
      const pair = await loginPair(user);
      await t.http.post('/api/auth/logout/').set(bearer(pair.access)).expect(204);
      expectError(await refresh(pair.refresh), 401, 'TOKEN_INVALID');
      assert.equal(
        await countRows(t, 'refresh_tokens', 'token_hash = $1 AND used_at IS NULL', [sha256(pair.refresh)]),
        1,
      );
      const rows: { revoked_reason: string }[] = await t.db.query(
        'SELECT revoked_reason FROM auth_sessions WHERE id = $1',
        [claims(pair.access).sid],
      );
      assert.equal(rows[0]?.revoked_reason, 'logout');
    });

    it('refuses to rotate once the membership is gone', async () => {
      const event = await createEvent(t);
      const user = await member([event]);
      const pair = await loginPair(user);
      await t.db.query('DELETE FROM user_event_assignments WHERE user_id = $1', [user.id]);
      forgetCachedSessions(t);
      expectError(await refresh(pair.refresh), 401, 'MEMBERSHIP_REVOKED');
    });
  });

  describe('logout/', () => {
    it('204; the access token and the refresh family stop at once; other sessions go on', async () => {
      const event = await createEvent(t);
      const user = await member([event]);
      const pair = await loginPair(user);
      const other = await loginPair(user);
      const res = await t.http.post('/api/auth/logout/').set(bearer(pair.access)).expect(204);
      assert.equal(res.text, '');
      expectError(await profile(pair.access), 401, 'TOKEN_INVALID');
      expectError(await refresh(pair.refresh), 401, 'TOKEN_INVALID');
      expectError(await t.http.post('/api/auth/logout/').set(bearer(pair.access)), 401, 'TOKEN_INVALID');
      await profile(other.access).expect(200);
    });

    it('with {refresh}: also ends the session of that refresh token if it is the caller’s', async () => {
      const user = await createUser(t);
      const stranger = await createUser(t);
      const mine = await loginPair(user);
      const myPhone = await loginPair(user);
      const theirs = await loginPair(stranger);

      await t.http.post('/api/auth/logout/').set(bearer(mine.access)).send({ refresh: myPhone.refresh }).expect(204);
      expectError(await profile(myPhone.access), 401, 'TOKEN_INVALID');
      expectError(await refresh(myPhone.refresh), 401, 'TOKEN_INVALID');

      const again = await loginPair(user);
      await t.http.post('/api/auth/logout/').set(bearer(again.access)).send({ refresh: theirs.refresh }).expect(204);
      await profile(theirs.access).expect(200);
      await refresh(theirs.refresh).expect(200);
    });

    it('needs a token and validates the body', async () => {
      expectError(await t.http.post('/api/auth/logout/'), 401, 'AUTH_REQUIRED');
      const user = await createUser(t);
      const pair = await loginPair(user);
      expectValidation(
        await t.http.post('/api/auth/logout/').set(bearer(pair.access)).send({ everywhere: true }),
        'everywhere',
      );
      await profile(pair.access).expect(200);
    });
  });

  describe('profile/, me/, /api/users/me/', () => {
    it('the same body on the three routes, with exactly the keys of API.md', async () => {
      const event = await createEvent(t);
      const user = await createUser(t, { firstName: 'Lina', lastName: 'Kaci' });
      await assign(t, event.id, user.id, 'gestionnaire_des_salles');
      const { access } = await loginPair(user);
      const bodies: Body[] = [];
      for (const path of ['/api/auth/profile/', '/api/auth/me/', '/api/users/me/', '/api/users/me']) {
        bodies.push((await t.http.get(path).set(bearer(access)).expect(200)).body as Body);
      }
      for (const body of bodies) assert.deepEqual(body, bodies[0]);
      const body = bodies[0] as Body;
      assert.deepEqual(keys(body), PROFILE_KEYS);
      assert.equal(body.id, user.id);
      assert.equal(body.email, user.email);
      assert.equal(body.full_name, 'Lina Kaci');
      assert.equal(body.is_staff, false);
      assert.equal(body.discord_user_id, null);
      assert.equal(body.discord_username, null);
      assert.equal(body.role, 'gestionnaire_des_salles');
      assert.equal((body.event as Body).id, event.id);
      assert.equal(body.participant, null);
      assert.doesNotMatch(JSON.stringify(body), /password|hash/i);
    });

    it('refuses missing, malformed, forged, expired and mismatched tokens', async () => {
      const user = await createUser(t);
      const victim = await createUser(t);
      const pair = await loginPair(user);
      const victimPair = await loginPair(victim);
      expectError(await t.http.get('/api/auth/profile/'), 401, 'AUTH_REQUIRED');
      expectError(await t.http.get('/api/auth/me/').set('Authorization', `Basic ${pair.access}`), 401, 'AUTH_REQUIRED');
      expectError(await profile('garbage'), 401, 'TOKEN_INVALID');

      const c = claims(pair.access);
      const forged = new JwtService({ secret: 'another-secret-another-secret-another-secret' }).sign({ ...c });
      expectError(await profile(forged), 401, 'TOKEN_INVALID');
      const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${pair.access.split('.')[1]}.`;
      expectError(await profile(none), 401, 'TOKEN_INVALID');

      const jwt = new JwtService({ secret: TEST_JWT_SECRET });
      const { iat: _iat, exp: _exp, ...base } = c;
      // Control: the same claims re-signed with the right secret are accepted, so the refusals below are meaningful.
      await profile(jwt.sign(base, { expiresIn: 60 })).expect(200);
      const expired = jwt.sign({ ...base, exp: Math.floor(Date.now() / 1000) - 5 });
      expectError(await profile(expired), 401, 'TOKEN_INVALID');
      // Validly signed, but naming another user's session: the session decides, not the claim.
      const stolenSid = jwt.sign({ ...base, sid: claims(victimPair.access).sid }, { expiresIn: 60 });
      expectError(await profile(stolenSid), 401, 'TOKEN_INVALID');
      const otherEvent = jwt.sign({ ...base, event_id: (await createEvent(t)).id }, { expiresIn: 60 });
      expectError(await profile(otherEvent), 401, 'TOKEN_INVALID');
      // Validly signed claims that are not UUIDs: a 401, never a database error.
      for (const bad of [{ sid: 'not-a-uuid' }, { sub: 'x' }, { event_id: 'nope' }, { event_id: 5 }, { sid: null }]) {
        expectError(await profile(jwt.sign({ ...base, ...bad }, { expiresIn: 60 })), 401, 'TOKEN_INVALID');
      }
      await profile(pair.access).expect(200);
    });

    it('PATCH changes first_name only', async () => {
      const user = await createUser(t, { firstName: 'Old', lastName: 'Name' });
      const { access } = await loginPair(user);
      const res = await t.http.patch('/api/auth/profile/').set(bearer(access)).send({ first_name: 'New' }).expect(200);
      assert.deepEqual(keys(res.body), PROFILE_KEYS);
      assert.equal(res.body.first_name, 'New');
      assert.equal(res.body.last_name, 'Name');
      assert.equal(res.body.full_name, 'New Name');
      const me = await profile(access).expect(200);
      assert.equal(me.body.first_name, 'New');
      assert.equal(me.body.last_name, 'Name');
    });

    it('PATCH refuses email, is_staff and empty names, and changes nothing', async () => {
      const user = await createUser(t, { firstName: 'Keep', lastName: 'Me' });
      const { access } = await loginPair(user);
      const patch = (body: Body) => t.http.patch('/api/auth/profile/').set(bearer(access)).send(body);
      expectValidation(await patch({ email: `${uniq('evil')}@example.test`, first_name: 'Changed' }), 'email');
      expectValidation(await patch({ is_staff: true }), 'is_staff');
      expectValidation(await patch({ first_name: '' }), 'first_name');
      expectValidation(await patch({ first_name: '  ' }), 'first_name');
      expectValidation(await patch({ last_name: 42 }), 'last_name');
      const me = await profile(access).expect(200);
      assert.equal(me.body.email, user.email);
      assert.equal(me.body.first_name, 'Keep');
      assert.equal(me.body.last_name, 'Me');
      assert.equal(me.body.is_staff, false);
      expectError(await t.http.patch('/api/auth/profile/').send({ first_name: 'X' }), 401, 'AUTH_REQUIRED');
    });
  });

  describe('change-password/', () => {
    it('a wrong old password is a 400 and changes nothing', async () => {
      const user = await createUser(t);
      const { access } = await loginPair(user);
      const res = await t.http
        .post('/api/auth/change-password/')
        .set(bearer(access))
        .send({ old_password: 'not-the-password', new_password: 'brand-new-password' });
      expectValidation(res, 'old_password');
      await login(user.email).expect(200);
      expectError(await login(user.email, 'brand-new-password'), 401, 'INVALID_CREDENTIALS');
      await profile(access).expect(200);
    });

    it('a short new password is a 400', async () => {
      const user = await createUser(t);
      const { access } = await loginPair(user);
      const res = await t.http
        .post('/api/auth/change-password/')
        .set(bearer(access))
        .send({ old_password: PASSWORD, new_password: 'short' });
      expectValidation(res, 'new_password');
      await login(user.email).expect(200);
    });

    it('204; other sessions are revoked, the current one goes on; only the new password logs in', async () => {
      const event = await createEvent(t);
      const user = await member([event], 'organisateur');
      const current = await loginPair(user);
      const other = await loginPair(user);
      await t.http
        .post('/api/auth/change-password/')
        .set(bearer(current.access))
        .send({ old_password: PASSWORD, new_password: 'brand-new-password' })
        .expect(204);
      expectError(await profile(other.access), 401, 'TOKEN_INVALID');
      expectError(await refresh(other.refresh), 401, 'TOKEN_INVALID');
      await profile(current.access).expect(200);
      const rotated = await refresh(current.refresh).expect(200);
      await profile(rotated.body.access as string).expect(200);
      expectError(await login(user.email), 401, 'INVALID_CREDENTIALS');
      const fresh = await login(user.email, 'brand-new-password').expect(200);
      assert.equal(fresh.body.role, 'organisateur');
    });
  });

  describe('membership and account changes take effect at once', () => {
    it('a removed assignment: the unexpired access token answers 401 MEMBERSHIP_REVOKED', async () => {
      const event = await createEvent(t);
      const user = await member([event], 'organisateur');
      const { access } = await loginPair(user);
      await profile(access).expect(200);
      await t.db.query('DELETE FROM user_event_assignments WHERE user_id = $1 AND event_id = $2', [user.id, event.id]);
      forgetCachedSessions(t);
      expectError(await profile(access), 401, 'MEMBERSHIP_REVOKED');
      expectError(await t.http.get('/api/auth/my-events/').set(bearer(access)), 401, 'MEMBERSHIP_REVOKED');
      const again = await login(user.email).expect(200);
      assert.equal(again.body.role, null);
      assert.equal(again.body.event, null);
    });

    it('a role change shows at once, with the same token', async () => {
      const event = await createEvent(t);
      const user = await member([event], 'participant');
      const { access } = await loginPair(user);
      assert.equal((await profile(access).expect(200)).body.role, 'participant');
      await t.db.query(`UPDATE user_event_assignments SET role = 'organisateur' WHERE user_id = $1`, [user.id]);
      forgetCachedSessions(t);
      assert.equal((await profile(access).expect(200)).body.role, 'organisateur');
      const mine = await t.http.get('/api/auth/my-events/').set(bearer(access)).expect(200);
      assert.equal(mine.body.events[0].role, 'organisateur');
    });

    it('a deactivated assignment: 401 MEMBERSHIP_REVOKED', async () => {
      const event = await createEvent(t);
      const user = await member([event], 'exposant');
      const { access } = await loginPair(user);
      await t.db.query('UPDATE user_event_assignments SET is_active = false WHERE user_id = $1', [user.id]);
      forgetCachedSessions(t);
      expectError(await profile(access), 401, 'MEMBERSHIP_REVOKED');
    });

    it('a deactivated user: 401 MEMBERSHIP_REVOKED with or without an event, refresh refused', async () => {
      const event = await createEvent(t);
      const user = await member([event]);
      const withEvent = await loginPair(user);
      const noEvent = await openSession(t, user.id, null);
      await t.db.query('UPDATE users SET is_active = false WHERE id = $1', [user.id]);
      forgetCachedSessions(t);
      expectError(await profile(withEvent.access), 401, 'MEMBERSHIP_REVOKED');
      expectError(await profile(noEvent.access), 401, 'MEMBERSHIP_REVOKED');
      expectError(await refresh(withEvent.refresh), 401, 'MEMBERSHIP_REVOKED');
      expectError(await login(user.email), 401, 'INVALID_CREDENTIALS');
      // Reactivated: the refresh that was refused was not spent.
      await t.db.query('UPDATE users SET is_active = true WHERE id = $1', [user.id]);
      forgetCachedSessions(t);
      await refresh(withEvent.refresh).expect(200);
    });
  });

  describe('bootstrap staff user', () => {
    it('ADMIN_EMAIL / ADMIN_PASSWORD create a staff user once, whatever the case of the email', async () => {
      const adminEmail = `${uniq('Admin')}@Example.TEST`;
      const normalized = adminEmail.toLowerCase();
      const first = await bootTestApp({ ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD: 'something-long' });
      try {
        const res = await first.http
          .post('/api/auth/login/')
          .send({ email: normalized, password: 'something-long' })
          .expect(200);
        const me = await first.http
          .get('/api/auth/me/')
          .set(bearer(res.body.access as string))
          .expect(200);
        assert.equal(me.body.is_staff, true);
        assert.equal(me.body.email, normalized);
      } finally {
        await first.close();
      }
      // A later start with another password leaves the existing account alone.
      const second = await bootTestApp({ ADMIN_EMAIL: normalized, ADMIN_PASSWORD: 'a-different-password' });
      try {
        await second.http.post('/api/auth/login/').send({ email: adminEmail, password: 'something-long' }).expect(200);
        const refused = await second.http
          .post('/api/auth/login/')
          .send({ email: normalized, password: 'a-different-password' });
        expectError(refused, 401, 'INVALID_CREDENTIALS');
      } finally {
        await second.close();
      }
      assert.equal(await userCount(normalized), 1);
    });
  });
});
