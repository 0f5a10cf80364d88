import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Response, Test } from 'supertest';
import type { QueryRunner } from 'typeorm';
import { EVENT_ROLES, type EventRole } from '../src/common/auth/event-role';
import {
  assign,
  bearer,
  countRows,
  createEvent,
  createUser,
  createWorld,
  openSession,
  PASSWORD,
  uniq,
  type World,
} from './helpers/factories';
import { expectError } from './helpers/assertions';
import { fire, tally } from './helpers/requests';
import { bootTestApp, type TestApp } from './helpers/test-app';

const NON_ORGANIZER_ROLES = EVENT_ROLES.filter((r) => r !== 'organisateur');
const ASSIGNMENT_KEYS = [
  'id',
  'user',
  'user_name',
  'user_email',
  'event',
  'role',
  'is_active',
  'assigned_at',
  'assigned_by',
].sort();
const UNKNOWN_ID = '6f1c1c2e-1111-4111-8111-111111111111';

function assertAssignmentShape(body: Record<string, unknown>): void {
  assert.deepEqual(Object.keys(body).sort(), ASSIGNMENT_KEYS);
  assert.match(String(body.assigned_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
}

describe('user-assignments', () => {
  let t: TestApp;

  const assignmentId = async (eventId: string, userId: string): Promise<string> => {
    const rows: { id: string }[] = await t.db.query(
      'SELECT id FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
      [eventId, userId],
    );
    assert.ok(rows[0], 'assignment exists');
    return rows[0].id;
  };

  /** All assignment rows of an event as JSON, for "nothing changed" assertions. */
  const snapshot = async (eventId: string): Promise<unknown[]> => {
    const rows: { row: unknown }[] = await t.db.query(
      'SELECT to_jsonb(a) AS row FROM user_event_assignments a WHERE event_id = $1 ORDER BY id',
      [eventId],
    );
    return rows.map((r) => r.row);
  };

  const activeOrganizers = (eventId: string) =>
    countRows(t, 'user_event_assignments', "event_id = $1 AND role = 'organisateur' AND is_active", [eventId]);

  /** An event with exactly two active organisateurs, each with a token for it. */
  const twoOrganizers = async () => {
    const event = await createEvent(t);
    const a = await createUser(t, { firstName: 'A' });
    const b = await createUser(t, { firstName: 'B' });
    const aId = (await assign(t, event.id, a.id, 'organisateur')).id;
    const bId = (await assign(t, event.id, b.id, 'organisateur')).id;
    const aToken = (await openSession(t, a.id, event.id)).access;
    const bToken = (await openSession(t, b.id, event.id)).access;
    return { event, a, b, aId, bId, aToken, bToken };
  };

  /**
   * Runs requests while this test holds the event's organizer rows locked (the lock every writer takes first), and
   * releases it only once both requests are waiting on it: both have passed the guard as organisateurs, so the
   * interleaving that could remove the last organizer is forced rather than hoped for.
   */
  const whileOrganizersLocked = async (eventId: string, requests: () => Test[]): Promise<Response[]> => {
    const qr: QueryRunner = t.db.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      const [{ pid }] = (await qr.query('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
      await qr.query(
        `SELECT id FROM user_event_assignments WHERE event_id = $1 AND role = 'organisateur' AND is_active FOR UPDATE`,
        [eventId],
      );
      const pending = requests().map(fire);
      const deadline = Date.now() + 10_000;
      for (;;) {
        // Waiters queue behind each other, so count everything blocked by this session directly or transitively.
        const [{ n }] = (await t.db.query(
          `WITH RECURSIVE blocked(pid) AS (
             SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))
             UNION
             SELECT a.pid FROM pg_stat_activity a JOIN blocked b ON b.pid = ANY(pg_blocking_pids(a.pid)))
           SELECT count(*)::int AS n FROM blocked`,
          [pid],
        )) as [{ n: number }];
        if (n >= pending.length) break;
        assert.ok(Date.now() < deadline, `only ${n} of ${pending.length} requests reached the lock`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await qr.commitTransaction();
      return await Promise.all(pending);
    } finally {
      if (qr.isTransactionActive) await qr.rollbackTransaction();
      await qr.release();
    }
  };

  before(async () => {
    t = await bootTestApp();
  });
  after(() => t.close());

  describe('organisateur', () => {
    let w: World;
    before(async () => {
      w = await createWorld(t);
    });

    it('lists the event’s assignments with exactly the documented keys', async () => {
      const res = await t.http.get('/api/user-assignments/').set(bearer(w.tokens.organisateur)).expect(200);
      assert.deepEqual(Object.keys(res.body).sort(), ['count', 'next', 'previous', 'results']);
      assert.equal(res.body.count, 5);
      for (const a of res.body.results) {
        assertAssignmentShape(a);
        assert.equal(a.event, w.event.id);
      }
      const org = res.body.results.find((a: { user: string }) => a.user === w.users.organisateur.id);
      assert.equal(org.role, 'organisateur');
      assert.equal(org.user_email, w.users.organisateur.email);
      assert.equal(org.user_name, `organisateur ${w.users.organisateur.lastName}`);
      assert.equal(org.is_active, true);
    });

    it('GET /{id}/ returns one assignment; malformed id 400; unknown id 404', async () => {
      const id = await assignmentId(w.event.id, w.users.exposant.id);
      const res = await t.http.get(`/api/user-assignments/${id}/`).set(bearer(w.tokens.organisateur)).expect(200);
      assertAssignmentShape(res.body);
      assert.deepEqual(
        { id: res.body.id, user: res.body.user, role: res.body.role, event: res.body.event },
        { id, user: w.users.exposant.id, role: 'exposant', event: w.event.id },
      );
      await t.http.get(`/api/user-assignments/${id}`).set(bearer(w.tokens.organisateur)).expect(200);
      expectError(
        await t.http.get('/api/user-assignments/42/').set(bearer(w.tokens.organisateur)),
        400,
        'VALIDATION_FAILED',
        ['id'],
      );
      expectError(
        await t.http.get(`/api/user-assignments/${UNKNOWN_ID}/`).set(bearer(w.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
    });

    it('POST by user_id: 201 with the documented keys, assigned_by the caller', async () => {
      const user = await createUser(t, { firstName: 'Nadia', lastName: 'Benali' });
      const res = await t.http
        .post('/api/user-assignments/')
        .set(bearer(w.tokens.organisateur))
        .send({ user_id: user.id, role: 'gestionnaire_des_salles' })
        .expect(201);
      assertAssignmentShape(res.body);
      assert.equal(res.body.user, user.id);
      assert.equal(res.body.user_name, 'Nadia Benali');
      assert.equal(res.body.user_email, user.email);
      assert.equal(res.body.event, w.event.id);
      assert.equal(res.body.role, 'gestionnaire_des_salles');
      assert.equal(res.body.is_active, true);
      assert.equal(res.body.assigned_by, w.users.organisateur.id);
      const rows: { id: string; role: string }[] = await t.db.query(
        'SELECT id, role FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
        [w.event.id, user.id],
      );
      assert.deepEqual(rows, [{ id: res.body.id, role: 'gestionnaire_des_salles' }]);
    });

    it('POST with is_active false creates an inactive membership that does not open the event', async () => {
      const user = await createUser(t);
      const res = await t.http
        .post('/api/user-assignments')
        .set(bearer(w.tokens.organisateur))
        .send({ user_id: user.id, role: 'participant', is_active: false })
        .expect(201);
      assert.equal(res.body.is_active, false);
      const token = (await openSession(t, user.id, null)).access;
      expectError(await t.http.get(`/api/events/${w.event.id}/`).set(bearer(token)), 404, 'NOT_FOUND');
    });

    it('POST the same user twice: 409 ASSIGNMENT_EXISTS and still one row (also for another role)', async () => {
      const user = await createUser(t);
      const body = { user_id: user.id, role: 'participant' };
      await t.http.post('/api/user-assignments/').set(bearer(w.tokens.organisateur)).send(body).expect(201);
      for (const role of ['participant', 'organisateur']) {
        expectError(
          await t.http
            .post('/api/user-assignments/')
            .set(bearer(w.tokens.organisateur))
            .send({ ...body, role }),
          409,
          'ASSIGNMENT_EXISTS',
        );
      }
      const rows: { role: string }[] = await t.db.query(
        'SELECT role FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
        [w.event.id, user.id],
      );
      assert.deepEqual(rows, [{ role: 'participant' }]);
      // The caller already has a role here too.
      expectError(
        await t.http
          .post('/api/user-assignments/')
          .set(bearer(w.tokens.organisateur))
          .send({ user_id: w.users.organisateur.id, role: 'participant' }),
        409,
        'ASSIGNMENT_EXISTS',
      );
    });

    it('POST for an unknown user_id: 404, nothing written', async () => {
      const before = await snapshot(w.event.id);
      expectError(
        await t.http
          .post('/api/user-assignments/')
          .set(bearer(w.tokens.organisateur))
          .send({ user_id: UNKNOWN_ID, role: 'participant' }),
        404,
        'NOT_FOUND',
      );
      assert.deepEqual(await snapshot(w.event.id), before);
    });

    it('POST by a new email creates a password-less account that can register later and keeps the role', async () => {
      const email = `${uniq('new')}@Example.TEST`;
      const res = await t.http
        .post('/api/user-assignments/')
        .set(bearer(w.tokens.organisateur))
        .send({ email, first_name: ' Karim ', last_name: 'Haddad', role: 'exposant' })
        .expect(201);
      assertAssignmentShape(res.body);
      assert.equal(res.body.user_email, email.toLowerCase());
      assert.equal(res.body.user_name, 'Karim Haddad');
      assert.equal(res.body.role, 'exposant');
      const users: { id: string; password_hash: string | null }[] = await t.db.query(
        'SELECT id, password_hash FROM users WHERE email = $1',
        [email.toLowerCase()],
      );
      assert.deepEqual(users, [{ id: res.body.user, password_hash: null }]);

      // No password yet: logging in is impossible, whatever the password.
      expectError(await t.http.post('/api/auth/login/').send({ email, password: '' }), 401, 'INVALID_CREDENTIALS');

      const registered = await t.http
        .post('/api/auth/register/')
        .send({ email: email.toUpperCase(), password: PASSWORD, first_name: 'Karim', last_name: 'Haddad' })
        .expect(201);
      assert.equal(registered.body.user.id, res.body.user);
      assert.equal(await countRows(t, 'users', 'email = $1', [email.toLowerCase()]), 1);
      const profile = await t.http.get('/api/auth/profile/').set(bearer(registered.body.access)).expect(200);
      assert.equal(profile.body.role, 'exposant');
      await t.http.get(`/api/events/${w.event.id}/`).set(bearer(registered.body.access)).expect(200);
    });

    it('POST by the email of an existing account (any case) reuses it and creates no user', async () => {
      const user = await createUser(t, { firstName: 'Existing', lastName: 'Person' });
      const res = await t.http
        .post('/api/user-assignments/')
        .set(bearer(w.tokens.organisateur))
        .send({ email: user.email.toUpperCase(), role: 'controlleur_des_badges' })
        .expect(201);
      assert.equal(res.body.user, user.id);
      assert.equal(res.body.user_name, 'Existing Person');
      assert.equal(await countRows(t, 'users', 'email = $1', [user.email]), 1);
    });

    const badBodies: [string, Record<string, unknown>, string[]][] = [
      ['unknown role', { role: 'admin' }, ['role']],
      ['role missing', {}, ['role']],
      ['role of another casing', { role: 'Organisateur' }, ['role']],
      ['role as a number', { role: 1 }, ['role']],
      ['is_active not a boolean', { role: 'participant', is_active: 'yes' }, ['is_active']],
      ['is_active null', { role: 'participant', is_active: null }, ['is_active']],
      ['read-only id', { role: 'participant', id: UNKNOWN_ID }, ['id']],
      ['read-only assigned_by', { role: 'participant', assigned_by: UNKNOWN_ID }, ['assigned_by']],
      ['event in the body', { role: 'participant', event: UNKNOWN_ID }, ['event']],
      ['event_id in the body', { role: 'participant', event_id: UNKNOWN_ID }, ['event_id']],
      ['user instead of user_id', { role: 'participant', user: UNKNOWN_ID }, ['user']],
    ];
    for (const [label, extra, fields] of badBodies) {
      it(`POST with ${label}: 400 VALIDATION_FAILED, nothing written`, async () => {
        const user = await createUser(t);
        const before = await snapshot(w.event.id);
        const res = await t.http
          .post('/api/user-assignments/')
          .set(bearer(w.tokens.organisateur))
          .send({ user_id: user.id, ...extra });
        expectError(res, 400, 'VALIDATION_FAILED', fields);
        assert.deepEqual(await snapshot(w.event.id), before);
      });
    }

    const badTargets: [string, Record<string, unknown>, string[]][] = [
      ['neither user_id nor email', { role: 'participant' }, ['user_id', 'email']],
      ['a malformed user_id', { user_id: 'abc', role: 'participant' }, ['user_id']],
      ['a malformed email', { email: 'not-an-email', role: 'participant' }, ['email']],
      ['both user_id and email', { user_id: UNKNOWN_ID, email: 'x@example.test', role: 'participant' }, ['email']],
      ['names with user_id', { user_id: UNKNOWN_ID, first_name: 'X', role: 'participant' }, ['first_name']],
      ['a non-string first_name', { email: 'y@example.test', first_name: 5, role: 'participant' }, ['first_name']],
    ];
    for (const [label, body, fields] of badTargets) {
      it(`POST with ${label}: 400 VALIDATION_FAILED, nothing written`, async () => {
        const before = await snapshot(w.event.id);
        const users = await countRows(t, 'users', 'email IN ($1, $2)', ['x@example.test', 'y@example.test']);
        const res = await t.http.post('/api/user-assignments/').set(bearer(w.tokens.organisateur)).send(body);
        expectError(res, 400, 'VALIDATION_FAILED', fields);
        assert.deepEqual(await snapshot(w.event.id), before);
        assert.equal(await countRows(t, 'users', 'email IN ($1, $2)', ['x@example.test', 'y@example.test']), users);
      });
    }

    for (const [label, raw] of [
      ['malformed JSON', '{"role": "participant",'],
      ['a JSON array', '[{"role": "participant"}]'],
      ['JSON null', 'null'],
      ['a JSON string', '"participant"'],
    ] as const) {
      it(`POST with ${label} as body: 400, nothing written`, async () => {
        const before = await snapshot(w.event.id);
        const res = await t.http
          .post('/api/user-assignments/')
          .set(bearer(w.tokens.organisateur))
          .set('Content-Type', 'application/json')
          .send(raw);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        expectError(res, 400, res.body.code === 'BAD_REQUEST' ? 'BAD_REQUEST' : 'VALIDATION_FAILED');
        assert.deepEqual(await snapshot(w.event.id), before);
      });
    }

    it('PATCH changes role and activity; PUT needs both fields', async () => {
      const user = await createUser(t);
      const id = (await assign(t, w.event.id, user.id, 'participant')).id;
      const res = await t.http
        .patch(`/api/user-assignments/${id}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ role: 'controlleur_des_badges' })
        .expect(200);
      assertAssignmentShape(res.body);
      assert.equal(res.body.role, 'controlleur_des_badges');
      assert.equal(res.body.is_active, true);
      const off = await t.http
        .patch(`/api/user-assignments/${id}`)
        .set(bearer(w.tokens.organisateur))
        .send({ is_active: false })
        .expect(200);
      assert.equal(off.body.role, 'controlleur_des_badges');
      assert.equal(off.body.is_active, false);
      const before = await snapshot(w.event.id);
      for (const body of [{ role: 'participant' }, { is_active: true }, {}]) {
        expectError(
          await t.http.put(`/api/user-assignments/${id}/`).set(bearer(w.tokens.organisateur)).send(body),
          400,
          'VALIDATION_FAILED',
        );
      }
      for (const body of [
        { role: 'boss' },
        { is_active: 'no' },
        { role: null },
        { is_active: null },
        { user_id: UNKNOWN_ID },
        { event: UNKNOWN_ID },
      ]) {
        expectError(
          await t.http.patch(`/api/user-assignments/${id}/`).set(bearer(w.tokens.organisateur)).send(body),
          400,
          'VALIDATION_FAILED',
          Object.keys(body),
        );
      }
      assert.deepEqual(await snapshot(w.event.id), before);
      const put = await t.http
        .put(`/api/user-assignments/${id}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ role: 'exposant', is_active: true })
        .expect(200);
      assert.equal(put.body.role, 'exposant');
      assert.equal(put.body.is_active, true);
    });

    it('DELETE: 204, then 404 and the row is gone', async () => {
      const user = await createUser(t);
      const id = (await assign(t, w.event.id, user.id, 'participant')).id;
      const res = await t.http.delete(`/api/user-assignments/${id}/`).set(bearer(w.tokens.organisateur)).expect(204);
      assert.equal(res.text, '');
      expectError(
        await t.http.get(`/api/user-assignments/${id}/`).set(bearer(w.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
      expectError(
        await t.http.delete(`/api/user-assignments/${id}/`).set(bearer(w.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
      assert.equal(await countRows(t, 'user_event_assignments', 'id = $1', [id]), 0);
    });

    it('cannot change or remove their own role (403), but may PATCH it without a change', async () => {
      const id = await assignmentId(w.event.id, w.users.organisateur.id);
      const before = await snapshot(w.event.id);
      for (const body of [{ role: 'participant' }, { is_active: false }, { role: 'participant', is_active: true }]) {
        expectError(
          await t.http.patch(`/api/user-assignments/${id}/`).set(bearer(w.tokens.organisateur)).send(body),
          403,
          'OWN_ROLE_CHANGE',
        );
      }
      expectError(
        await t.http
          .put(`/api/user-assignments/${id}/`)
          .set(bearer(w.tokens.organisateur))
          .send({ role: 'exposant', is_active: true }),
        403,
        'OWN_ROLE_CHANGE',
      );
      expectError(
        await t.http.delete(`/api/user-assignments/${id}/`).set(bearer(w.tokens.organisateur)),
        403,
        'OWN_ROLE_CHANGE',
      );
      assert.deepEqual(await snapshot(w.event.id), before);
      const same = await t.http
        .patch(`/api/user-assignments/${id}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ role: 'organisateur', is_active: true })
        .expect(200);
      assert.equal(same.body.role, 'organisateur');
    });
  });

  describe('list filters, search, ordering, pagination', () => {
    let event: { id: string };
    let token: string;
    let tag: string;
    const people: Record<string, { id: string; email: string }> = {};

    before(async () => {
      event = await createEvent(t);
      tag = uniq('lst');
      const org = await createUser(t, { email: `a-${tag}@example.test`, firstName: 'Zed', lastName: 'Alpha' });
      await assign(t, event.id, org.id, 'organisateur');
      token = (await openSession(t, org.id, event.id)).access;
      people.org = org;
      const spec: [string, string, string, EventRole, boolean][] = [
        ['b', 'Yann', 'Bravo', 'participant', true],
        ['c', 'Xavier', 'Charlie', 'participant', false],
        ['d', 'Wassim', 'Delta', 'exposant', true],
        ['e', 'Violette', 'Echo_100%', 'gestionnaire_des_salles', true],
      ];
      for (const [key, first, last, role, active] of spec) {
        const u = await createUser(t, { email: `${key}-${tag}@example.test`, firstName: first, lastName: last });
        await assign(t, event.id, u.id, role, active);
        people[key] = u;
      }
    });

    const list = async (query: Record<string, string | number>) => {
      const res = await t.http.get('/api/user-assignments/').query(query).set(bearer(token)).expect(200);
      return res.body as { count: number; next: string | null; previous: string | null; results: { user: string }[] };
    };
    const users = (page: { results: { user: string }[] }) =>
      page.results.map((a) => Object.keys(people).find((k) => people[k]?.id === a.user));

    it('only this event’s assignments, all of them', async () => {
      const page = await list({});
      assert.equal(page.count, 5);
      assert.deepEqual(users(page).sort(), ['b', 'c', 'd', 'e', 'org']);
    });

    it('role and is_active filters', async () => {
      assert.deepEqual(users(await list({ role: 'participant', ordering: 'email' })), ['b', 'c']);
      assert.deepEqual(users(await list({ is_active: 'false' })), ['c']);
      assert.deepEqual(users(await list({ is_active: 'true', role: 'participant' })), ['b']);
      assert.equal((await list({ role: 'controlleur_des_badges' })).count, 0);
    });

    it('search by email or full name, case-insensitive, % and _ literal', async () => {
      assert.deepEqual(users(await list({ search: `D-${tag.toUpperCase()}` })), ['d']);
      assert.deepEqual(users(await list({ search: 'xavier charlie' })), ['c']);
      assert.deepEqual(users(await list({ search: 'o_100%' })), ['e']);
      assert.deepEqual(users(await list({ search: '%' })), ['e']);
      assert.equal((await list({ search: uniq('none') })).count, 0);
    });

    it('ordering by email, -email, last_name, -last_name, role, -assigned_at', async () => {
      assert.deepEqual(users(await list({ ordering: 'email' })), ['org', 'b', 'c', 'd', 'e']);
      assert.deepEqual(users(await list({ ordering: '-email' })), ['e', 'd', 'c', 'b', 'org']);
      assert.deepEqual(users(await list({ ordering: 'last_name' })), ['org', 'b', 'c', 'd', 'e']);
      assert.deepEqual(users(await list({ ordering: '-last_name' })), ['e', 'd', 'c', 'b', 'org']);
      assert.deepEqual(users(await list({ ordering: '-assigned_at' })), ['e', 'd', 'c', 'b', 'org']);
      const byRole = users(await list({ ordering: 'role' }));
      assert.deepEqual(byRole.slice(0, 2), ['d', 'e']); // exposant < gestionnaire_des_salles < organisateur
      assert.equal(byRole[2], 'org');
    });

    it('pagination with absolute next link, page_size clamped', async () => {
      const first = await list({ page_size: 2, ordering: 'email' });
      assert.equal(first.count, 5);
      assert.deepEqual(users(first), ['org', 'b']);
      assert.equal(first.previous, null);
      const next = new URL(first.next as string);
      assert.match(next.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(next.searchParams.get('page'), '2');
      assert.equal(next.searchParams.get('ordering'), 'email');
      const second = await t.http
        .get(next.pathname + next.search)
        .set(bearer(token))
        .expect(200);
      assert.deepEqual(users(second.body), ['c', 'd']);
      const all = await list({ page_size: 5000 });
      assert.equal(all.results.length, 5);
      assert.equal(all.next, null);
    });

    it('?event= naming this event filters nothing; naming another event is a 400 and shows none of its data', async () => {
      assert.equal((await list({ event: event.id })).count, 5);
      assert.equal((await list({ event: event.id.toUpperCase() })).count, 5);
      const other = await createWorld(t);
      const res = await t.http.get('/api/user-assignments/').query({ event: other.event.id }).set(bearer(token));
      expectError(res, 400, 'VALIDATION_FAILED', ['event']);
      assert.ok(!res.text.includes(other.users.participant.email));
    });

    for (const query of [
      { role: 'admin' },
      { is_active: 'maybe' },
      { event: 'not-a-uuid' },
      { ordering: 'password_hash' },
      { ordering: 'user.password_hash' },
      { page: 0 },
      { page_size: 'x' },
      { user_id: UNKNOWN_ID },
    ]) {
      it(`bad query ${JSON.stringify(query)}: 400 VALIDATION_FAILED`, async () => {
        const res = await t.http.get('/api/user-assignments/').query(query).set(bearer(token));
        expectError(res, 400, 'VALIDATION_FAILED', Object.keys(query));
      });
    }
  });

  for (const role of NON_ORGANIZER_ROLES) {
    describe(role, () => {
      it('every route is 403 FORBIDDEN and nothing changes', async () => {
        const w = await createWorld(t);
        const token = w.tokens[role];
        const target = await assignmentId(w.event.id, w.users.participant.id);
        const newcomer = await createUser(t);
        const before = await snapshot(w.event.id);
        expectError(await t.http.get('/api/user-assignments/').set(bearer(token)), 403, 'FORBIDDEN');
        expectError(await t.http.get(`/api/user-assignments/${target}/`).set(bearer(token)), 403, 'FORBIDDEN');
        expectError(
          await t.http
            .post('/api/user-assignments/')
            .set(bearer(token))
            .send({ user_id: newcomer.id, role: 'organisateur' }),
          403,
          'FORBIDDEN',
        );
        const email = `${uniq('x')}@example.test`;
        expectError(
          await t.http.post('/api/user-assignments/').set(bearer(token)).send({ email, role: 'participant' }),
          403,
          'FORBIDDEN',
        );
        // Promoting oneself is the interesting attack.
        const own = await assignmentId(w.event.id, w.users[role].id);
        expectError(
          await t.http.patch(`/api/user-assignments/${own}/`).set(bearer(token)).send({ role: 'organisateur' }),
          403,
          'FORBIDDEN',
        );
        expectError(
          await t.http
            .put(`/api/user-assignments/${target}/`)
            .set(bearer(token))
            .send({ role: 'organisateur', is_active: true }),
          403,
          'FORBIDDEN',
        );
        expectError(await t.http.delete(`/api/user-assignments/${target}/`).set(bearer(token)), 403, 'FORBIDDEN');
        assert.deepEqual(await snapshot(w.event.id), before);
        assert.equal(await countRows(t, 'users', 'email = $1', [email]), 0);
      });
    });
  }

  describe('without a token or an event', () => {
    it('401 without a token; 403 EVENT_REQUIRED for a token without event (even staff)', async () => {
      expectError(await t.http.get('/api/user-assignments/'), 401, 'AUTH_REQUIRED');
      const staff = await createUser(t, { isStaff: true });
      const token = (await openSession(t, staff.id, null)).access;
      expectError(await t.http.get('/api/user-assignments/').set(bearer(token)), 403, 'EVENT_REQUIRED');
    });
  });

  describe('organisateur of another event', () => {
    it('this event’s assignments are 404 by id and unchanged', async () => {
      const w = await createWorld(t);
      const other = await createWorld(t);
      const token = other.tokens.organisateur;
      const target = await assignmentId(w.event.id, w.users.participant.id);
      const theirOrganizer = await assignmentId(w.event.id, w.users.organisateur.id);
      const before = await snapshot(w.event.id);
      expectError(await t.http.get(`/api/user-assignments/${target}/`).set(bearer(token)), 404, 'NOT_FOUND');
      expectError(
        await t.http.patch(`/api/user-assignments/${target}/`).set(bearer(token)).send({ role: 'organisateur' }),
        404,
        'NOT_FOUND',
      );
      expectError(
        await t.http
          .put(`/api/user-assignments/${theirOrganizer}/`)
          .set(bearer(token))
          .send({ role: 'participant', is_active: false }),
        404,
        'NOT_FOUND',
      );
      expectError(await t.http.delete(`/api/user-assignments/${theirOrganizer}/`).set(bearer(token)), 404, 'NOT_FOUND');
      assert.deepEqual(await snapshot(w.event.id), before);
      // Their list never shows this event's people.
      const list = await t.http.get('/api/user-assignments/').query({ page_size: 100 }).set(bearer(token)).expect(200);
      for (const a of list.body.results) assert.equal(a.event, other.event.id);
      assert.ok(!list.body.results.some((a: { id: string }) => a.id === target));
    });

    it('adding a user who is in another event only affects this event', async () => {
      const w = await createWorld(t);
      const other = await createWorld(t);
      const res = await t.http
        .post('/api/user-assignments/')
        .set(bearer(other.tokens.organisateur))
        .send({ user_id: w.users.participant.id, role: 'exposant' })
        .expect(201);
      assert.equal(res.body.event, other.event.id);
      const here = await t.http
        .get(`/api/user-assignments/${await assignmentId(w.event.id, w.users.participant.id)}/`)
        .set(bearer(w.tokens.organisateur))
        .expect(200);
      assert.equal(here.body.role, 'participant');
    });
  });

  describe('role changes take effect at once for existing tokens', () => {
    it('demoted organisateur: the next PATCH /api/events/{id} is 403; promoted back: allowed again', async () => {
      const { event, bId, aToken, bToken } = await twoOrganizers();
      await t.http.patch(`/api/events/${event.id}/`).set(bearer(bToken)).send({ location: 'before' }).expect(200);
      await t.http.patch(`/api/user-assignments/${bId}/`).set(bearer(aToken)).send({ role: 'participant' }).expect(200);
      expectError(
        await t.http.patch(`/api/events/${event.id}/`).set(bearer(bToken)).send({ location: 'after' }),
        403,
        'FORBIDDEN',
      );
      expectError(await t.http.get('/api/user-assignments/').set(bearer(bToken)), 403, 'FORBIDDEN');
      // Still a member: reading the event works.
      await t.http.get(`/api/events/${event.id}/`).set(bearer(bToken)).expect(200);
      await t.http
        .patch(`/api/user-assignments/${bId}/`)
        .set(bearer(aToken))
        .send({ role: 'organisateur' })
        .expect(200);
      await t.http.patch(`/api/events/${event.id}/`).set(bearer(bToken)).send({ location: 'again' }).expect(200);
    });

    it('deactivated: 401 MEMBERSHIP_REVOKED everywhere; reactivated: works again', async () => {
      const w = await createWorld(t);
      const id = await assignmentId(w.event.id, w.users.gestionnaire_des_salles.id);
      const token = w.tokens.gestionnaire_des_salles;
      await t.http.get(`/api/events/${w.event.id}/`).set(bearer(token)).expect(200);
      await t.http
        .patch(`/api/user-assignments/${id}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ is_active: false })
        .expect(200);
      expectError(await t.http.get(`/api/events/${w.event.id}/`).set(bearer(token)), 401, 'MEMBERSHIP_REVOKED');
      expectError(await t.http.get('/api/events/').set(bearer(token)), 401, 'MEMBERSHIP_REVOKED');
      await t.http
        .patch(`/api/user-assignments/${id}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ is_active: true })
        .expect(200);
      await t.http.get(`/api/events/${w.event.id}/`).set(bearer(token)).expect(200);
    });

    it('deleted: 401 MEMBERSHIP_REVOKED', async () => {
      const w = await createWorld(t);
      const id = await assignmentId(w.event.id, w.users.exposant.id);
      await t.http.delete(`/api/user-assignments/${id}/`).set(bearer(w.tokens.organisateur)).expect(204);
      expectError(
        await t.http.get(`/api/events/${w.event.id}/`).set(bearer(w.tokens.exposant)),
        401,
        'MEMBERSHIP_REVOKED',
      );
    });

    it('promoted participant can manage assignments immediately', async () => {
      const w = await createWorld(t);
      const id = await assignmentId(w.event.id, w.users.participant.id);
      expectError(await t.http.get('/api/user-assignments/').set(bearer(w.tokens.participant)), 403, 'FORBIDDEN');
      await t.http
        .patch(`/api/user-assignments/${id}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ role: 'organisateur' })
        .expect(200);
      await t.http.get('/api/user-assignments/').set(bearer(w.tokens.participant)).expect(200);
    });
  });

  describe('last organisateur', () => {
    const cases: [string, (o: Awaited<ReturnType<typeof twoOrganizers>>) => Test[], number][] = [
      [
        'demote each other',
        (o) => [
          t.http.patch(`/api/user-assignments/${o.bId}/`).set(bearer(o.aToken)).send({ role: 'participant' }),
          t.http.patch(`/api/user-assignments/${o.aId}/`).set(bearer(o.bToken)).send({ role: 'participant' }),
        ],
        200,
      ],
      [
        'deactivate each other',
        (o) => [
          t.http.patch(`/api/user-assignments/${o.bId}/`).set(bearer(o.aToken)).send({ is_active: false }),
          t.http
            .put(`/api/user-assignments/${o.aId}/`)
            .set(bearer(o.bToken))
            .send({ role: 'organisateur', is_active: false }),
        ],
        200,
      ],
      [
        'delete each other',
        (o) => [
          t.http.delete(`/api/user-assignments/${o.bId}/`).set(bearer(o.aToken)),
          t.http.delete(`/api/user-assignments/${o.aId}/`).set(bearer(o.bToken)),
        ],
        204,
      ],
    ];
    for (const [label, requests, okStatus] of cases) {
      it(`two organisateurs who ${label} at the same moment: one wins, the other gets 409 LAST_ORGANIZER`, async () => {
        const o = await twoOrganizers();
        const responses = await whileOrganizersLocked(o.event.id, () => requests(o));
        const statuses = responses.map((r) => r.status).sort();
        assert.deepEqual(statuses, [okStatus, 409].sort(), JSON.stringify(responses.map((r) => r.body)));
        const refused = responses.find((r) => r.status === 409) as Response;
        expectError(refused, 409, 'LAST_ORGANIZER');
        assert.equal(await activeOrganizers(o.event.id), 1);
      });
    }

    it('the event keeps exactly one organisateur under 10 + 10 parallel mutual demotions (3 rounds)', async () => {
      // Several rounds on fresh events: each is a new chance for the interleavings that once deadlocked (a 500).
      for (let round = 0; round < 3; round++) {
        const o = await twoOrganizers();
        assert.equal(await activeOrganizers(o.event.id), 2);
        const n = 10;
        const requests: Promise<Response>[] = [];
        for (let i = 0; i < n; i++) {
          requests.push(
            fire(t.http.patch(`/api/user-assignments/${o.bId}/`).set(bearer(o.aToken)).send({ role: 'participant' })),
            fire(t.http.patch(`/api/user-assignments/${o.aId}/`).set(bearer(o.bToken)).send({ role: 'participant' })),
          );
        }
        const responses = await Promise.all(requests);
        for (const r of responses) {
          assert.ok([200, 401, 403, 409].includes(r.status), `unexpected ${r.status} ${JSON.stringify(r.body)}`);
          if (r.status !== 200) expectError(r, r.status, r.body.code);
          if (r.status === 409) assert.equal(r.body.code, 'LAST_ORGANIZER');
        }
        assert.equal(await activeOrganizers(o.event.id), 1);
        const survivors: { id: string }[] = await t.db.query(
          `SELECT id FROM user_event_assignments WHERE event_id = $1 AND role = 'organisateur' AND is_active`,
          [o.event.id],
        );
        const aWon = survivors[0]?.id === o.aId;
        // Requests alternate: even indexes are A demoting B, odd ones B demoting A.
        const winner = responses.filter((_, i) => i % 2 === (aWon ? 0 : 1));
        const loser = responses.filter((_, i) => i % 2 === (aWon ? 1 : 0));
        // The survivor's n requests all succeed (the first demotes, the rest find nothing to change); every request
        // of the demoted one is refused (403 once the guard sees the new role, 409 if it was already past it). Two
        // survivors or none would break these counts as well as the one above.
        assert.deepEqual(tally(winner), { 200: n }, JSON.stringify(winner.map((r) => r.body)));
        assert.equal(loser.filter((r) => r.status === 200).length, 0, JSON.stringify(loser.map((r) => r.body)));
      }
    });

    it('negative control: an unlocked check-then-write of the same two demotions leaves no organisateur', async () => {
      // What the service would do without serializing the changes of an event. Run by hand with both checks before
      // both writes, it ends with zero organisateurs, which the `activeOrganizers === 1` assertions above report.
      const o = await twoOrganizers();
      const runners = [t.db.createQueryRunner(), t.db.createQueryRunner()];
      try {
        for (const qr of runners) {
          await qr.connect();
          await qr.startTransaction();
        }
        const [first, second] = runners as [QueryRunner, QueryRunner];
        const others = async (qr: QueryRunner, exceptId: string) => {
          const [{ n }] = (await qr.query(
            `SELECT count(*)::int AS n FROM user_event_assignments
              WHERE event_id = $1 AND role = 'organisateur' AND is_active AND id <> $2`,
            [o.event.id, exceptId],
          )) as [{ n: number }];
          return n;
        };
        assert.equal(await others(first, o.bId), 1);
        assert.equal(await others(second, o.aId), 1);
        await first.query(`UPDATE user_event_assignments SET role = 'participant' WHERE id = $1`, [o.bId]);
        await first.commitTransaction();
        await second.query(`UPDATE user_event_assignments SET role = 'participant' WHERE id = $1`, [o.aId]);
        await second.commitTransaction();
      } finally {
        for (const qr of runners) {
          if (qr.isTransactionActive) await qr.rollbackTransaction();
          await qr.release();
        }
      }
      assert.equal(await activeOrganizers(o.event.id), 0);
    });
  });

  describe('concurrent creation', () => {
    const N = 50;

    it(`${N} parallel POSTs of the same user_id: exactly one 201, ${N - 1} × 409, one row`, async () => {
      const w = await createWorld(t);
      const user = await createUser(t);
      const responses = await Promise.all(
        Array.from({ length: N }, () =>
          fire(
            t.http
              .post('/api/user-assignments/')
              .set(bearer(w.tokens.organisateur))
              .send({ user_id: user.id, role: 'participant' }),
          ),
        ),
      );
      // Without the unique (event, user) index every insert would succeed: 50 × 201 and 50 rows. A check-then-insert
      // in the service would let several through: more than one 201. Both break these exact counts.
      assert.deepEqual(tally(responses), { 201: 1, 409: N - 1 });
      for (const r of responses.filter((x) => x.status === 409)) expectError(r, 409, 'ASSIGNMENT_EXISTS');
      assert.equal(
        await countRows(t, 'user_event_assignments', 'event_id = $1 AND user_id = $2', [w.event.id, user.id]),
        1,
      );
    });

    it(`${N} parallel POSTs of the same new email: one account, one 201, ${N - 1} × 409`, async () => {
      const w = await createWorld(t);
      const email = `${uniq('race')}@example.test`;
      const responses = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          fire(
            t.http
              .post('/api/user-assignments/')
              .set(bearer(w.tokens.organisateur))
              .send({ email: i % 2 ? email.toUpperCase() : email, role: 'exposant' }),
          ),
        ),
      );
      assert.deepEqual(tally(responses), { 201: 1, 409: N - 1 });
      assert.equal(await countRows(t, 'users', 'email = $1', [email]), 1);
      assert.equal(
        await countRows(
          t,
          'user_event_assignments',
          'event_id = $1 AND user_id = (SELECT id FROM users WHERE email = $2)',
          [w.event.id, email],
        ),
        1,
      );
    });

    it(`negative control: ${N} parallel POSTs of distinct users all succeed`, async () => {
      // Proves the harness really lets N concurrent creations through (no serialization, rate limit or pool
      // exhaustion turning them into errors), so the 409s above come from the uniqueness rule alone.
      const w = await createWorld(t);
      const users = await Promise.all(Array.from({ length: N }, () => createUser(t)));
      const responses = await Promise.all(
        users.map((u) =>
          fire(
            t.http
              .post('/api/user-assignments/')
              .set(bearer(w.tokens.organisateur))
              .send({ user_id: u.id, role: 'participant' }),
          ),
        ),
      );
      assert.deepEqual(tally(responses), { 201: N });
      assert.equal(
        await countRows(t, 'user_event_assignments', "event_id = $1 AND role = 'participant'", [w.event.id]),
        N + 1,
      );
    });
  });
});
