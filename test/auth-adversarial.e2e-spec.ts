/**
 * Adversarial checks of authentication, tokens, event selection and membership, profiles, staff assignments and the
 * Discord bot routes, aimed at what the other specs leave out: races between a legitimate rotation and a replay,
 * every kind of route with the token of each way a session ends, other doors to the same change (participants,
 * imports, registration), dual memberships, inputs whose length the validator and the database count differently,
 * and refused bot requests that must write nothing. Each "nothing changed" compares database state before and after.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Response, Test } from 'supertest';
import { expectError, expectValidation } from './helpers/assertions';
import {
  assign,
  bearer,
  countRows,
  createEvent,
  createUser,
  createWorld,
  issueBadge,
  openSession,
  PASSWORD,
  type TestUser,
  uniq,
} from './helpers/factories';
import { fire, tally } from './helpers/requests';
import { closeAllClients, refusal, sleep } from './helpers/sockets';
import { bootTestApp, type TestApp } from './helpers/test-app';

type Body = Record<string, unknown>;
type Pair = { access: string; refresh: string };

const HOUR = 3_600_000;

function claims(token: string): Body {
  const part = token.split('.')[1];
  assert.ok(part, 'a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Body;
}
const sidOf = (token: string): string => claims(token).sid as string;
const email = (prefix = 'adv'): string => `${uniq(prefix)}@example.test`;

let snowflakes = 0;
/** A Discord id (19 digits) unique across the parallel run. */
const snowflake = (): string =>
  `${Date.now()}${String(process.pid % 1000).padStart(3, '0')}${String(++snowflakes % 1000).padStart(3, '0')}`;

