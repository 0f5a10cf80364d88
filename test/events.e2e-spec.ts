import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JwtService } from '@nestjs/jwt';
import { EVENT_ROLES, type EventRole } from '../src/common/auth/event-role';
import type { Event } from '../src/modules/events/entities/event.entity';
import {
  assign,
  bearer,
  countRows,
  createEvent,
  createUser,
  createWorld,
  openSession,
  uniq,
  type World,
} from './helpers/factories';
import { expectError } from './helpers/assertions';
import { bootTestApp, TEST_JWT_SECRET, type TestApp } from './helpers/test-app';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const NON_ORGANIZER_ROLES = EVENT_ROLES.filter((r) => r !== 'organisateur');

const EVENT_KEYS = [
  'id',
  'name',
  'description',
  'start_date',
  'end_date',
  'location',
  'location_details',
  'latitude',
  'longitude',
  'attendance_radius',
  'logo_url',
  'banner_url',
  'programme_file',
  'guide_file',
  'president',
  'status',
  'settings',
  'themes',
  'capacity',
  'registration_open',
  'total_participants',
  'total_exhibitors',
  'total_rooms',
  'organizer_contact',
  'metadata',
  'created_by',
  'created_at',
  'updated_at',
  'currency',
].sort();

const STATUS_KEYS = [
  'id',
  'name',
  'status',
  'start_date',
  'end_date',
  'can_attend',
  'time_until_start',
  'time_until_end',
].sort();

const at = (offsetMs: number): string => new Date(Date.now() + offsetMs).toISOString();

