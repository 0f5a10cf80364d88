import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'supertest';
import type { EventRole } from '../src/common/auth/event-role';
import { assign, bearer, countRows, createUser, createWorld, openSession, uniq, type World } from './helpers/factories';
import { expectError, expectValidation } from './helpers/assertions';
import { bootTestApp, type TestApp } from './helpers/test-app';

const SHIFT_KEYS = [
  'id',
  'user',
  'user_name',
  'room',
  'room_name',
  'role',
  'start_time',
  'end_time',
  'is_active',
  'assigned_by',
].sort();
const UNKNOWN_ID = '6f1c1c2e-1111-4111-8111-111111111111';
const NON_ORGANIZER_ROLES: EventRole[] = [
  'gestionnaire_des_salles',
  'controlleur_des_badges',
  'exposant',
  'participant',
];
const HOUR = 3600_000;

/** An instant relative to now, as the API writes it. */
const fromNow = (hours: number): string => new Date(Date.now() + hours * HOUR).toISOString();
/** A fixed day far from now for shifts whose relation to the clock does not matter. */
const at = (hhmm: string, day = '2030-03-10'): string => `${day}T${hhmm}:00.000Z`;

type Body = Record<string, unknown>;
type Shift = Record<string, unknown> & { id: string };

describe('room-assignments', () => {
  let t: TestApp;

  /** A room inserted directly (the rooms API is another module). */
  const createRoom = async (eventId: string, name = uniq('Room ')): Promise<string> => {
    const rows: { id: string }[] = await t.db.query(
      'INSERT INTO rooms (event_id, name, capacity) VALUES ($1, $2, 100) RETURNING id',
      [eventId, name],
    );
    return (rows[0] as { id: string }).id;
  };

  const controllerBody = (w: World, roomId: string, extra: Body = {}): Body => ({
    user_id: w.users.controlleur_des_badges.id,
    room_id: roomId,
    role: 'controlleur_des_badges',
    start_time: at('09:00'),
    end_time: at('12:00'),
    ...extra,
  });

  const managerBody = (w: World, roomId: string, extra: Body = {}): Body => ({
    user_id: w.users.gestionnaire_des_salles.id,
    room_id: roomId,
    role: 'gestionnaire_des_salles',
    start_time: at('09:00'),
    end_time: at('12:00'),
    ...extra,
  });

  const createShift = async (w: World, body: Body): Promise<Shift> => {
    const res = await t.http.post('/api/room-assignments/').set(bearer(w.tokens.organisateur)).send(body);
    assert.equal(res.status, 201, res.text);
    return res.body as Shift;
  };

  /** All shift rows of an event as JSON, for "nothing changed" assertions. */
  const snapshot = async (eventId: string): Promise<unknown[]> => {
    const rows: { row: unknown }[] = await t.db.query(
      'SELECT to_jsonb(ra) AS row FROM room_assignments ra WHERE event_id = $1 ORDER BY id',
      [eventId],
    );
    return rows.map((r) => r.row);
  };

  const shiftCount = (eventId: string): Promise<number> => countRows(t, 'room_assignments', 'event_id = $1', [eventId]);

  const ids = (res: Response): string[] => (res.body.results as { id: string }[]).map((s) => s.id);

  const createSession = async (w: World, roomId: string, hhmm = '09:00'): Promise<string> => {
    const res = await t.http
      .post('/api/sessions/')
      .set(bearer(w.tokens.organisateur))
      .send({ room_id: roomId, title: uniq('Talk '), start_time: at(hhmm), end_time: at(`${hhmm.slice(0, 2)}:45`) });
    assert.equal(res.status, 201, res.text);
    return (res.body as { id: string }).id;
  };

  const statusOf = async (id: string): Promise<string | undefined> => {
    const rows: { status: string }[] = await t.db.query('SELECT status FROM sessions WHERE id = $1', [id]);
    return rows[0]?.status;
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

    it('POST: 201 with exactly the documented keys and values, assigned_by the caller, active by default', async () => {
      const roomName = uniq('Salle A ');
      const roomId = await createRoom(w.event.id, roomName);
      const s = await createShift(w, controllerBody(w, roomId, { start_time: '2030-03-10T10:00:00+01:00' }));
      assert.deepEqual(Object.keys(s).sort(), SHIFT_KEYS);
      const user = w.users.controlleur_des_badges;
      assert.deepEqual(
        { ...s, id: undefined },
        {
          id: undefined,
          user: user.id,
          user_name: `${user.firstName} ${user.lastName}`,
          room: roomId,
          room_name: roomName,
          role: 'controlleur_des_badges',
          start_time: '2030-03-10T09:00:00.000Z',
          end_time: '2030-03-10T12:00:00.000Z',
          is_active: true,
          assigned_by: w.users.organisateur.id,
        },
      );
      const rows: { event_id: string }[] = await t.db.query('SELECT event_id FROM room_assignments WHERE id = $1', [
        s.id,
      ]);
      assert.equal(rows[0]?.event_id, w.event.id);
    });

    it('POST a gestionnaire shift, inactive: 201 with is_active false', async () => {
      const roomId = await createRoom(w.event.id);
      const s = await createShift(w, managerBody(w, roomId, { is_active: false }));
      assert.equal(s.role, 'gestionnaire_des_salles');
      assert.equal(s.is_active, false);
    });

    it('GET /{id}/ returns one shift; malformed id 400; unknown id 404', async () => {
      const roomId = await createRoom(w.event.id);
      const s = await createShift(w, controllerBody(w, roomId));
      const res = await t.http.get(`/api/room-assignments/${s.id}/`).set(bearer(w.tokens.organisateur)).expect(200);
      assert.deepEqual(res.body, s);
      expectValidation(await t.http.get('/api/room-assignments/nope/').set(bearer(w.tokens.organisateur)), 'id');
      expectError(
        await t.http.get(`/api/room-assignments/${UNKNOWN_ID}/`).set(bearer(w.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
    });

    it('PATCH changes some fields; PUT needs every required field', async () => {
      const roomId = await createRoom(w.event.id);
      const otherRoom = await createRoom(w.event.id);
      const s = await createShift(w, controllerBody(w, roomId));
      const patched = await t.http
        .patch(`/api/room-assignments/${s.id}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ end_time: at('13:00'), is_active: false, room_id: otherRoom })
        .expect(200);
      assert.equal(patched.body.end_time, at('13:00'));
      assert.equal(patched.body.start_time, at('09:00'));
      assert.equal(patched.body.is_active, false);
      assert.equal(patched.body.room, otherRoom);

      const before = await snapshot(w.event.id);
      expectValidation(
        await t.http
          .put(`/api/room-assignments/${s.id}/`)
          .set(bearer(w.tokens.organisateur))
          .send({ end_time: at('14:00') }),
        'user_id',
        'room_id',
        'role',
        'start_time',
      );
      assert.deepEqual(await snapshot(w.event.id), before);

      const put = await t.http
        .put(`/api/room-assignments/${s.id}/`)
        .set(bearer(w.tokens.organisateur))
        .send(managerBody(w, roomId, { start_time: at('15:00'), end_time: at('16:00'), is_active: true }))
        .expect(200);
      assert.equal(put.body.user, w.users.gestionnaire_des_salles.id);
      assert.equal(put.body.role, 'gestionnaire_des_salles');
      assert.equal(put.body.room, roomId);
      assert.equal(put.body.start_time, at('15:00'));
      assert.equal(put.body.is_active, true);
    });

    it('PATCH against the rules: 400 naming the field, nothing changes', async () => {
      const roomId = await createRoom(w.event.id);
      const s = await createShift(w, controllerBody(w, roomId));
      const other = await createWorld(t);
      const foreignRoom = await createRoom(other.event.id);
      const before = await snapshot(w.event.id);
      const patch = (body: Body) =>
        t.http.patch(`/api/room-assignments/${s.id}/`).set(bearer(w.tokens.organisateur)).send(body);
      expectValidation(await patch({ end_time: at('08:00') }), 'end_time');
      expectValidation(await patch({ start_time: at('12:00') }), 'end_time');
      expectValidation(await patch({ role: 'gestionnaire_des_salles' }), 'role');
      expectValidation(await patch({ user_id: w.users.participant.id }), 'role');
      expectValidation(await patch({ room_id: foreignRoom }), 'room_id');
      expectValidation(await patch({ is_active: null }), 'is_active');
      expectValidation(await patch({ id: UNKNOWN_ID }), 'id');
      assert.deepEqual(await snapshot(w.event.id), before);
    });

    it('DELETE: 204, then 404 and the row is gone', async () => {
      const roomId = await createRoom(w.event.id);
      const s = await createShift(w, controllerBody(w, roomId));
      await t.http.delete(`/api/room-assignments/${s.id}/`).set(bearer(w.tokens.organisateur)).expect(204);
      expectError(
        await t.http.delete(`/api/room-assignments/${s.id}/`).set(bearer(w.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
      assert.equal(await countRows(t, 'room_assignments', 'id = $1', [s.id]), 0);
    });
  });

  describe('validation of POST', () => {
    let w: World;
    let roomId: string;
    let foreignRoom: string;
    let outsider: string;
    let inactiveController: string;
    before(async () => {
      w = await createWorld(t);
      roomId = await createRoom(w.event.id);
      const other = await createWorld(t);
      foreignRoom = await createRoom(other.event.id);
      outsider = (await createUser(t)).id;
      inactiveController = (await createUser(t)).id;
      await assign(t, w.event.id, inactiveController, 'controlleur_des_badges', false);
    });

    const cases: [string, (w: World) => Body, string[]][] = [
      ['a role other than the user’s', (w) => controllerBody(w, roomId, { role: 'gestionnaire_des_salles' }), ['role']],
      [
        'a gestionnaire given a controller shift',
        (w) => managerBody(w, roomId, { role: 'controlleur_des_badges' }),
        ['role'],
      ],
      ['a participant user', (w) => controllerBody(w, roomId, { user_id: w.users.participant.id }), ['role']],
      ['an exposant user', (w) => controllerBody(w, roomId, { user_id: w.users.exposant.id }), ['role']],
      [
        'role organisateur',
        (w) => controllerBody(w, roomId, { user_id: w.users.organisateur.id, role: 'organisateur' }),
        ['role'],
      ],
      ['a user not in the event', (w) => controllerBody(w, roomId, { user_id: outsider }), ['user_id']],
      ['a user whose role is inactive', (w) => controllerBody(w, roomId, { user_id: inactiveController }), ['user_id']],
      ['an unknown user', (w) => controllerBody(w, roomId, { user_id: UNKNOWN_ID }), ['user_id']],
      ['a room of another event', (w) => controllerBody(w, foreignRoom), ['room_id']],
      ['an unknown room', (w) => controllerBody(w, UNKNOWN_ID), ['room_id']],
      ['end before start', (w) => controllerBody(w, roomId, { end_time: at('08:00') }), ['end_time']],
      ['end equal to start', (w) => controllerBody(w, roomId, { end_time: at('09:00') }), ['end_time']],
      [
        'a datetime without offset',
        (w) => controllerBody(w, roomId, { start_time: '2030-03-10T09:00:00' }),
        ['start_time'],
      ],
      ['a number as end_time', (w) => controllerBody(w, roomId, { end_time: 1 }), ['end_time']],
      ['a malformed user_id', (w) => controllerBody(w, roomId, { user_id: 'abc' }), ['user_id']],
      ['no body fields', () => ({}), ['user_id', 'room_id', 'role', 'start_time', 'end_time']],
      ['is_active null', (w) => controllerBody(w, roomId, { is_active: null }), ['is_active']],
      ['an unknown field', (w) => controllerBody(w, roomId, { color: 'red' }), ['color']],
      ['read-only id', (w) => controllerBody(w, roomId, { id: UNKNOWN_ID }), ['id']],
      ['read-only assigned_by', (w) => controllerBody(w, roomId, { assigned_by: UNKNOWN_ID }), ['assigned_by']],
      ['read-only user_name', (w) => controllerBody(w, roomId, { user_name: 'X' }), ['user_name']],
      [
        'event_id (the event comes from the token)',
        (w) => controllerBody(w, roomId, { event_id: UNKNOWN_ID }),
        ['event_id'],
      ],
    ];
    for (const [label, body, fields] of cases) {
      it(`POST with ${label}: 400 VALIDATION_FAILED naming ${fields.join(', ')}, nothing written`, async () => {
        const res = await t.http.post('/api/room-assignments/').set(bearer(w.tokens.organisateur)).send(body(w));
        expectValidation(res, ...fields);
        assert.equal(await shiftCount(w.event.id), 0);
      });
    }

    it('the same body with the matching role is accepted (the cases above fail for their stated reason)', async () => {
      const other = await createWorld(t);
      const room = await createRoom(other.event.id);
      await createShift(other, controllerBody(other, room));
      await createShift(other, managerBody(other, room));
      assert.equal(await shiftCount(other.event.id), 2);
    });
  });

  describe('list filters, ordering, pagination', () => {
    let w: World;
    let roomA: string;
    let roomB: string;
    let s: Record<'a1' | 'a2' | 'b1' | 'b2', Shift>;
    before(async () => {
      w = await createWorld(t);
      roomA = await createRoom(w.event.id);
      roomB = await createRoom(w.event.id);
      // Created in this order on purpose: creation order differs from start order.
      s = {
        b1: await createShift(w, managerBody(w, roomB, { start_time: at('13:00'), end_time: at('15:00') })),
        a1: await createShift(w, controllerBody(w, roomA, { start_time: at('08:00'), end_time: at('10:00') })),
        b2: await createShift(
          w,
          controllerBody(w, roomB, { start_time: at('10:00'), end_time: at('12:00'), is_active: false }),
        ),
        a2: await createShift(w, managerBody(w, roomA, { start_time: at('09:00'), end_time: at('11:00') })),
      };
      const other = await createWorld(t);
      await createShift(other, controllerBody(other, await createRoom(other.event.id)));
    });

    const list = (query: Record<string, string | number>) =>
      t.http.get('/api/room-assignments/').query(query).set(bearer(w.tokens.organisateur));

    it('only this event’s shifts, by start time by default', async () => {
      const res = await list({}).expect(200);
      assert.equal(res.body.count, 4);
      assert.deepEqual(ids(res), [s.a1.id, s.a2.id, s.b2.id, s.b1.id]);
    });

    it('filters room, user, role, is_active, active_at', async () => {
      assert.deepEqual(ids(await list({ room: roomA }).expect(200)), [s.a1.id, s.a2.id]);
      assert.deepEqual(ids(await list({ user: w.users.gestionnaire_des_salles.id }).expect(200)), [s.a2.id, s.b1.id]);
      assert.deepEqual(ids(await list({ role: 'controlleur_des_badges' }).expect(200)), [s.a1.id, s.b2.id]);
      assert.deepEqual(ids(await list({ is_active: 'false' }).expect(200)), [s.b2.id]);
      assert.deepEqual(ids(await list({ is_active: 'true' }).expect(200)), [s.a1.id, s.a2.id, s.b1.id]);
      // Start inclusive, end exclusive.
      assert.deepEqual(ids(await list({ active_at: at('10:00') }).expect(200)), [s.a2.id, s.b2.id]);
      assert.deepEqual(ids(await list({ active_at: '2030-03-10T15:30:00+01:00' }).expect(200)), [s.b1.id]);
      assert.deepEqual(ids(await list({ active_at: at('12:30') }).expect(200)), []);
      assert.deepEqual(ids(await list({ active_at: at('09:30'), room: roomA, role: 'gestionnaire_des_salles' })), [
        s.a2.id,
      ]);
    });

    it('ordering start_time, -start_time, created_at, -created_at', async () => {
      assert.deepEqual(ids(await list({ ordering: 'start_time' }).expect(200)), [s.a1.id, s.a2.id, s.b2.id, s.b1.id]);
      assert.deepEqual(ids(await list({ ordering: '-start_time' }).expect(200)), [s.b1.id, s.b2.id, s.a2.id, s.a1.id]);
      assert.deepEqual(ids(await list({ ordering: 'created_at' }).expect(200)), [s.b1.id, s.a1.id, s.b2.id, s.a2.id]);
      assert.deepEqual(ids(await list({ ordering: '-created_at' }).expect(200)), [s.a2.id, s.b2.id, s.a1.id, s.b1.id]);
    });

    it('pagination with absolute next/previous links', async () => {
      const first = await list({ page_size: 3 }).expect(200);
      assert.equal(first.body.count, 4);
      assert.deepEqual(ids(first), [s.a1.id, s.a2.id, s.b2.id]);
      assert.equal(first.body.previous, null);
      assert.match(String(first.body.next), /^http:\/\/[^/]+\/api\/room-assignments\/\?.*page=2/);
      const second = await list({ page_size: 3, page: 2 }).expect(200);
      assert.deepEqual(ids(second), [s.b1.id]);
      assert.equal(second.body.next, null);
      assert.match(String(second.body.previous), /page=1/);
    });

    it('?event= naming this event filters nothing; naming another event is a 400', async () => {
      assert.equal((await list({ event: w.event.id }).expect(200)).body.count, 4);
      expectValidation(await list({ event: UNKNOWN_ID }), 'event');
    });

    const badQueries: Record<string, string | number>[] = [
      { role: 'organisateur' },
      { is_active: 'yes' },
      { active_at: '2030-03-10' },
      { room: 'abc' },
      { user: 'abc' },
      { ordering: 'user_name' },
      { page: 0 },
      { color: 'red' },
    ];
    for (const query of badQueries) {
      it(`bad query ${JSON.stringify(query)}: 400 VALIDATION_FAILED`, async () => {
        expectValidation(await list(query), ...Object.keys(query));
      });
    }
  });

  describe('mine/', () => {
    let w: World;
    let shifts: Shift[];
    before(async () => {
      w = await createWorld(t);
      const room = await createRoom(w.event.id);
      const late = await createShift(w, controllerBody(w, room, { start_time: at('14:00'), end_time: at('15:00') }));
      const early = await createShift(w, controllerBody(w, room, { start_time: at('08:00'), end_time: at('09:00') }));
      const inactive = await createShift(
        w,
        controllerBody(w, room, { start_time: at('11:00'), end_time: at('12:00'), is_active: false }),
      );
      shifts = [early, inactive, late];
      await createShift(w, managerBody(w, room));
      // The same controller in another event: not shown with this event's token.
      const other = await createWorld(t);
      await assign(t, other.event.id, w.users.controlleur_des_badges.id, 'controlleur_des_badges');
      await createShift(other, {
        ...controllerBody(other, await createRoom(other.event.id)),
        user_id: w.users.controlleur_des_badges.id,
      });
    });

    it('controlleur: own shifts of the token’s event only, by start time, with the documented keys', async () => {
      const res = await t.http
        .get('/api/room-assignments/mine/')
        .set(bearer(w.tokens.controlleur_des_badges))
        .expect(200);
      assert.equal(res.body.count, 3);
      assert.deepEqual(res.body.results, shifts);
      const paged = await t.http
        .get('/api/room-assignments/mine')
        .query({ page_size: 2, page: 2 })
        .set(bearer(w.tokens.controlleur_des_badges))
        .expect(200);
      assert.deepEqual(ids(paged), [shifts[2]?.id]);
    });

    it('gestionnaire: own shift only; organisateur: none (an empty page)', async () => {
      const mine = await t.http
        .get('/api/room-assignments/mine/')
        .set(bearer(w.tokens.gestionnaire_des_salles))
        .expect(200);
      assert.equal(mine.body.count, 1);
      assert.equal(mine.body.results[0].user, w.users.gestionnaire_des_salles.id);
      const org = await t.http.get('/api/room-assignments/mine/').set(bearer(w.tokens.organisateur)).expect(200);
      assert.deepEqual(org.body, { count: 0, next: null, previous: null, results: [] });
    });

    for (const role of ['exposant', 'participant'] as const) {
      it(`${role}: 403 FORBIDDEN`, async () => {
        expectError(await t.http.get('/api/room-assignments/mine/').set(bearer(w.tokens[role])), 403, 'FORBIDDEN');
      });
    }

    it('search and ordering are not accepted there (400)', async () => {
      const token = bearer(w.tokens.controlleur_des_badges);
      expectValidation(
        await t.http.get('/api/room-assignments/mine/').query({ ordering: '-start_time' }).set(token),
        'ordering',
      );
      expectValidation(await t.http.get('/api/room-assignments/mine/').query({ search: 'x' }).set(token), 'search');
    });
  });

  for (const role of NON_ORGANIZER_ROLES) {
    describe(role, () => {
      it('every CRUD route is 403 FORBIDDEN and nothing changes', async () => {
        const w = await createWorld(t);
        const token = bearer(w.tokens[role]);
        const roomId = await createRoom(w.event.id);
        const target = await createShift(w, controllerBody(w, roomId));
        const before = await snapshot(w.event.id);
        expectError(await t.http.get('/api/room-assignments/').set(token), 403, 'FORBIDDEN');
        expectError(await t.http.get(`/api/room-assignments/${target.id}/`).set(token), 403, 'FORBIDDEN');
        expectError(
          await t.http.post('/api/room-assignments/').set(token).send(managerBody(w, roomId)),
          403,
          'FORBIDDEN',
        );
        expectError(
          await t.http.patch(`/api/room-assignments/${target.id}/`).set(token).send({ is_active: false }),
          403,
          'FORBIDDEN',
        );
        expectError(
          await t.http.put(`/api/room-assignments/${target.id}/`).set(token).send(controllerBody(w, roomId)),
          403,
          'FORBIDDEN',
        );
        expectError(await t.http.delete(`/api/room-assignments/${target.id}/`).set(token), 403, 'FORBIDDEN');
        assert.deepEqual(await snapshot(w.event.id), before);
      });
    });
  }

  describe('without a token or an event', () => {
    it('401 without a token; 403 EVENT_REQUIRED for a token without event', async () => {
      expectError(await t.http.get('/api/room-assignments/'), 401, 'AUTH_REQUIRED');
      expectError(await t.http.get('/api/room-assignments/mine/'), 401, 'AUTH_REQUIRED');
      const staff = await createUser(t, { isStaff: true });
      const token = (await openSession(t, staff.id, null)).access;
      expectError(await t.http.get('/api/room-assignments/').set(bearer(token)), 403, 'EVENT_REQUIRED');
    });
  });

  describe('organisateur of another event', () => {
    it('this event’s shifts are 404 by id, unchanged, and absent from their list', async () => {
      const w = await createWorld(t);
      const other = await createWorld(t);
      const token = bearer(other.tokens.organisateur);
      const roomId = await createRoom(w.event.id);
      const target = await createShift(w, controllerBody(w, roomId));
      const before = await snapshot(w.event.id);
      expectError(await t.http.get(`/api/room-assignments/${target.id}/`).set(token), 404, 'NOT_FOUND');
      expectError(
        await t.http.patch(`/api/room-assignments/${target.id}/`).set(token).send({ is_active: false }),
        404,
        'NOT_FOUND',
      );
      expectError(
        await t.http.put(`/api/room-assignments/${target.id}/`).set(token).send(controllerBody(w, roomId)),
        404,
        'NOT_FOUND',
      );
      expectError(await t.http.delete(`/api/room-assignments/${target.id}/`).set(token), 404, 'NOT_FOUND');
      assert.deepEqual(await snapshot(w.event.id), before);
      const list = await t.http.get('/api/room-assignments/').set(token).expect(200);
      assert.equal(list.body.count, 0);
      // Nor can they assign this event's staff to this event's room from their token.
      expectValidation(
        await t.http.post('/api/room-assignments/').set(token).send(controllerBody(w, roomId)),
        'room_id',
        'user_id',
      );
      assert.equal(await shiftCount(other.event.id), 0);
    });
  });

  describe('GET /api/rooms/{id}/current-staff/', () => {
    let w: World;
    let roomId: string;
    let current: Shift[];
    before(async () => {
      w = await createWorld(t);
      roomId = await createRoom(w.event.id);
      const otherRoom = await createRoom(w.event.id);
      const manager = await createShift(w, managerBody(w, roomId, { start_time: fromNow(-2), end_time: fromNow(2) }));
      const controller = await createShift(
        w,
        controllerBody(w, roomId, { start_time: fromNow(-1), end_time: fromNow(1) }),
      );
      current = [manager, controller];
      // Not now, not active, or not this room.
      await createShift(w, controllerBody(w, roomId, { start_time: fromNow(-3), end_time: fromNow(-2) }));
      await createShift(w, controllerBody(w, roomId, { start_time: fromNow(2), end_time: fromNow(3) }));
      await createShift(
        w,
        controllerBody(w, roomId, { start_time: fromNow(-1), end_time: fromNow(1), is_active: false }),
      );
      await createShift(w, managerBody(w, otherRoom, { start_time: fromNow(-1), end_time: fromNow(1) }));
    });

    for (const role of ['organisateur', 'gestionnaire_des_salles', 'controlleur_des_badges'] as const) {
      it(`${role}: the active shifts covering now, as an array of shift objects`, async () => {
        const res = await t.http.get(`/api/rooms/${roomId}/current-staff/`).set(bearer(w.tokens[role])).expect(200);
        assert.ok(Array.isArray(res.body));
        assert.deepEqual(res.body, current);
      });
    }

    it('a room without staff now: an empty array', async () => {
      const empty = await createRoom(w.event.id);
      const res = await t.http.get(`/api/rooms/${empty}/current-staff`).set(bearer(w.tokens.organisateur)).expect(200);
      assert.deepEqual(res.body, []);
    });

    it('a room of another event, an unknown room: 404; a malformed id: 400', async () => {
      const other = await createWorld(t);
      const token = bearer(other.tokens.organisateur);
      expectError(await t.http.get(`/api/rooms/${roomId}/current-staff/`).set(token), 404, 'NOT_FOUND');
      expectError(await t.http.get(`/api/rooms/${UNKNOWN_ID}/current-staff/`).set(token), 404, 'NOT_FOUND');
      expectValidation(await t.http.get('/api/rooms/abc/current-staff/').set(token), 'id');
    });

    for (const role of ['exposant', 'participant'] as const) {
      it(`${role}: 403 FORBIDDEN`, async () => {
        expectError(
          await t.http.get(`/api/rooms/${roomId}/current-staff/`).set(bearer(w.tokens[role])),
          403,
          'FORBIDDEN',
        );
      });
    }
  });

  describe('session status changes by a gestionnaire_des_salles', () => {
    const act = (w: World, role: EventRole, sessionId: string, action: string) =>
      t.http.post(`/api/sessions/${sessionId}/${action}/`).set(bearer(w.tokens[role]));

    it('with a shift on room A now: may change sessions of A; 403 for room B and nothing changes', async () => {
      const w = await createWorld(t);
      const roomA = await createRoom(w.event.id);
      const roomB = await createRoom(w.event.id);
      await createShift(w, managerBody(w, roomA, { start_time: fromNow(-1), end_time: fromNow(1) }));
      const inA = await createSession(w, roomA);
      const inB = await createSession(w, roomB);
      const before = await t.db.query('SELECT to_jsonb(s) AS row FROM sessions s WHERE id = $1', [inB]);

      for (const action of ['mark_live', 'cancel', 'mark_completed']) {
        expectError(await act(w, 'gestionnaire_des_salles', inB, action), 403, 'FORBIDDEN');
      }
      assert.deepEqual(await t.db.query('SELECT to_jsonb(s) AS row FROM sessions s WHERE id = $1', [inB]), before);
      assert.equal(await statusOf(inB), 'scheduled');

      const live = await act(w, 'gestionnaire_des_salles', inA, 'mark_live').expect(200);
      assert.equal(live.body.status, 'live');
      const done = await act(w, 'gestionnaire_des_salles', inA, 'mark_completed').expect(200);
      assert.equal(done.body.status, 'completed');
      const other = await createSession(w, roomA, '11:00');
      await act(w, 'gestionnaire_des_salles', other, 'cancel').expect(200);
      assert.equal(await statusOf(other), 'cancelled');
      // The room check comes before the status check: a transition that is invalid anyway is still a 403 in B...
      expectError(await act(w, 'gestionnaire_des_salles', inB, 'mark_completed'), 403, 'FORBIDDEN');
      // ... and an unknown session a 404.
      expectError(await act(w, 'gestionnaire_des_salles', UNKNOWN_ID, 'mark_live'), 404, 'NOT_FOUND');
    });

    it('with shifts on room A that do not cover now (past, future, or inactive now): 403 even in A', async () => {
      const w = await createWorld(t);
      const roomA = await createRoom(w.event.id);
      await createShift(w, managerBody(w, roomA, { start_time: fromNow(-3), end_time: fromNow(-1) }));
      await createShift(w, managerBody(w, roomA, { start_time: fromNow(1), end_time: fromNow(3) }));
      await createShift(w, managerBody(w, roomA, { start_time: fromNow(-1), end_time: fromNow(1), is_active: false }));
      const inA = await createSession(w, roomA);
      expectError(await act(w, 'gestionnaire_des_salles', inA, 'mark_live'), 403, 'FORBIDDEN');
      assert.equal(await statusOf(inA), 'scheduled');
    });

    it('without any shift in the event: allowed in every room', async () => {
      const w = await createWorld(t);
      // A shift of another gestionnaire does not restrict this one.
      const colleague = await createUser(t);
      await assign(t, w.event.id, colleague.id, 'gestionnaire_des_salles');
      const roomA = await createRoom(w.event.id);
      const roomB = await createRoom(w.event.id);
      await createShift(w, {
        ...managerBody(w, roomA, { start_time: fromNow(-1), end_time: fromNow(1) }),
        user_id: colleague.id,
      });
      const inB = await createSession(w, roomB);
      await act(w, 'gestionnaire_des_salles', inB, 'mark_live').expect(200);
      assert.equal(await statusOf(inB), 'live');
    });

    it('only deactivated shifts: not restricted, like no shift', async () => {
      const w = await createWorld(t);
      const roomA = await createRoom(w.event.id);
      const roomB = await createRoom(w.event.id);
      await createShift(w, managerBody(w, roomA, { start_time: fromNow(-1), end_time: fromNow(1), is_active: false }));
      const inB = await createSession(w, roomB);
      await act(w, 'gestionnaire_des_salles', inB, 'cancel').expect(200);
      assert.equal(await statusOf(inB), 'cancelled');
    });

    it('organisateur: always, whatever the shifts', async () => {
      const w = await createWorld(t);
      const roomA = await createRoom(w.event.id);
      const roomB = await createRoom(w.event.id);
      await createShift(w, managerBody(w, roomA, { start_time: fromNow(-1), end_time: fromNow(1) }));
      const inB = await createSession(w, roomB);
      await act(w, 'organisateur', inB, 'mark_live').expect(200);
      await act(w, 'organisateur', inB, 'mark_completed').expect(200);
      assert.equal(await statusOf(inB), 'completed');
    });

    it('controlleur_des_badges with a shift on the room: still 403 (not a status changer)', async () => {
      const w = await createWorld(t);
      const roomA = await createRoom(w.event.id);
      await createShift(w, controllerBody(w, roomA, { start_time: fromNow(-1), end_time: fromNow(1) }));
      const inA = await createSession(w, roomA);
      expectError(await act(w, 'controlleur_des_badges', inA, 'mark_live'), 403, 'FORBIDDEN');
      assert.equal(await statusOf(inA), 'scheduled');
    });
  });
});