describe('auth adversarial', () => {
  let t: TestApp;
  before(async () => {
    t = await bootTestApp();
  });
  after(async () => {
    closeAllClients();
    await t.close();
  });

  const login = (address: string, password = PASSWORD): Test =>
    t.http.post('/api/auth/login/').send({ email: address, password });
  const refresh = (token: string): Test => t.http.post('/api/auth/token/refresh/').send({ refresh: token });
  const profile = (access: string): Test => t.http.get('/api/auth/profile/').set(bearer(access));
  const register = (body: Body): Test => t.http.post('/api/auth/register/').send(body);

  async function loginPair(address: string, password = PASSWORD): Promise<Pair> {
    const res = await login(address, password);
    assert.equal(res.status, 200, res.text);
    assert.equal(typeof res.body.access, 'string', `a single-event login: ${res.text}`);
    return { access: res.body.access as string, refresh: res.body.refresh as string };
  }

  async function sessionRow(sid: string): Promise<{ revoked_reason: string | null } | undefined> {
    const rows: { revoked_reason: string | null }[] = await t.db.query(
      'SELECT revoked_reason FROM auth_sessions WHERE id = $1',
      [sid],
    );
    return rows[0];
  }

  async function assignmentId(eventId: string, userId: string): Promise<string> {
    const rows: { id: string }[] = await t.db.query(
      'SELECT id FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
      [eventId, userId],
    );
    assert.ok(rows[0], 'assignment exists');
    return rows[0].id;
  }

  /** Every row of the user, the user's sessions and assignments, and the events they created: for "nothing changed". */
  async function userFootprint(userId: string): Promise<unknown> {
    const rows: unknown[] = await t.db.query(
      `SELECT (SELECT to_jsonb(u) FROM users u WHERE u.id = $1) AS "user",
              (SELECT count(*)::int FROM auth_sessions WHERE user_id = $1) AS sessions,
              (SELECT count(*)::int FROM refresh_tokens r JOIN auth_sessions s ON s.id = r.session_id
                WHERE s.user_id = $1) AS refresh_tokens,
              (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.id), '[]') FROM user_event_assignments a
                WHERE a.user_id = $1) AS assignments,
              (SELECT count(*)::int FROM events WHERE created_by_id = $1) AS events_created,
              (SELECT count(*)::int FROM discord_bot_tokens WHERE created_by_id = $1) AS bot_tokens`,
      [userId],
    );
    return rows[0];
  }

  async function userRow(userId: string): Promise<Body> {
    const rows: Body[] = await t.db.query(
      `SELECT to_jsonb(u) - 'discord_link_code_hash' - 'discord_link_expires_at' AS row FROM users u WHERE id = $1`,
      [userId],
    );
    return (rows[0] as { row: Body }).row;
  }

  describe('refresh rotation and ended sessions', () => {
    it('a replay of the previous refresh racing the legitimate rotation: whatever wins, no token of the family lives', async () => {
      const event = await createEvent(t);
      const user = await createUser(t);
      await assign(t, event.id, user.id, 'participant');
      for (let round = 0; round < 3; round++) {
        const first = await loginPair(user.email);
        const rotated = await refresh(first.refresh);
        assert.equal(rotated.status, 200, rotated.text);
        const second = rotated.body as Pair;
        const [legit, replay] = await Promise.all([fire(refresh(second.refresh)), fire(refresh(first.refresh))]);
        expectError(replay, 401, 'TOKEN_INVALID');
        assert.equal((await sessionRow(sidOf(first.access)))?.revoked_reason, 'refresh_reuse');
        const accesses = [first.access, second.access];
        if (legit.status === 200) {
          accesses.push(legit.body.access as string);
          expectError(await refresh(legit.body.refresh as string), 401, 'TOKEN_INVALID');
        } else {
          expectError(legit, 401, 'TOKEN_INVALID');
        }
        for (const access of accesses) expectError(await profile(access), 401, 'TOKEN_INVALID');
      }
    });

    it('the token of a session ended by logout, refresh reuse, password change or event switch opens no kind of route, writes nothing', async () => {
      const [event, other] = [await createEvent(t), await createEvent(t)];
      const user = await createUser(t);
      await assign(t, event.id, user.id, 'organisateur');
      await assign(t, other.id, user.id, 'participant');
      const live = await openSession(t, user.id, event.id);
      // Control: a live token of the same user passes every guard below.
      for (const path of ['/api/auth/my-events/', '/api/user-assignments/', '/api/integrations/discord/']) {
        assert.equal((await t.http.get(path).set(bearer(live.access))).status, 200, path);
      }
      let password = PASSWORD;

      const dead: [string, string][] = [];
      const loggedOut = await openSession(t, user.id, event.id);
      await t.http.post('/api/auth/logout/').set(bearer(loggedOut.access)).send({}).expect(204);
      dead.push(['logout', loggedOut.access]);

      const replayed = await openSession(t, user.id, event.id);
      await refresh(replayed.refresh).expect(200);
      expectError(await refresh(replayed.refresh), 401, 'TOKEN_INVALID');
      dead.push(['refresh reuse', replayed.access]);

      const victim = await openSession(t, user.id, event.id);
      await t.http
        .post('/api/auth/change-password/')
        .set(bearer(live.access))
        .send({ old_password: password, new_password: 'rotated-password-1' })
        .expect(204);
      password = 'rotated-password-1';
      dead.push(['password change', victim.access]);

      const switched = await openSession(t, user.id, event.id);
      await t.http
        .post('/api/auth/switch-event/')
        .set(bearer(switched.access))
        .send({ event_id: other.id })
        .expect(200);
      dead.push(['event switch', switched.access]);

      const attempts = (token: string): [string, () => Test][] => [
        ['my-events (authenticated)', () => t.http.get('/api/auth/my-events/').set(bearer(token))],
        ['profile patch', () => t.http.patch('/api/auth/profile/').set(bearer(token)).send({ first_name: 'Hijack' })],
        [
          'change-password',
          () =>
            t.http
              .post('/api/auth/change-password/')
              .set(bearer(token))
              .send({ old_password: password, new_password: 'hijacked-password-1' }),
        ],
        ['switch-event', () => t.http.post('/api/auth/switch-event/').set(bearer(token)).send({ event_id: other.id })],
        ['discord-link', () => t.http.post('/api/auth/discord-link/').set(bearer(token)).send({})],
        ['logout', () => t.http.post('/api/auth/logout/').set(bearer(token)).send({})],
        ['organisateur read', () => t.http.get('/api/user-assignments/').set(bearer(token))],
        [
          'organisateur write',
          () =>
            t.http
              .post('/api/user-assignments/')
              .set(bearer(token))
              .send({ email: email('hijack'), role: 'organisateur' }),
        ],
        [
          'event creation',
          () =>
            t.http
              .post('/api/events/')
              .set(bearer(token))
              .send({
                name: uniq('Hijacked '),
                start_date: new Date(Date.now() + HOUR).toISOString(),
                end_date: new Date(Date.now() + 2 * HOUR).toISOString(),
              }),
        ],
        ['bot token', () => t.http.post('/api/integrations/discord/').set(bearer(token)).send({ name: 'hijack' })],
      ];
      const footprint = await userFootprint(user.id);
      const eventRows = await countRows(t, 'user_event_assignments', 'event_id = $1', [event.id]);
      for (const [reason, token] of dead) {
        for (const [label, attempt] of attempts(token)) {
          const res = await attempt();
          assert.equal(res.status, 401, `${reason} / ${label}: ${res.status} ${res.text}`);
          expectError(res, 401, 'TOKEN_INVALID');
        }
        assert.equal((await refusal(t, token)).message, 'TOKEN_INVALID', `${reason}: socket`);
      }
      assert.deepEqual(await userFootprint(user.id), footprint, 'nothing written for the user');
      assert.equal(await countRows(t, 'user_event_assignments', 'event_id = $1', [event.id]), eventRows);
      assert.equal((await login(user.email, password)).status, 200, 'the password is still the one set above');
      expectError(await login(user.email, 'hijacked-password-1'), 401, 'INVALID_CREDENTIALS');
    });

    it('a login that checked the old password while the password changed does not leave a live session behind', async () => {
      const event = await createEvent(t);
      const user = await createUser(t);
      await assign(t, event.id, user.id, 'participant');
      const changer = await openSession(t, user.id, event.id);
      // Hold the login between its password check and the commit of its session: it waits for refresh_tokens, which
      // the password change never touches, so the change runs to its end meanwhile.
      const qr = t.db.createQueryRunner();
      await qr.connect();
      let racing: Promise<Response> | undefined;
      try {
        await qr.startTransaction();
        const [{ pid }] = (await qr.query('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
        await qr.query('LOCK TABLE refresh_tokens IN EXCLUSIVE MODE');
        racing = fire(login(user.email));
        const deadline = Date.now() + 10_000;
        for (;;) {
          const [{ n }] = (await t.db.query(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
            [pid],
          )) as [{ n: number }];
          if (n >= 1) break;
          assert.ok(Date.now() < deadline, 'the login never reached its session insert');
          await sleep(10);
        }
        // The change may wait for the login (it holds the account's row until its session is committed): let it
        // start, then release the login.
        const changing = fire(
          t.http
            .post('/api/auth/change-password/')
            .set(bearer(changer.access))
            .send({ old_password: PASSWORD, new_password: 'changed-under-a-login-1' }),
        );
        await sleep(300);
        await qr.commitTransaction();
        const changed = await changing;
        assert.equal(changed.status, 204, changed.text);
      } finally {
        if (qr.isTransactionActive) await qr.rollbackTransaction();
        await qr.release();
      }
      const raced = await (racing as Promise<Response>);
      expectError(await login(user.email), 401, 'INVALID_CREDENTIALS');
      if (raced.status === 200) {
        // API.md: change-password → "other sessions revoked". This one was earned with the replaced password.
        const res = await profile(raced.body.access as string);
        assert.equal(res.status, 401, `the session of the racing login is alive: ${res.status} ${res.text}`);
        expectError(await refresh(raced.body.refresh as string), 401, 'TOKEN_INVALID');
      } else {
        expectError(raced, 401, 'INVALID_CREDENTIALS');
      }
    });

    it('a member removed through the API can neither refresh nor switch to another of their events (no session minted)', async () => {
      const w = await createWorld(t);
      const other = await createEvent(t);
      const user = await createUser(t);
      await assign(t, w.event.id, user.id, 'controlleur_des_badges');
      await assign(t, other.id, user.id, 'participant');
      const pair = await openSession(t, user.id, w.event.id);
      await profile(pair.access).expect(200);
      await t.http
        .delete(`/api/user-assignments/${await assignmentId(w.event.id, user.id)}/`)
        .set(bearer(w.tokens.organisateur))
        .expect(204);
      const before = await userFootprint(user.id);
      expectError(await refresh(pair.refresh), 401, 'MEMBERSHIP_REVOKED');
      expectError(
        await t.http.post('/api/auth/switch-event/').set(bearer(pair.access)).send({ event_id: other.id }),
        401,
        'MEMBERSHIP_REVOKED',
      );
      expectError(
        await t.http.post('/api/auth/discord-link/').set(bearer(pair.access)).send({}),
        401,
        'MEMBERSHIP_REVOKED',
      );
      assert.deepEqual(await userFootprint(user.id), before, 'no session, no spent refresh, no link code');
      // The person logs in again (as API.md says) and reaches the event they still belong to.
      const again = await login(user.email).expect(200);
      assert.equal(again.body.event.id, other.id);
    });
  });

  describe('event selection and scope', () => {
    it('select-event and switch-event accept an event id in upper case (UUIDs are case-insensitive)', async () => {
      const [a, b] = [await createEvent(t), await createEvent(t)];
      const user = await createUser(t);
      await assign(t, a.id, user.id, 'participant');
      await assign(t, b.id, user.id, 'exposant');
      const temp = (await login(user.email).expect(200)).body.temp_token as string;
      const selected = await t.http
        .post('/api/auth/select-event/')
        .set(bearer(temp))
        .send({ event_id: a.id.toUpperCase() });
      assert.equal(selected.status, 200, `select-event: ${selected.text}`);
      assert.equal(selected.body.event.id, a.id);
      const switched = await t.http
        .post('/api/auth/switch-event/')
        .set(bearer(selected.body.access as string))
        .send({ event_id: b.id.toUpperCase() });
      assert.equal(switched.status, 200, `switch-event: ${switched.text}`);
      assert.equal(switched.body.role, 'exposant');
    });

    it('a temp_token whose event was taken away after login: 404 for it, not spent, the other event still selectable', async () => {
      const [a, b] = [await createEvent(t), await createEvent(t)];
      const user = await createUser(t);
      await assign(t, a.id, user.id, 'participant');
      await assign(t, b.id, user.id, 'exposant');
      const temp = (await login(user.email).expect(200)).body.temp_token as string;
      await t.db.query('UPDATE user_event_assignments SET is_active = false WHERE event_id = $1 AND user_id = $2', [
        a.id,
        user.id,
      ]);
      const sessions = await countRows(t, 'auth_sessions', 'user_id = $1', [user.id]);
      expectError(
        await t.http.post('/api/auth/select-event/').set(bearer(temp)).send({ event_id: a.id }),
        404,
        'NOT_FOUND',
      );
      assert.equal(await countRows(t, 'auth_sessions', 'user_id = $1', [user.id]), sessions);
      const ok = await t.http.post('/api/auth/select-event/').set(bearer(temp)).send({ event_id: b.id }).expect(200);
      assert.equal(ok.body.role, 'exposant');
      expectError(
        await t.http.post('/api/auth/select-event/').set(bearer(temp)).send({ event_id: b.id }),
        401,
        'TOKEN_INVALID',
      );
    });

    it("organisateur of A and participant of B: neither token reaches the other event's organizer routes", async () => {
      const a = await createWorld(t);
      const b = await createWorld(t);
      const dual = await createUser(t);
      await assign(t, a.event.id, dual.id, 'organisateur');
      await assign(t, b.event.id, dual.id, 'participant');
      const tokenA = (await openSession(t, dual.id, a.event.id)).access;
      const tokenB = (await openSession(t, dual.id, b.event.id)).access;
      const bTarget = await assignmentId(b.event.id, b.users.exposant.id);
      const bEvent = async () =>
        (await t.db.query('SELECT to_jsonb(e) AS row FROM events e WHERE id = $1', [b.event.id]))[0] as unknown;
      const bAssignments = () => countRows(t, 'user_event_assignments', 'event_id = $1', [b.event.id]);
      const [eventBefore, assignmentsBefore] = [await bEvent(), await bAssignments()];

      // With A's token (organisateur there): B's objects do not exist.
      expectError(
        await t.http.patch(`/api/events/${b.event.id}/`).set(bearer(tokenA)).send({ location: 'taken over' }),
        404,
        'NOT_FOUND',
      );
      expectError(await t.http.get(`/api/events/${b.event.id}/statistics/`).set(bearer(tokenA)), 404, 'NOT_FOUND');
      expectError(await t.http.get(`/api/user-assignments/${bTarget}/`).set(bearer(tokenA)), 404, 'NOT_FOUND');
      expectError(
        await t.http.patch(`/api/user-assignments/${bTarget}/`).set(bearer(tokenA)).send({ role: 'organisateur' }),
        404,
        'NOT_FOUND',
      );
      expectValidation(
        await t.http.get('/api/user-assignments/').query({ event: b.event.id }).set(bearer(tokenA)),
        'event',
      );
      const added = await t.http
        .post('/api/user-assignments/')
        .set(bearer(tokenA))
        .send({ user_id: b.users.participant.id, role: 'gestionnaire_des_salles' });
      assert.equal(added.status, 201, added.text);
      assert.equal(added.body.event, a.event.id);
      // With B's token (participant there): the organizer role in A gives nothing in B.
      expectError(
        await t.http.patch(`/api/events/${b.event.id}/`).set(bearer(tokenB)).send({ location: 'taken over' }),
        403,
        'FORBIDDEN',
      );
      expectError(await t.http.get('/api/user-assignments/').set(bearer(tokenB)), 403, 'FORBIDDEN');
      expectError(
        await t.http.post('/api/integrations/discord/').set(bearer(tokenB)).send({ name: 'b-bot' }),
        403,
        'FORBIDDEN',
      );
      assert.deepEqual(await bEvent(), eventBefore);
      assert.equal(await bAssignments(), assignmentsBefore);
      assert.equal(await countRows(t, 'discord_bot_tokens', 'event_id = $1', [b.event.id]), 0);
    });

    it('a role changed through PATCH /api/participants/{id}/ acts on the next request, down and up', async () => {
      const w = await createWorld(t);
      const badge = await issueBadge(t, w.event.id, w.users.exposant.id);
      const leads = () => t.http.get('/api/exposant/scans/').set(bearer(w.tokens.exposant));
      await leads().expect(200);
      const patch = (role: string) =>
        t.http.patch(`/api/participants/${badge.participant.id}/`).set(bearer(w.tokens.organisateur)).send({ role });
      assert.equal((await patch('participant')).status, 200);
      expectError(await leads(), 403, 'FORBIDDEN');
      assert.equal((await profile(w.tokens.exposant).expect(200)).body.role, 'participant');
      assert.equal((await patch('exposant')).status, 200);
      await leads().expect(200);
    });

    it('a membership removed and given back through the API: the old token answers the same at once as later', async () => {
      const w = await createWorld(t);
      const user = await createUser(t);
      await assign(t, w.event.id, user.id, 'participant');
      const { access } = await openSession(t, user.id, w.event.id);
      await profile(access).expect(200);
      await t.http
        .delete(`/api/user-assignments/${await assignmentId(w.event.id, user.id)}/`)
        .set(bearer(w.tokens.organisateur))
        .expect(204);
      expectError(await profile(access), 401, 'MEMBERSHIP_REVOKED');
      await t.http
        .post('/api/user-assignments/')
        .set(bearer(w.tokens.organisateur))
        .send({ user_id: user.id, role: 'exposant' })
        .expect(201);
      const now = await profile(access);
      await sleep(t.config.authCacheTtlMs + 200);
      const later = await profile(access);
      // API.md: "Role or membership changes ... take effect immediately, also for unexpired tokens".
      assert.equal(
        now.status,
        later.status,
        `right after the re-assignment ${now.status} ${now.body.code ?? now.body.role}, ` +
          `${t.config.authCacheTtlMs} ms later ${later.status} ${later.body.code ?? later.body.role}`,
      );
    });
  });

  describe('registration, login and profile input', () => {
    it('PATCH profile/ with a null name: 400 VALIDATION_FAILED naming it, names unchanged', async () => {
      const user = await createUser(t, { firstName: 'Keep', lastName: 'Both' });
      const { access } = await openSession(t, user.id, null);
      const before = await userRow(user.id);
      for (const body of [{ first_name: null }, { last_name: null }]) {
        const res = await t.http.patch('/api/auth/profile/').set(bearer(access)).send(body);
        expectValidation(res, ...Object.keys(body));
      }
      assert.deepEqual(await userRow(user.id), before);
    });

    it('names longer than their column once variation selectors are counted: 400 VALIDATION_FAILED naming the field, nothing written', async () => {
      // The validator counts "a" + U+FE0F as one character; PostgreSQL's varchar counts two. 150 (or 100) for the
      // first, 300 (or 200) for the second.
      const long = (n: number) => 'a\uFE0F'.repeat(n);
      const w = await createWorld(t, { registrationOpen: true });
      const bot = (
        await t.http.post('/api/integrations/discord/').set(bearer(w.tokens.organisateur)).send({ name: 'bot' })
      ).body.token as string;
      const user = await createUser(t, { firstName: 'Keep', lastName: 'Me' });
      const { access } = await openSession(t, user.id, null);
      const before = await userRow(user.id);
      const [address, invited, discordId] = [email(), email(), snowflake()];
      const attempts: [string, string, () => Test][] = [
        [
          'register/',
          'first_name',
          () => register({ email: address, password: 'long-enough-1', first_name: long(150), last_name: 'B' }),
        ],
        [
          'PATCH profile/',
          'last_name',
          () =>
            t.http
              .patch('/api/auth/profile/')
              .set(bearer(access))
              .send({ last_name: long(150) }),
        ],
        [
          'POST user-assignments/ by email',
          'first_name',
          () =>
            t.http
              .post('/api/user-assignments/')
              .set(bearer(w.tokens.organisateur))
              .send({ email: invited, first_name: long(150), role: 'participant' }),
        ],
        [
          'POST integrations/discord/',
          'name',
          () =>
            t.http
              .post('/api/integrations/discord/')
              .set(bearer(w.tokens.organisateur))
              .send({ name: long(100) }),
        ],
        [
          'POST discord/users/register/',
          'discord_username',
          () =>
            t.http
              .post('/api/discord/users/register/')
              .set({ 'X-Bot-Token': bot })
              .send({ name: 'Ada', discord_user_id: discordId, discord_username: long(100) }),
        ],
      ];
      const offenders: string[] = [];
      for (const [label, field, attempt] of attempts) {
        const res = await attempt();
        const named = Array.isArray((res.body.errors as Record<string, unknown> | undefined)?.[field]);
        if (res.status !== 400 || res.body.code !== 'VALIDATION_FAILED' || !named) {
          offenders.push(`${label}: ${res.status} ${res.body.code as string} (${res.body.detail as string})`);
        }
      }
      assert.equal(
        await countRows(t, 'users', 'email IN ($1, $2) OR discord_user_id = $3', [address, invited, discordId]),
        0,
      );
      assert.equal(await countRows(t, 'discord_bot_tokens', 'event_id = $1', [w.event.id]), 1);
      assert.deepEqual(await userRow(user.id), before);
      assert.deepEqual(offenders, [], 'each over-long value is a VALIDATION_FAILED naming its field');
    });

    it('control: 150 emoji (surrogate pairs) are 150 characters on both sides and are stored as sent', async () => {
      const name = '\u{1F600}'.repeat(150);
      const address = email();
      const res = await register({ email: address, password: 'long-enough-1', first_name: name, last_name: 'B' });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.user.first_name, name);
      expectValidation(
        await register({ email: email(), password: 'long-enough-1', first_name: `${name}x`, last_name: 'B' }),
        'first_name',
      );
    });

    it('one account per address: case, surrounding Unicode spaces and the Kelvin sign reach the same account', async () => {
      const base = email('kase');
      const created = await register({ email: base, password: 'long-enough-1', first_name: 'K', last_name: 'A' });
      assert.equal(created.status, 201, created.text);
      const id = created.body.user.id as string;
      const variants = [
        base.toUpperCase(),
        base.replace('@example.test', '@EXAMPLE.Test'),
        `\u00A0${base}`,
        `\u2003${base}`,
        `\uFEFF${base}`,
        `\u212A${base.slice(1)}`, // KELVIN SIGN lower-cases to "k"
        ` ${base} `,
      ];
      for (const variant of variants) {
        const res = await register({ email: variant, password: 'other-password-1', first_name: 'X', last_name: 'Y' });
        assert.ok([400, 409].includes(res.status), `${JSON.stringify(variant)}: ${res.status} ${res.text}`);
        if (res.status === 409) expectError(res, 409, 'EMAIL_TAKEN');
        const again = await login(variant, 'long-enough-1');
        assert.equal(again.status, 200, `${JSON.stringify(variant)} logs in: ${again.text}`);
        assert.equal(again.body.user.id, id);
      }
      assert.equal(await countRows(t, 'users', 'email LIKE $1', [`%${base.slice(1)}`]), 1);
      expectError(await login(base, 'other-password-1'), 401, 'INVALID_CREDENTIALS');
    });

    it('an address differing only by an invisible character (U+200B) or its Unicode normal form is not a second account', async () => {
      const local = uniq('jos');
      const composed = `${local}\u00E9@example.test`;
      const created = await register({ email: composed, password: 'long-enough-1', first_name: 'J', last_name: 'E' });
      assert.equal(created.status, 201, created.text);
      const lookalikes = [`\u200B${composed}`, `${local}e\u0301@example.test`];
      for (const variant of lookalikes) {
        const res = await register({ email: variant, password: 'other-password-1', first_name: 'X', last_name: 'Y' });
        assert.ok(
          [400, 409].includes(res.status),
          `${JSON.stringify(variant)} looks like ${composed} but made an account: ${res.status} ${res.text}`,
        );
      }
      assert.equal(await countRows(t, 'users', 'email LIKE $1', [`%${local}%`]), 1);
    });

    it('passwords: at least 8 characters (not UTF-16 units), at most 128, never trimmed', async () => {
      const address = email();
      expectValidation(
        await register({ email: address, password: '\u{1F511}'.repeat(4), first_name: 'A', last_name: 'B' }),
        'password',
      );
      expectValidation(
        await register({ email: address, password: 'x'.repeat(129), first_name: 'A', last_name: 'B' }),
        'password',
      );
      assert.equal(await countRows(t, 'users', 'email = $1', [address]), 0);
      const spaced = '  spaced pass  ';
      await register({ email: address, password: spaced, first_name: 'A', last_name: 'B' }).expect(201);
      expectError(await login(address, spaced.trim()), 401, 'INVALID_CREDENTIALS');
      await login(address, spaced).expect(200);
      const emoji = email();
      await register({ email: emoji, password: '\u{1F511}'.repeat(8), first_name: 'A', last_name: 'B' }).expect(201);
      await login(emoji, '\u{1F511}'.repeat(8)).expect(200);
    });

    it('an unknown email costs a password check like a wrong password (no fast path that tells them apart)', async () => {
      const user = await createUser(t);
      const timed = async (address: string, password: string): Promise<number> => {
        const started = process.hrtime.bigint();
        expectError(await login(address, password), 401, 'INVALID_CREDENTIALS');
        return Number(process.hrtime.bigint() - started) / 1e6;
      };
      await timed(user.email, 'warm-up-password'); // argon2 and the pool warmed up
      const unknown: number[] = [];
      const wrong: number[] = [];
      for (let i = 0; i < 6; i++) {
        unknown.push(await timed(email('nobody'), 'wrong-password-1'));
        wrong.push(await timed(user.email, 'wrong-password-1'));
      }
      const [u, w] = [Math.min(...unknown), Math.min(...wrong)];
      assert.ok(u >= w * 0.4, `unknown email ${u.toFixed(1)} ms vs wrong password ${w.toFixed(1)} ms`);
    });
  });

  describe('staff assignments: other doors to the same change', () => {
    it('the only organisateur cannot lose the role through participants, a CSV import or the registration routes', async () => {
      const w = await createWorld(t, { registrationOpen: true });
      const org = w.users.organisateur;
      const own = await issueBadge(t, w.event.id, org.id);
      const token = bearer(w.tokens.organisateur);
      const mine = async () =>
        (
          await t.db.query('SELECT role, is_active FROM user_event_assignments WHERE event_id = $1 AND user_id = $2', [
            w.event.id,
            org.id,
          ])
        )[0] as unknown;
      const before = await mine();

      expectError(
        await t.http.patch(`/api/participants/${own.participant.id}/`).set(token).send({ role: 'participant' }),
        403,
        'OWN_ROLE_CHANGE',
      );
      const csv = Buffer.from(`email,first_name,last_name,role\n${org.email.toUpperCase()},Org,Self,participant\n`);
      const imported = await t.http.post('/api/participants/import/').set(token).attach('file', csv, 'people.csv');
      assert.equal(imported.status, 200, imported.text);
      const cancelled = await t.http.delete(`/api/events/${w.event.id}/register/`).set(token);
      assert.ok([404, 409].includes(cancelled.status), `cancel: ${cancelled.status} ${cancelled.text}`);
      const removed = await t.http.delete(`/api/participants/${own.participant.id}/`).set(token);
      assert.ok([204, 403].includes(removed.status), `badge removal: ${removed.status} ${removed.text}`);

      assert.deepEqual(await mine(), before);
      assert.equal(
        await countRows(t, 'user_event_assignments', "event_id = $1 AND role = 'organisateur' AND is_active", [
          w.event.id,
        ]),
        1,
      );
      await t.http.get('/api/user-assignments/').set(token).expect(200);
    });

    it('a CSV import cannot demote another organisateur either (the last-organizer rule lives in user-assignments)', async () => {
      const w = await createWorld(t);
      const second = await createUser(t);
      await assign(t, w.event.id, second.id, 'organisateur');
      const csv = Buffer.from(`email,first_name,last_name,role\n${second.email},Sec,Ond,participant\n`);
      const res = await t.http
        .post('/api/participants/import/')
        .set(bearer(w.tokens.organisateur))
        .attach('file', csv, 'people.csv');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.errors.length, 1, res.text);
      const rows: { role: string }[] = await t.db.query(
        'SELECT role FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
        [w.event.id, second.id],
      );
      assert.equal(rows[0]?.role, 'organisateur');
    });

    it('parallel POSTs of one new email in different letter cases: one account, one 201, the others 409', async () => {
      const w = await createWorld(t);
      const base = email('staff');
      const spellings = [
        base,
        base.toUpperCase(),
        base.replace('staff', 'STAFF'),
        base.replace('@example', '@Example'),
      ];
      const responses = await Promise.all(
        [...spellings, ...spellings].map((address) =>
          fire(
            t.http
              .post('/api/user-assignments/')
              .set(bearer(w.tokens.organisateur))
              .send({ email: address, role: 'controlleur_des_badges' }),
          ),
        ),
      );
      assert.deepEqual(tally(responses), { 201: 1, 409: 7 });
      for (const r of responses.filter((x) => x.status === 409)) expectError(r, 409, 'ASSIGNMENT_EXISTS');
      assert.equal(await countRows(t, 'users', 'lower(email) = $1', [base]), 1);
      assert.equal(
        await countRows(
          t,
          'user_event_assignments a JOIN users u ON u.id = a.user_id',
          'a.event_id = $1 AND u.email = $2',
          [w.event.id, base],
        ),
        1,
      );
    });

    it('DELETE and PATCH of one assignment at the same moment: the row ends deleted, every answer is 2xx or 404', async () => {
      const w = await createWorld(t);
      for (let round = 0; round < 3; round++) {
        const user = await createUser(t);
        const id = (await assign(t, w.event.id, user.id, 'participant')).id;
        const org = bearer(w.tokens.organisateur);
        const responses = await Promise.all([
          fire(t.http.patch(`/api/user-assignments/${id}/`).set(org).send({ role: 'exposant' })),
          fire(t.http.delete(`/api/user-assignments/${id}/`).set(org)),
          fire(
            t.http
              .put(`/api/user-assignments/${id}/`)
              .set(org)
              .send({ role: 'gestionnaire_des_salles', is_active: false }),
          ),
        ]);
        for (const r of responses) assert.ok([200, 204, 404].includes(r.status), `${r.status} ${r.text}`);
        assert.equal((responses[1] as Response).status, 204);
        assert.equal(await countRows(t, 'user_event_assignments', 'id = $1', [id]), 0);
        assert.equal(await countRows(t, 'participants', 'event_id = $1 AND user_id = $2', [w.event.id, user.id]), 0);
      }
    });
  });

  describe('discord', () => {
    const asBot = (token: string) => ({ 'X-Bot-Token': token });
    async function botToken(organizerToken: string): Promise<string> {
      const res = await t.http.post('/api/integrations/discord/').set(bearer(organizerToken)).send({ name: 'bot' });
      assert.equal(res.status, 201, res.text);
      return res.body.token as string;
    }
    const registerDiscord = (bot: string, discordUserId: string, username: string): Test =>
      t.http
        .post('/api/discord/users/register/')
        .set(asBot(bot))
        .send({ name: 'Ada Lovelace', discord_user_id: discordUserId, discord_username: username });
    async function linkedMember(
      eventId: string,
      opts: { isActive?: boolean } = {},
    ): Promise<{ user: TestUser; discordId: string }> {
      const user = await createUser(t, opts);
      const discordId = snowflake();
      await t.db.query('UPDATE users SET discord_user_id = $2, discord_username = $3 WHERE id = $1', [
        user.id,
        discordId,
        'original-name',
      ]);
      await assign(t, eventId, user.id, 'participant');
      return { user, discordId };
    }

    it("a bot of event A refused by A's closed registration writes nothing on a Discord user of event B", async () => {
      const a = await createWorld(t, { registrationOpen: false });
      const b = await createWorld(t, { registrationOpen: true });
      const bot = await botToken(a.tokens.organisateur);
      const { user, discordId } = await linkedMember(b.event.id);
      const before = await userRow(user.id);
      expectError(await registerDiscord(bot, discordId, 'renamed-by-a'), 409, 'REGISTRATION_CLOSED');
      assert.deepEqual(await userRow(user.id), before, "the user row (discord_username, updated_at) of B's member");
      assert.equal(
        await countRows(t, 'user_event_assignments', 'event_id = $1 AND user_id = $2', [a.event.id, user.id]),
        0,
      );
    });

    it('a deactivated account: 403 ACCOUNT_INACTIVE and nothing written on it', async () => {
      const w = await createWorld(t, { registrationOpen: true });
      const bot = await botToken(w.tokens.organisateur);
      const other = await createEvent(t);
      const { user, discordId } = await linkedMember(other.id, { isActive: false });
      const before = await userRow(user.id);
      expectError(await registerDiscord(bot, discordId, 'renamed-while-inactive'), 403, 'ACCOUNT_INACTIVE');
      assert.deepEqual(await userRow(user.id), before);
      assert.equal(await countRows(t, 'event_registrations', 'user_id = $1', [user.id]), 0);
    });

    it('one link code used by five Discord accounts at once: exactly one is linked', async () => {
      const w = await createWorld(t, { registrationOpen: true });
      const bot = await botToken(w.tokens.organisateur);
      const person = await createUser(t);
      const { access } = await openSession(t, person.id, null);
      const code = (await t.http.post('/api/auth/discord-link/').set(bearer(access)).send({})).body.code as string;
      assert.match(code, /^[A-Z0-9]{8}$/);
      const ids = Array.from({ length: 5 }, () => snowflake());
      const responses = await Promise.all(
        ids.map((id) =>
          fire(
            t.http
              .post('/api/discord/users/link/')
              .set(asBot(bot))
              .send({ discord_user_id: id, discord_username: `u${id.slice(-4)}`, code }),
          ),
        ),
      );
      assert.deepEqual(tally(responses), { 200: 1, 400: 4 });
      for (const r of responses.filter((x) => x.status === 400)) expectError(r, 400, 'LINK_CODE_INVALID');
      const winner = ids[responses.findIndex((r) => r.status === 200)];
      assert.equal((await userRow(person.id)).discord_user_id, winner);
      assert.equal(await countRows(t, 'users', 'discord_user_id = ANY($1)', [ids]), 1);
    });

    it('the link code of an account deactivated after issuing it links nothing', async () => {
      const w = await createWorld(t, { registrationOpen: true });
      const bot = await botToken(w.tokens.organisateur);
      const person = await createUser(t);
      const { access } = await openSession(t, person.id, null);
      const code = (await t.http.post('/api/auth/discord-link/').set(bearer(access)).send({})).body.code as string;
      await t.db.query('UPDATE users SET is_active = false WHERE id = $1', [person.id]);
      const discordId = snowflake();
      expectError(
        await t.http
          .post('/api/discord/users/link/')
          .set(asBot(bot))
          .send({ discord_user_id: discordId, discord_username: 'late', code }),
        400,
        'LINK_CODE_INVALID',
      );
      assert.equal((await userRow(person.id)).discord_user_id, null);
    });

    it('one new Discord user registered by the bots of two events at once: one account, one registration in each', async () => {
      const a = await createWorld(t, { registrationOpen: true });
      const b = await createWorld(t, { registrationOpen: true });
      const [botA, botB] = [await botToken(a.tokens.organisateur), await botToken(b.tokens.organisateur)];
      const discordId = snowflake();
      const responses = await Promise.all(
        Array.from({ length: 16 }, (_, i) => fire(registerDiscord(i % 2 ? botA : botB, discordId, 'twin'))),
      );
      for (const r of responses) assert.ok([200, 201].includes(r.status), `${r.status} ${r.text}`);
      assert.equal(await countRows(t, 'users', 'discord_user_id = $1', [discordId]), 1);
      const [{ id }] = (await t.db.query('SELECT id FROM users WHERE discord_user_id = $1', [discordId])) as [
        { id: string },
      ];
      for (const eventId of [a.event.id, b.event.id]) {
        assert.equal(await countRows(t, 'event_registrations', 'event_id = $1 AND user_id = $2', [eventId, id]), 1);
        assert.equal(await countRows(t, 'participants', 'event_id = $1 AND user_id = $2', [eventId, id]), 1);
      }
      assert.equal(responses.filter((r) => r.body.account_created === true).length, 1, 'the account is created once');
    });

    it("the bot token of a deleted event is refused at once; another event's token goes on", async () => {
      const doomed = await createWorld(t, { registrationOpen: true });
      const kept = await createWorld(t, { registrationOpen: true });
      const [doomedBot, keptBot] = [
        await botToken(doomed.tokens.organisateur),
        await botToken(kept.tokens.organisateur),
      ];
      await t.http.get('/api/discord/events/active/').set(asBot(doomedBot)).expect(200);
      await t.http.delete(`/api/events/${doomed.event.id}/`).set(bearer(doomed.tokens.organisateur)).expect(204);
      expectError(await t.http.get('/api/discord/events/active/').set(asBot(doomedBot)), 401, 'TOKEN_INVALID');
      const discordId = snowflake();
      expectError(await registerDiscord(doomedBot, discordId, 'ghost'), 401, 'TOKEN_INVALID');
      assert.equal(await countRows(t, 'users', 'discord_user_id = $1', [discordId]), 0);
      await t.http.get('/api/discord/events/active/').set(asBot(keptBot)).expect(200);
    });
  });
});