function assertEventShape(body: Record<string, unknown>): void {
  assert.deepEqual(Object.keys(body).sort(), EVENT_KEYS);
  for (const key of ['start_date', 'end_date', 'created_at', 'updated_at']) {
    assert.match(String(body[key]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, key);
  }
}

describe('events', () => {
  let t: TestApp;

  /** The whole row as JSON, for "nothing changed" assertions. */
  const eventRow = async (id: string): Promise<unknown> => {
    const rows: { row: unknown }[] = await t.db.query('SELECT to_jsonb(e) AS row FROM events e WHERE id = $1', [id]);
    return rows[0]?.row ?? null;
  };

  /** A user who is a member (with this role) of each given event, with a token that has no event selected. */
  const memberOf = async (events: Event[], role: EventRole = 'participant') => {
    const user = await createUser(t);
    for (const e of events) await assign(t, e.id, user.id, role);
    const token = (await openSession(t, user.id, null)).access;
    return { user, token };
  };

  const validBody = (extra: Record<string, unknown> = {}) => ({
    name: uniq('Created '),
    start_date: at(DAY),
    end_date: at(2 * DAY),
    ...extra,
  });

  before(async () => {
    t = await bootTestApp();
  });
  after(() => t.close());

  describe('POST /api/events/', () => {
    let w: World;
    before(async () => {
      w = await createWorld(t);
    });

    for (const role of NON_ORGANIZER_ROLES) {
      describe(role, () => {
        it('organisateur nowhere: 403 FORBIDDEN and nothing is written', async () => {
          const body = validBody();
          const res = await t.http.post('/api/events/').set(bearer(w.tokens[role])).send(body);
          expectError(res, 403, 'FORBIDDEN');
          assert.equal(await countRows(t, 'events', 'name = $1', [body.name]), 0);
          assert.equal(await countRows(t, 'user_event_assignments', 'user_id = $1', [w.users[role].id]), 1);
        });
      });
    }

    it('an inactive organisateur assignment does not allow creating events', async () => {
      const user = await createUser(t);
      await assign(t, w.event.id, user.id, 'participant');
      const other = await createEvent(t);
      await assign(t, other.id, user.id, 'organisateur', false);
      const token = (await openSession(t, user.id, w.event.id)).access;
      const body = validBody();
      expectError(await t.http.post('/api/events/').set(bearer(token)).send(body), 403, 'FORBIDDEN');
      assert.equal(await countRows(t, 'events', 'name = $1', [body.name]), 0);
    });

    it('without a token: 401 AUTH_REQUIRED', async () => {
      const body = validBody();
      expectError(await t.http.post('/api/events/').send(body), 401, 'AUTH_REQUIRED');
      assert.equal(await countRows(t, 'events', 'name = $1', [body.name]), 0);
    });

    it('an organisateur creates an event and becomes its organisateur', async () => {
      const body = validBody({
        description: 'Deux jours de conférences',
        location: 'Alger',
        capacity: 300,
        registration_open: true,
        themes: ['ia', 'web'],
        settings: { qa_moderation: true },
        metadata: { source: 'test' },
        currency: 'EUR',
      });
      const res = await t.http.post('/api/events/').set(bearer(w.tokens.organisateur)).send(body).expect(201);
      assertEventShape(res.body);
      const e = res.body as Record<string, unknown>;
      assert.equal(e.name, body.name);
      assert.equal(e.start_date, body.start_date);
      assert.equal(e.end_date, body.end_date);
      assert.equal(e.description, 'Deux jours de conférences');
      assert.equal(e.location, 'Alger');
      assert.equal(e.capacity, 300);
      assert.equal(e.registration_open, true);
      assert.deepEqual(e.themes, ['ia', 'web']);
      assert.deepEqual(e.settings, { qa_moderation: true });
      assert.deepEqual(e.metadata, { source: 'test' });
      assert.equal(e.currency, 'EUR');
      assert.equal(e.status, 'upcoming');
      assert.equal(e.created_by, w.users.organisateur.id);
      assert.equal(e.president, null);
      assert.equal(e.total_participants, 0);
      assert.equal(e.total_exhibitors, 0);
      const rows: { role: string; is_active: boolean; assigned_by_id: string }[] = await t.db.query(
        'SELECT role, is_active, assigned_by_id FROM user_event_assignments WHERE event_id = $1',
        [e.id],
      );
      assert.deepEqual(rows, [{ role: 'organisateur', is_active: true, assigned_by_id: w.users.organisateur.id }]);
      // The new membership is usable at once: the creator sees it in their list.
      const list = await t.http
        .get('/api/events/')
        .query({ search: body.name })
        .set(bearer(w.tokens.organisateur))
        .expect(200);
      assert.deepEqual(
        list.body.results.map((r: { id: string }) => r.id),
        [e.id],
      );
    });

    it('defaults: currency DZD, empty texts, no capacity, registration closed', async () => {
      const body = validBody();
      const res = await t.http.post('/api/events').set(bearer(w.tokens.organisateur)).send(body).expect(201);
      const e = res.body as Record<string, unknown>;
      assert.equal(e.currency, 'DZD');
      assert.equal(e.description, '');
      assert.equal(e.location, '');
      assert.equal(e.capacity, null);
      assert.equal(e.registration_open, false);
      assert.deepEqual(e.themes, []);
      assert.deepEqual(e.settings, {});
    });

    it('an organisateur elsewhere may create with a token for an event where they are participant', async () => {
      const user = await createUser(t);
      await assign(t, w.event.id, user.id, 'participant');
      const elsewhere = await createEvent(t);
      await assign(t, elsewhere.id, user.id, 'organisateur');
      const token = (await openSession(t, user.id, w.event.id)).access;
      const res = await t.http.post('/api/events/').set(bearer(token)).send(validBody()).expect(201);
      assert.equal(await countRows(t, 'user_event_assignments', 'event_id = $1', [res.body.id]), 1);
    });

    it('platform staff without any event creates an event and becomes its organisateur', async () => {
      const staff = await createUser(t, { isStaff: true });
      const token = (await openSession(t, staff.id, null)).access;
      const res = await t.http.post('/api/events/').set(bearer(token)).send(validBody()).expect(201);
      assert.equal(res.body.created_by, staff.id);
      assert.equal(
        await countRows(t, 'user_event_assignments', "event_id = $1 AND user_id = $2 AND role = 'organisateur'", [
          res.body.id,
          staff.id,
        ]),
        1,
      );
    });

    it('start dates in the past are allowed; an explicit offset is converted to UTC', async () => {
      const res = await t.http
        .post('/api/events/')
        .set(bearer(w.tokens.organisateur))
        .send(validBody({ start_date: '2020-01-01T10:00:00+02:00', end_date: '2020-01-02T10:00:00+02:00' }))
        .expect(201);
      assert.equal(res.body.start_date, '2020-01-01T08:00:00.000Z');
      assert.equal(res.body.end_date, '2020-01-02T08:00:00.000Z');
      assert.equal(res.body.status, 'completed');
    });

    for (const [label, dates] of [
      ['end before start', { start_date: at(2 * DAY), end_date: at(DAY) }],
      ['end equal to start', { start_date: '2031-05-01T10:00:00.000Z', end_date: '2031-05-01T10:00:00.000Z' }],
    ] as const) {
      it(`${label}: 400 VALIDATION_FAILED with errors.end_date, nothing written`, async () => {
        const body = validBody(dates);
        const res = await t.http.post('/api/events/').set(bearer(w.tokens.organisateur)).send(body);
        expectError(res, 400, 'VALIDATION_FAILED', ['end_date']);
        assert.equal(await countRows(t, 'events', 'name = $1', [body.name]), 0);
      });
    }

    const readOnly: Record<string, unknown> = {
      id: '00000000-0000-4000-8000-000000000000',
      status: 'active',
      total_participants: 5,
      total_exhibitors: 1,
      total_rooms: 2,
      created_by: '00000000-0000-4000-8000-000000000000',
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
      logo_url: 'http://evil.test/x.png',
      is_cancelled: true,
      president: null,
      event_id: '00000000-0000-4000-8000-000000000000',
    };
    for (const [field, value] of Object.entries(readOnly)) {
      it(`read-only or unknown field ${field} in the body: 400 naming it, nothing written`, async () => {
        const body = validBody({ [field]: value });
        const res = await t.http.post('/api/events/').set(bearer(w.tokens.organisateur)).send(body);
        expectError(res, 400, 'VALIDATION_FAILED', [field]);
        assert.equal(await countRows(t, 'events', 'name = $1', [body.name]), 0);
      });
    }

    const wrong: [string, Record<string, unknown>][] = [
      ['name', { name: 123 }],
      ['name', { name: '' }],
      ['name', { name: '   ' }],
      ['name', { name: 'x'.repeat(201) }],
      ['name', { name: undefined }],
      ['start_date', { start_date: undefined }],
      ['start_date', { start_date: 'not a date' }],
      ['start_date', { start_date: 1893456000000 }],
      ['start_date', { start_date: true }],
      ['start_date', { start_date: '2030-13-45T00:00:00Z' }],
      ['start_date', { start_date: 'June 5 2030' }],
      ['start_date', { start_date: '2030-06-05T10:00:00' }],
      ['end_date', { end_date: null }],
      ['end_date', { end_date: ['2030-06-05T10:00:00Z'] }],
      ['capacity', { capacity: '100' }],
      ['capacity', { capacity: 0 }],
      ['capacity', { capacity: 1.5 }],
      ['capacity', { capacity: 1e12 }],
      ['registration_open', { registration_open: 'yes' }],
      ['themes', { themes: 'ia' }],
      ['themes', { themes: [1, 2] }],
      ['settings', { settings: [1] }],
      ['settings', { settings: 'x' }],
      ['metadata', { metadata: 3 }],
      ['currency', { currency: 'dollars' }],
      ['description', { description: { text: 'x' } }],
      ['location', { location: 42 }],
    ];
    for (const [field, patch] of wrong) {
      it(`bad ${field} ${JSON.stringify(patch)}: 400 VALIDATION_FAILED errors.${field}, nothing written`, async () => {
        const body = { ...validBody(), ...patch };
        const res = await t.http.post('/api/events/').set(bearer(w.tokens.organisateur)).send(body);
        expectError(res, 400, 'VALIDATION_FAILED', [field]);
        if (typeof body.name === 'string') {
          assert.equal(await countRows(t, 'events', 'name = $1', [body.name]), 0);
        }
      });
    }

    it('a body over the size limit: 413 PAYLOAD_TOO_LARGE, nothing written', async () => {
      const body = validBody({ description: 'x'.repeat(2 * 1024 * 1024) });
      const res = await t.http.post('/api/events/').set(bearer(w.tokens.organisateur)).send(body);
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
      assert.equal(await countRows(t, 'events', 'name = $1', [body.name]), 0);
    });

    for (const [label, raw] of [
      ['malformed JSON', '{"name": "x",'],
      ['a JSON array', '[]'],
      ['JSON null', 'null'],
      ['a JSON number', '42'],
    ] as const) {
      it(`${label} as body: 400, nothing written`, async () => {
        const before = await countRows(t, 'events', 'created_by_id = $1', [w.users.organisateur.id]);
        const res = await t.http
          .post('/api/events/')
          .set(bearer(w.tokens.organisateur))
          .set('Content-Type', 'application/json')
          .send(raw);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        expectError(res, 400, res.body.code === 'BAD_REQUEST' ? 'BAD_REQUEST' : 'VALIDATION_FAILED');
        assert.equal(await countRows(t, 'events', 'created_by_id = $1', [w.users.organisateur.id]), before);
      });
    }

    it('a body that is not JSON: 415, nothing written', async () => {
      const before = await countRows(t, 'events', 'created_by_id = $1', [w.users.organisateur.id]);
      const res = await t.http
        .post('/api/events/')
        .set(bearer(w.tokens.organisateur))
        .set('Content-Type', 'text/plain')
        .send('name=x');
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      assert.equal(await countRows(t, 'events', 'created_by_id = $1', [w.users.organisateur.id]), before);
    });
  });

  describe('GET /api/events/{id}/ and status', () => {
    let w: World;
    before(async () => {
      w = await createWorld(t);
    });

    for (const role of EVENT_ROLES) {
      it(`${role} (member) reads the event with exactly the documented keys`, async () => {
        const res = await t.http.get(`/api/events/${w.event.id}/`).set(bearer(w.tokens[role])).expect(200);
        assertEventShape(res.body);
        assert.equal(res.body.id, w.event.id);
        assert.equal(res.body.name, w.event.name);
        assert.equal(res.body.status, 'active');
        // createWorld has exactly one participant and one exposant.
        assert.equal(res.body.total_participants, 1);
        assert.equal(res.body.total_exhibitors, 1);
      });
    }

    it('an organisateur of another event gets 404 for this event', async () => {
      const other = await createWorld(t);
      expectError(
        await t.http.get(`/api/events/${w.event.id}/`).set(bearer(other.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
      expectError(
        await t.http.get(`/api/events/${w.event.id}/status/`).set(bearer(other.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
    });

    it('a deactivated member (token for another event) gets 404', async () => {
      const other = await createEvent(t);
      const user = await createUser(t);
      await assign(t, other.id, user.id, 'participant');
      await assign(t, w.event.id, user.id, 'organisateur', false);
      const token = (await openSession(t, user.id, other.id)).access;
      expectError(await t.http.get(`/api/events/${w.event.id}/`).set(bearer(token)), 404, 'NOT_FOUND');
      await t.http.get(`/api/events/${other.id}/`).set(bearer(token)).expect(200);
    });

    it('platform staff reads any event', async () => {
      const staff = await createUser(t, { isStaff: true });
      const token = (await openSession(t, staff.id, null)).access;
      const res = await t.http.get(`/api/events/${w.event.id}`).set(bearer(token)).expect(200);
      assert.equal(res.body.id, w.event.id);
    });

    it('unknown id 404, malformed id 400, no token 401', async () => {
      expectError(
        await t.http.get('/api/events/6f1c1c2e-1111-4111-8111-111111111111/').set(bearer(w.tokens.participant)),
        404,
        'NOT_FOUND',
      );
      expectError(
        await t.http.get('/api/events/not-a-uuid/').set(bearer(w.tokens.participant)),
        400,
        'VALIDATION_FAILED',
        ['id'],
      );
      expectError(await t.http.get(`/api/events/${w.event.id}/`), 401, 'AUTH_REQUIRED');
      expectError(await t.http.get(`/api/events/${w.event.id}/`).set(bearer('not.a.jwt')), 401, 'TOKEN_INVALID');
    });

    it('total_participants counts active participants only', async () => {
      const e = await createEvent(t);
      const org = await memberOf([e], 'organisateur');
      for (let i = 0; i < 3; i++) await assign(t, e.id, (await createUser(t)).id, 'participant');
      await assign(t, e.id, (await createUser(t)).id, 'participant', false);
      await assign(t, e.id, (await createUser(t)).id, 'exposant');
      const res = await t.http.get(`/api/events/${e.id}/`).set(bearer(org.token)).expect(200);
      assert.equal(res.body.total_participants, 3);
      assert.equal(res.body.total_exhibitors, 1);
    });

    it('status of the event object is computed from the clock: upcoming, active, completed', async () => {
      const upcoming = await createEvent(t, {
        startDate: new Date(Date.now() + DAY),
        endDate: new Date(Date.now() + 2 * DAY),
      });
      const active = await createEvent(t);
      const completed = await createEvent(t, {
        startDate: new Date(Date.now() - 2 * DAY),
        endDate: new Date(Date.now() - DAY),
      });
      const { token } = await memberOf([upcoming, active, completed]);
      for (const [e, status] of [
        [upcoming, 'upcoming'],
        [active, 'active'],
        [completed, 'completed'],
      ] as const) {
        const res = await t.http.get(`/api/events/${e.id}/`).set(bearer(token)).expect(200);
        assert.equal(res.body.status, status, e.name);
      }
    });

    it('GET status/ of an upcoming event: time to start and to end, cannot attend', async () => {
      const e = await createEvent(t, {
        startDate: new Date(Date.now() + HOUR),
        endDate: new Date(Date.now() + 3 * HOUR),
      });
      const { token } = await memberOf([e]);
      const res = await t.http.get(`/api/events/${e.id}/status/`).set(bearer(token)).expect(200);
      assert.deepEqual(Object.keys(res.body).sort(), STATUS_KEYS);
      assert.equal(res.body.id, e.id);
      assert.equal(res.body.name, e.name);
      assert.equal(res.body.status, 'upcoming');
      assert.equal(res.body.can_attend, false);
      assert.equal(res.body.start_date, e.startDate.toISOString());
      assert.equal(res.body.end_date, e.endDate.toISOString());
      assert.ok(Number.isInteger(res.body.time_until_start));
      assert.ok(Math.abs(res.body.time_until_start - 3600) <= 10, String(res.body.time_until_start));
      assert.ok(Math.abs(res.body.time_until_end - 3 * 3600) <= 10, String(res.body.time_until_end));
    });

    it('GET status/ of a running event: can attend, time_until_start null', async () => {
      const res = await t.http.get(`/api/events/${w.event.id}/status`).set(bearer(w.tokens.participant)).expect(200);
      assert.deepEqual(Object.keys(res.body).sort(), STATUS_KEYS);
      assert.equal(res.body.status, 'active');
      assert.equal(res.body.can_attend, true);
      assert.equal(res.body.time_until_start, null);
      assert.ok(Number.isInteger(res.body.time_until_end));
      assert.ok(Math.abs(res.body.time_until_end - 24 * 3600) <= 60, String(res.body.time_until_end));
    });

    it('GET status/ of an ended event: "ended", both times null, cannot attend', async () => {
      const e = await createEvent(t, {
        startDate: new Date(Date.now() - 3 * HOUR),
        endDate: new Date(Date.now() - HOUR),
      });
      const { token } = await memberOf([e]);
      const res = await t.http.get(`/api/events/${e.id}/status/`).set(bearer(token)).expect(200);
      assert.equal(res.body.status, 'ended');
      assert.equal(res.body.can_attend, false);
      assert.equal(res.body.time_until_start, null);
      assert.equal(res.body.time_until_end, null);
    });

    it('PATCH is_cancelled: status "cancelled" in the object and status/, cannot attend; reinstated after', async () => {
      const e = await createEvent(t);
      const org = await createUser(t);
      await assign(t, e.id, org.id, 'organisateur');
      const token = (await openSession(t, org.id, e.id)).access;
      const res = await t.http
        .patch(`/api/events/${e.id}/`)
        .set(bearer(token))
        .send({ is_cancelled: true })
        .expect(200);
      assertEventShape(res.body);
      assert.equal(res.body.status, 'cancelled');
      const s = await t.http.get(`/api/events/${e.id}/status/`).set(bearer(token)).expect(200);
      assert.equal(s.body.status, 'cancelled');
      assert.equal(s.body.can_attend, false);
      assert.equal(s.body.time_until_start, null);
      const back = await t.http
        .patch(`/api/events/${e.id}/`)
        .set(bearer(token))
        .send({ is_cancelled: false })
        .expect(200);
      assert.equal(back.body.status, 'active');
    });
  });

  describe('GET /api/events/open/ (the registration catalogue)', () => {
    it('open, not cancelled, not over, and no role of the caller yet; any token; search and pages', async () => {
      const tag = uniq('open');
      const open = await createEvent(t, { name: `${tag} open`, registrationOpen: true });
      const later = await createEvent(t, {
        name: `${tag} later`,
        registrationOpen: true,
        startDate: new Date(Date.now() + DAY),
        endDate: new Date(Date.now() + 2 * DAY),
      });
      const member = await createEvent(t, { name: `${tag} member`, registrationOpen: true });
      await createEvent(t, { name: `${tag} closed`, registrationOpen: false });
      await createEvent(t, { name: `${tag} cancelled`, registrationOpen: true, isCancelled: true });
      await createEvent(t, {
        name: `${tag} over`,
        registrationOpen: true,
        startDate: new Date(Date.now() - 2 * DAY),
        endDate: new Date(Date.now() - DAY),
      });
      const { token, user } = await memberOf([member]);
      const res = await t.http.get('/api/events/open/').query({ search: tag }).set(bearer(token)).expect(200);
      assert.deepEqual(
        res.body.results.map((e: { id: string }) => e.id),
        [open.id, later.id],
      );
      for (const e of res.body.results) assertEventShape(e);
      // A token scoped to an event works too: the catalogue is not the token's event.
      const scoped = (await openSession(t, user.id, member.id)).access;
      const paged = await t.http
        .get('/api/events/open')
        .query({ search: tag, page_size: 1, status: 'upcoming' })
        .set(bearer(scoped))
        .expect(200);
      assert.deepEqual([paged.body.count, paged.body.results[0]?.id], [1, later.id]);
      expectError(await t.http.get('/api/events/open/'), 401, 'AUTH_REQUIRED');
      expectError(
        await t.http.get('/api/events/open/').query({ page_size: 'x' }).set(bearer(token)),
        400,
        'VALIDATION_FAILED',
        ['page_size'],
      );
    });
  });

  describe('GET /api/events/ lists', () => {
    it('only the caller’s active memberships, in the paginated envelope', async () => {
      const mine = [await createEvent(t), await createEvent(t), await createEvent(t)];
      const inactive = await createEvent(t);
      await createEvent(t); // not a member at all
      const { user, token } = await memberOf(mine);
      await assign(t, inactive.id, user.id, 'organisateur', false);
      const res = await t.http.get('/api/events/').set(bearer(token)).expect(200);
      assert.deepEqual(Object.keys(res.body).sort(), ['count', 'next', 'previous', 'results']);
      assert.equal(res.body.count, 3);
      assert.equal(res.body.next, null);
      assert.equal(res.body.previous, null);
      assert.deepEqual(res.body.results.map((e: { id: string }) => e.id).sort(), mine.map((e) => e.id).sort());
      for (const e of res.body.results) assertEventShape(e);
    });

    it('a trailing slash is optional on every route, without a redirect', async () => {
      const e = await createEvent(t);
      const { token } = await memberOf([e]);
      for (const path of ['/api/events', '/api/events/', '/api/events/active', '/api/events/active/']) {
        const res = await t.http.get(path).set(bearer(token));
        assert.equal(res.status, 200, path);
        assert.deepEqual(
          res.body.results.map((r: { id: string }) => r.id),
          [e.id],
          path,
        );
      }
      for (const path of [`/api/events/${e.id}`, `/api/events/${e.id}/`]) {
        assert.equal((await t.http.get(path).set(bearer(token))).body.id, e.id, path);
      }
    });

    it('page_size pages with absolute next/previous links that keep the filters', async () => {
      const tag = uniq('pg');
      const events: Event[] = [];
      for (let i = 0; i < 5; i++) {
        events.push(await createEvent(t, { name: `${tag} ${i}`, startDate: new Date(Date.now() + (i + 1) * HOUR) }));
      }
      const { token } = await memberOf(events);
      const first = await t.http
        .get('/api/events/')
        .query({ page_size: 2, search: tag })
        .set(bearer(token))
        .expect(200);
      assert.equal(first.body.count, 5);
      assert.equal(first.body.previous, null);
      assert.deepEqual(
        first.body.results.map((e: { id: string }) => e.id),
        [events[0]?.id, events[1]?.id],
      );
      const next = new URL(first.body.next as string);
      assert.equal(next.protocol, 'http:');
      assert.match(next.host, /^127\.0\.0\.1:\d+$/);
      assert.equal(next.pathname, '/api/events/');
      assert.equal(next.searchParams.get('page'), '2');
      assert.equal(next.searchParams.get('page_size'), '2');
      assert.equal(next.searchParams.get('search'), tag);
      const second = await t.http
        .get(next.pathname + next.search)
        .set(bearer(token))
        .expect(200);
      assert.deepEqual(
        second.body.results.map((e: { id: string }) => e.id),
        [events[2]?.id, events[3]?.id],
      );
      assert.equal(new URL(second.body.previous as string).searchParams.get('page'), '1');
      const third = await t.http
        .get('/api/events/')
        .query({ page_size: 2, search: tag, page: 3 })
        .set(bearer(token))
        .expect(200);
      assert.deepEqual(
        third.body.results.map((e: { id: string }) => e.id),
        [events[4]?.id],
      );
      assert.equal(third.body.next, null);
      const beyond = await t.http
        .get('/api/events/')
        .query({ page_size: 2, search: tag, page: 9 })
        .set(bearer(token))
        .expect(200);
      assert.equal(beyond.body.count, 5);
      assert.deepEqual(beyond.body.results, []);
      assert.equal(beyond.body.next, null);
    });

    it('page_size above 100 is clamped to 100', async () => {
      const user = await createUser(t);
      const tag = uniq('clamp');
      await t.db.query(
        `WITH ev AS (
           INSERT INTO events (name, start_date, end_date)
           SELECT $1 || ' ' || g, now() + g * interval '1 minute', now() + interval '2 days'
             FROM generate_series(1, 101) g RETURNING id)
         INSERT INTO user_event_assignments (event_id, user_id, role) SELECT id, $2, 'participant' FROM ev`,
        [tag, user.id],
      );
      const token = (await openSession(t, user.id, null)).access;
      const res = await t.http.get('/api/events/').query({ page_size: 1000 }).set(bearer(token)).expect(200);
      assert.equal(res.body.count, 101);
      assert.equal(res.body.results.length, 100);
      assert.ok(res.body.next, 'a next page must exist');
      const rest = new URL(res.body.next as string);
      const last = await t.http
        .get(rest.pathname + rest.search)
        .set(bearer(token))
        .expect(200);
      assert.equal(last.body.results.length, 1);
      assert.equal(last.body.results[0].name, `${tag} 101`);
    });

    for (const query of [
      { page: 0 },
      { page: 'x' },
      { page_size: 0 },
      { page_size: -5 },
      { page_size: 'ten' },
      { ordering: 'password_hash' },
      { ordering: 'name;DROP TABLE events' },
      { status: 'ended' },
      { status: 'bogus' },
      { unknown_filter: '1' },
      { search: 'x'.repeat(201) },
    ]) {
      it(`bad query ${JSON.stringify(query)}: 400 VALIDATION_FAILED`, async () => {
        const w = await memberOf([]);
        const res = await t.http.get('/api/events/').query(query).set(bearer(w.token));
        expectError(res, 400, 'VALIDATION_FAILED', Object.keys(query));
      });
    }

    it('status filter, active/ and upcoming/', async () => {
      const upcoming = await createEvent(t, {
        startDate: new Date(Date.now() + DAY),
        endDate: new Date(Date.now() + 2 * DAY),
      });
      const active = await createEvent(t);
      const completed = await createEvent(t, {
        startDate: new Date(Date.now() - 2 * DAY),
        endDate: new Date(Date.now() - DAY),
      });
      // Cancelled and in the future: neither upcoming nor active.
      const cancelled = await createEvent(t, {
        startDate: new Date(Date.now() + DAY),
        endDate: new Date(Date.now() + 2 * DAY),
        isCancelled: true,
      });
      const { token } = await memberOf([upcoming, active, completed, cancelled]);
      const ids = async (path: string, query: Record<string, string> = {}) => {
        const res = await t.http.get(path).query(query).set(bearer(token)).expect(200);
        assert.equal(res.body.count, res.body.results.length);
        return res.body.results.map((e: { id: string }) => e.id);
      };
      assert.deepEqual(await ids('/api/events/', { status: 'upcoming' }), [upcoming.id]);
      assert.deepEqual(await ids('/api/events/', { status: 'active' }), [active.id]);
      assert.deepEqual(await ids('/api/events/', { status: 'completed' }), [completed.id]);
      assert.deepEqual(await ids('/api/events/', { status: 'cancelled' }), [cancelled.id]);
      assert.deepEqual(await ids('/api/events/active/'), [active.id]);
      assert.deepEqual(await ids('/api/events/upcoming/'), [upcoming.id]);
      assert.equal((await ids('/api/events/')).length, 4);
    });

    it('search matches name, location and description, case-insensitively, with % and _ taken literally', async () => {
      const tag = uniq('srch');
      const byName = await createEvent(t, { name: `Forum ${tag.toUpperCase()}` });
      const byLocation = await createEvent(t, { location: `Salle ${tag}` });
      const byDescription = await createEvent(t, { description: `Une journée ${tag} pour tous` });
      const percent = await createEvent(t, { name: `Promo 100% ${tag}` });
      const underscore = await createEvent(t, { name: `snake_case ${tag}` });
      // Would match `e_c` if `_` were a wildcard.
      const unrelated = await createEvent(t, { name: uniq('Exercice ') });
      const { token } = await memberOf([byName, byLocation, byDescription, percent, underscore, unrelated]);
      const ids = async (search: string) => {
        const res = await t.http.get('/api/events/').query({ search }).set(bearer(token)).expect(200);
        return res.body.results.map((e: { id: string }) => e.id).sort();
      };
      assert.deepEqual(await ids(tag), [byName.id, byLocation.id, byDescription.id, percent.id, underscore.id].sort());
      assert.deepEqual(await ids('%'), [percent.id]);
      assert.deepEqual(await ids('e_c'), [underscore.id]);
      assert.deepEqual(await ids(uniq('nothing')), []);
    });

    it('ordering by name, -name, start_date, -start_date, end_date, created_at', async () => {
      const tag = uniq('ord');
      const b = await createEvent(t, {
        name: `${tag} b`,
        startDate: new Date(Date.now() + 3 * HOUR),
        endDate: new Date(Date.now() + 5 * DAY),
      });
      const a = await createEvent(t, {
        name: `${tag} a`,
        startDate: new Date(Date.now() + 2 * HOUR),
        endDate: new Date(Date.now() + 7 * DAY),
      });
      const c = await createEvent(t, {
        name: `${tag} c`,
        startDate: new Date(Date.now() + HOUR),
        endDate: new Date(Date.now() + 6 * DAY),
      });
      const { token } = await memberOf([b, a, c]);
      const order = async (ordering?: string) => {
        const res = await t.http
          .get('/api/events/')
          .query(ordering ? { ordering } : {})
          .set(bearer(token))
          .expect(200);
        return res.body.results.map((e: { name: string }) => e.name.slice(-1)).join('');
      };
      assert.equal(await order(), 'cab'); // default: start_date ascending
      assert.equal(await order('name'), 'abc');
      assert.equal(await order('-name'), 'cba');
      assert.equal(await order('start_date'), 'cab');
      assert.equal(await order('-start_date'), 'bac');
      assert.equal(await order('end_date'), 'bca');
      assert.equal(await order('-created_at'), 'cab');
    });

    it('platform staff lists every event; a plain user does not see events they are not in', async () => {
      const tag = uniq('staff');
      const e = await createEvent(t, { name: `Hidden ${tag}` });
      const staff = await createUser(t, { isStaff: true });
      const staffToken = (await openSession(t, staff.id, null)).access;
      const res = await t.http.get('/api/events/').query({ search: tag }).set(bearer(staffToken)).expect(200);
      assert.deepEqual(
        res.body.results.map((r: { id: string }) => r.id),
        [e.id],
      );
      const outsider = await memberOf([]);
      const none = await t.http.get('/api/events/').query({ search: tag }).set(bearer(outsider.token)).expect(200);
      assert.equal(none.body.count, 0);
      assert.deepEqual(none.body.results, []);
    });

    it('without a token: 401 on every list', async () => {
      for (const path of ['/api/events/', '/api/events/active/', '/api/events/upcoming/']) {
        expectError(await t.http.get(path), 401, 'AUTH_REQUIRED');
      }
    });
  });

  describe('PATCH / PUT / DELETE /api/events/{id}/', () => {
    let w: World;
    before(async () => {
      w = await createWorld(t);
    });

    const patchAs = (token: string, body: Record<string, unknown>, id = w.event.id) =>
      t.http.patch(`/api/events/${id}/`).set(bearer(token)).send(body);

    describe('organisateur', () => {
      it('PATCH changes the given fields only and bumps updated_at', async () => {
        const before = (await t.http.get(`/api/events/${w.event.id}/`).set(bearer(w.tokens.organisateur))).body;
        const name = uniq('Renamed ');
        const res = await patchAs(w.tokens.organisateur, {
          name,
          location: 'Oran',
          capacity: 50,
          themes: ['a'],
        }).expect(200);
        assertEventShape(res.body);
        assert.equal(res.body.name, name);
        assert.equal(res.body.location, 'Oran');
        assert.equal(res.body.capacity, 50);
        assert.deepEqual(res.body.themes, ['a']);
        assert.equal(res.body.start_date, before.start_date);
        assert.equal(res.body.description, before.description);
        assert.ok(res.body.updated_at > before.updated_at);
        const row = (await eventRow(w.event.id)) as { name: string; capacity: number };
        assert.equal(row.name, name);
        assert.equal(row.capacity, 50);
      });

      it('PATCH capacity null clears it; an upper-case id is the same event', async () => {
        await patchAs(w.tokens.organisateur, { capacity: 10 }).expect(200);
        const res = await t.http
          .patch(`/api/events/${w.event.id.toUpperCase()}`)
          .set(bearer(w.tokens.organisateur))
          .send({ capacity: null })
          .expect(200);
        assert.equal(res.body.capacity, null);
      });

      it('PATCH president: a member of the event or null; anyone else is 400 errors.president', async () => {
        const res = await patchAs(w.tokens.organisateur, { president: w.users.exposant.id }).expect(200);
        assert.equal(res.body.president, w.users.exposant.id);
        const outsider = await createUser(t);
        const inactive = await createUser(t);
        await assign(t, w.event.id, inactive.id, 'participant', false);
        const otherWorld = await createWorld(t);
        for (const president of [
          outsider.id,
          inactive.id,
          otherWorld.users.organisateur.id,
          '6f1c1c2e-1111-4111-8111-111111111111',
          'not-a-uuid',
          42,
        ]) {
          const before = await eventRow(w.event.id);
          expectError(await patchAs(w.tokens.organisateur, { president }), 400, 'VALIDATION_FAILED', ['president']);
          assert.deepEqual(await eventRow(w.event.id), before, String(president));
        }
        const cleared = await patchAs(w.tokens.organisateur, { president: null }).expect(200);
        assert.equal(cleared.body.president, null);
      });

      it('PATCH dates must keep end after start, also against the stored date', async () => {
        const before = await eventRow(w.event.id);
        const storedStart = new Date(w.event.startDate).getTime();
        expectError(
          await patchAs(w.tokens.organisateur, { end_date: new Date(storedStart - HOUR).toISOString() }),
          400,
          'VALIDATION_FAILED',
          ['end_date'],
        );
        expectError(await patchAs(w.tokens.organisateur, { start_date: at(30 * DAY) }), 400, 'VALIDATION_FAILED', [
          'end_date',
        ]);
        assert.deepEqual(await eventRow(w.event.id), before);
      });

      const badPatches: [string, Record<string, unknown>][] = [
        ['id', { id: '6f1c1c2e-1111-4111-8111-111111111111' }],
        ['status', { status: 'completed' }],
        ['created_by', { created_by: '6f1c1c2e-1111-4111-8111-111111111111' }],
        ['total_participants', { total_participants: 1000 }],
        ['created_at', { created_at: '2020-01-01T00:00:00Z' }],
        ['name', { name: null }],
        ['name', { name: '' }],
        ['name', { name: '  ' }],
        ['description', { description: null }],
        ['start_date', { start_date: null }],
        ['start_date', { start_date: 0 }],
        ['end_date', { end_date: 'tomorrow' }],
        ['registration_open', { registration_open: null }],
        ['registration_open', { registration_open: 1 }],
        ['is_cancelled', { is_cancelled: 'true' }],
        ['settings', { settings: null }],
        ['themes', { themes: null }],
        ['currency', { currency: null }],
        ['capacity', { capacity: -1 }],
        ['capacity', { capacity: 2 ** 31 }],
      ];
      for (const [field, body] of badPatches) {
        it(`PATCH ${JSON.stringify(body)}: 400 VALIDATION_FAILED errors.${field}, nothing changed`, async () => {
          const before = await eventRow(w.event.id);
          expectError(await patchAs(w.tokens.organisateur, body), 400, 'VALIDATION_FAILED', [field]);
          assert.deepEqual(await eventRow(w.event.id), before);
        });
      }

      it('PUT requires name, start_date and end_date', async () => {
        const before = await eventRow(w.event.id);
        const res = await t.http
          .put(`/api/events/${w.event.id}/`)
          .set(bearer(w.tokens.organisateur))
          .send({ location: 'Constantine' });
        expectError(res, 400, 'VALIDATION_FAILED', ['name', 'start_date', 'end_date']);
        for (const missing of ['name', 'start_date', 'end_date']) {
          const body: Record<string, unknown> = { name: uniq('Put '), start_date: at(HOUR), end_date: at(DAY) };
          delete body[missing];
          expectError(
            await t.http.put(`/api/events/${w.event.id}/`).set(bearer(w.tokens.organisateur)).send(body),
            400,
            'VALIDATION_FAILED',
            [missing],
          );
        }
        expectError(
          await t.http
            .put(`/api/events/${w.event.id}/`)
            .set(bearer(w.tokens.organisateur))
            .send({ name: null, start_date: at(HOUR), end_date: at(DAY) }),
          400,
          'VALIDATION_FAILED',
          ['name'],
        );
        assert.deepEqual(await eventRow(w.event.id), before);
      });

      it('PUT with the required fields replaces them', async () => {
        const body = { name: uniq('Put '), start_date: at(-HOUR), end_date: at(5 * DAY), location: 'Béjaïa' };
        const res = await t.http
          .put(`/api/events/${w.event.id}`)
          .set(bearer(w.tokens.organisateur))
          .send(body)
          .expect(200);
        assertEventShape(res.body);
        assert.equal(res.body.name, body.name);
        assert.equal(res.body.start_date, body.start_date);
        assert.equal(res.body.end_date, body.end_date);
        assert.equal(res.body.location, 'Béjaïa');
        assert.equal(res.body.status, 'active');
      });
    });

    for (const role of NON_ORGANIZER_ROLES) {
      describe(role, () => {
        it('PATCH, PUT and DELETE are 403 FORBIDDEN and nothing changes', async () => {
          const before = await eventRow(w.event.id);
          const token = w.tokens[role];
          expectError(await patchAs(token, { name: uniq('Hijack ') }), 403, 'FORBIDDEN');
          expectError(
            await t.http
              .put(`/api/events/${w.event.id}/`)
              .set(bearer(token))
              .send({ name: uniq('Hijack '), start_date: at(HOUR), end_date: at(DAY) }),
            403,
            'FORBIDDEN',
          );
          expectError(await t.http.delete(`/api/events/${w.event.id}/`).set(bearer(token)), 403, 'FORBIDDEN');
          assert.deepEqual(await eventRow(w.event.id), before);
        });
      });
    }

    describe('organisateur of another event', () => {
      it('PATCH, PUT and DELETE of this event are 404 and it is unchanged', async () => {
        const other = await createWorld(t);
        const before = await eventRow(w.event.id);
        const token = other.tokens.organisateur;
        expectError(await patchAs(token, { name: uniq('Hijack ') }), 404, 'NOT_FOUND');
        expectError(
          await t.http
            .put(`/api/events/${w.event.id}/`)
            .set(bearer(token))
            .send({ name: uniq('Hijack '), start_date: at(HOUR), end_date: at(DAY) }),
          404,
          'NOT_FOUND',
        );
        expectError(await t.http.delete(`/api/events/${w.event.id}/`).set(bearer(token)), 404, 'NOT_FOUND');
        assert.deepEqual(await eventRow(w.event.id), before);
      });

      it('even when also organisateur of this event: the token’s event decides (404)', async () => {
        const other = await createEvent(t);
        const user = await createUser(t);
        await assign(t, other.id, user.id, 'organisateur');
        await assign(t, w.event.id, user.id, 'organisateur');
        const token = (await openSession(t, user.id, other.id)).access;
        const before = await eventRow(w.event.id);
        expectError(await patchAs(token, { name: uniq('Cross ') }), 404, 'NOT_FOUND');
        expectError(await t.http.delete(`/api/events/${w.event.id}/`).set(bearer(token)), 404, 'NOT_FOUND');
        assert.deepEqual(await eventRow(w.event.id), before);
      });
    });

    describe('forged and expired tokens', () => {
      it('other secret, expired, alg:none: 401 TOKEN_INVALID and nothing changes', async () => {
        const claims = JSON.parse(
          Buffer.from(w.tokens.organisateur.split('.')[1] as string, 'base64url').toString(),
        ) as Record<string, unknown>;
        const now = Math.floor(Date.now() / 1000);
        const { iat: _iat, exp: _exp, ...payload } = claims;
        const forged = new JwtService({ secret: 'not-the-secret-not-the-secret-0123456789' }).sign(payload);
        const expired = new JwtService({ secret: TEST_JWT_SECRET }).sign({
          ...payload,
          iat: now - 7200,
          exp: now - 3600,
        });
        const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
          JSON.stringify({ ...payload, exp: now + 600 }),
        ).toString('base64url')}.`;
        const before = await eventRow(w.event.id);
        for (const token of [forged, expired, none]) {
          expectError(await patchAs(token, { name: uniq('Forged ') }), 401, 'TOKEN_INVALID');
        }
        assert.deepEqual(await eventRow(w.event.id), before);
      });
    });

    describe('platform staff who is not a member', () => {
      it('cannot change or delete the event (403)', async () => {
        const staff = await createUser(t, { isStaff: true });
        const token = (await openSession(t, staff.id, null)).access;
        const before = await eventRow(w.event.id);
        expectError(await patchAs(token, { name: uniq('Staff ') }), 403, 'EVENT_REQUIRED');
        expectError(await t.http.delete(`/api/events/${w.event.id}/`).set(bearer(token)), 403, 'EVENT_REQUIRED');
        assert.deepEqual(await eventRow(w.event.id), before);
      });
    });

    it('DELETE by the organisateur: 204 without body, then 404, memberships gone, old token refused', async () => {
      const doomed = await createWorld(t);
      const staff = await createUser(t, { isStaff: true });
      const staffToken = (await openSession(t, staff.id, null)).access;
      await t.http.get(`/api/events/${doomed.event.id}/`).set(bearer(staffToken)).expect(200);
      const res = await t.http
        .delete(`/api/events/${doomed.event.id}/`)
        .set(bearer(doomed.tokens.organisateur))
        .expect(204);
      assert.equal(res.text, '');
      expectError(await t.http.get(`/api/events/${doomed.event.id}/`).set(bearer(staffToken)), 404, 'NOT_FOUND');
      assert.equal(await eventRow(doomed.event.id), null);
      assert.equal(await countRows(t, 'user_event_assignments', 'event_id = $1', [doomed.event.id]), 0);
      const stale = await t.http.get('/api/events/').set(bearer(doomed.tokens.participant));
      expectError(stale, 401, stale.body.code === 'MEMBERSHIP_REVOKED' ? 'MEMBERSHIP_REVOKED' : 'TOKEN_INVALID');
      // The untouched event of the suite is still there.
      assert.notEqual(await eventRow(w.event.id), null);
    });
  });
});