describe('auth adversarial: login limits count register/ and ignore forwarded addresses', () => {
  let t: TestApp;
  before(async () => {
    // No REDIS_URL: counted exactly in this process. Long windows, so that none ends during the test.
    t = await bootTestApp({ RATE_LIMIT_LOGIN_ACCOUNT: '3/10m', RATE_LIMIT_LOGIN_IP: '1000/10m' });
  });
  after(() => t.close());

  it('after 3 failed logins on an invited address, register/ for it is 429 and claims nothing', async () => {
    const event = await createEvent(t);
    const invited = await createUser(t, { password: null });
    await assign(t, event.id, invited.id, 'exposant');
    for (let i = 0; i < 3; i++) {
      expectError(
        await t.http.post('/api/auth/login/').send({ email: invited.email, password: 'guess-number-1' }),
        401,
        'INVALID_CREDENTIALS',
      );
    }
    const res = await t.http
      .post('/api/auth/register/')
      .send({ email: invited.email.toUpperCase(), password: 'claimed-pass-1', first_name: 'A', last_name: 'B' });
    expectError(res, 429, 'RATE_LIMITED');
    const rows: { password_hash: string | null }[] = await t.db.query('SELECT password_hash FROM users WHERE id = $1', [
      invited.id,
    ]);
    assert.equal(rows[0]?.password_hash, null);
    assert.equal(await countRows(t, 'auth_sessions', 'user_id = $1', [invited.id]), 0);
    // Control: another address from the same client registers.
    const other = await t.http
      .post('/api/auth/register/')
      .send({ email: email(), password: 'long-enough-1', first_name: 'A', last_name: 'B' });
    assert.equal(other.status, 201, other.text);
  });
});

describe('auth adversarial: the per-IP login limit ignores X-Forwarded-For (TRUST_PROXY off)', () => {
  let t: TestApp;
  before(async () => {
    t = await bootTestApp({ RATE_LIMIT_LOGIN_IP: '4/10m', RATE_LIMIT_LOGIN_ACCOUNT: '1000/10m' });
  });
  after(() => t.close());

  it('4 attempts on 4 accounts from 4 claimed addresses, then 429 for a 5th account and address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const path = i % 2 ? '/api/auth/token/' : '/api/auth/login/';
      const res = await t.http
        .post(path)
        .set('X-Forwarded-For', `203.0.113.${i + 1}`)
        .set('X-Real-IP', `198.51.100.${i + 1}`)
        .send({ email: email('ip'), password: 'wrong-password-1' });
      statuses.push(res.status);
      if (i === 4) expectError(res, 429, 'RATE_LIMITED');
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 429]);
  });
});
