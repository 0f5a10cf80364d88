import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EVENT_ROLES, type EventRole } from '../src/common/auth/event-role';
import { BadgeIssuer } from '../src/modules/participants/badge-issuer';
import {
  assign,
  bearer,
  createMember,
  createRoom,
  createSession,
  createUser,
  createWorld,
  openSession,
  type World,
} from './helpers/factories';
import { expectError, expectValidation } from './helpers/assertions';
import { bootTestApp, type TestApp } from './helpers/test-app';

const STATISTICS_KEYS = [
  'total_rooms',
  'total_sessions',
  'total_participants',
  'checked_in_count',
  'live_sessions',
  'completed_sessions',
  'current_occupancy',
  'scans_today',
  'denied_today',
].sort();
const DASHBOARD_SECTIONS: Record<EventRole, string[]> = {
  organisateur: ['role', 'event', 'statistics', 'rooms'],
  gestionnaire_des_salles: ['role', 'event', 'statistics', 'rooms'],
  controlleur_des_badges: ['role', 'event', 'rooms', 'my_scans'],
  participant: ['role', 'event', 'badge', 'my_ateliers', 'upcoming_sessions'],
  exposant: ['role', 'event', 'badge', 'upcoming_sessions'],
};
const ROOM_KEYS = ['id', 'name', 'current_participants', 'capacity', 'occupancy_percentage', 'is_active'].sort();
const UPCOMING_KEYS = ['id', 'title', 'start_time', 'end_time', 'room_name', 'status'].sort();
const BADGE_KEYS = ['id', 'badge_id', 'is_checked_in', 'checked_in_at'].sort();
const STAT_ROLES: EventRole[] = ['organisateur', 'gestionnaire_des_salles'];
const OTHER_ROLES = EVENT_ROLES.filter((r) => !STAT_ROLES.includes(r));
const UNKNOWN_ID = '6f1c1c2e-1111-4111-8111-111111111111';
const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const MIN = 60_000;
const HOUR = 60 * MIN;

type Body = Record<string, unknown>;

describe('stats', () => {
  let t: TestApp;

  const setOccupancy = (roomId: string, current: number) =>
    t.db.query('UPDATE rooms SET current_participants = $2 WHERE id = $1', [roomId, current]);
  const checkIn = (participantId: string) =>
    t.db.query('UPDATE participants SET is_checked_in = true, checked_in_at = now() WHERE id = $1', [participantId]);
  const statistics = async (token: string, eventId: string): Promise<Body> => {
    const res = await t.http.get(`/api/events/${eventId}/statistics/`).set(bearer(token)).expect(200);
    assert.deepEqual(Object.keys(res.body).sort(), STATISTICS_KEYS);
    for (const key of STATISTICS_KEYS) assert.ok(Number.isInteger(res.body[key]), `${key} is an integer`);
    return res.body as Body;
  };
  const dashboard = async (token: string): Promise<Body> => {
    const res = await t.http.get('/api/dashboard/stats/').set(bearer(token)).expect(200);
    return res.body as Body;
  };

  /**
   * An event with known figures: 3 rooms (occupancy 4 + 7 + 0), 5 sessions (2 live, 1 completed, 1 scheduled,
   * 1 cancelled), 4 active participants (one without a badge), 3 badges checked in (2 participants, 1 exposant).
   * An inactive participant, exhibitors and staff are not participants.
   */
  const populated = async (): Promise<World & { rooms: string[] }> => {
    const w = await createWorld(t);
    const e = w.event.id;
    const rooms = [
      await createRoom(t, e, { name: 'B room', capacity: 10 }),
      await createRoom(t, e, { name: 'A room', capacity: 20 }),
      await createRoom(t, e, { name: 'C room', capacity: 5, isActive: false }),
    ] as [string, string, string];
    await setOccupancy(rooms[0], 4);
    await setOccupancy(rooms[1], 7);
    const now = Date.now();
    await createSession(t, e, rooms[0], { start: new Date(now - HOUR), end: new Date(now + HOUR), status: 'live' });
    await createSession(t, e, rooms[0], {
      start: new Date(now - 3 * HOUR),
      end: new Date(now - 2 * HOUR),
      status: 'completed',
    });
    await createSession(t, e, rooms[1], { start: new Date(now + HOUR), status: 'scheduled' });
    await createSession(t, e, rooms[1], { start: new Date(now + 3 * HOUR), status: 'cancelled' });
    await createSession(t, e, rooms[2], { start: new Date(now - 10 * MIN), type: 'atelier', status: 'live' });
    const first = await createMember(t, e, 'participant');
    const second = await createMember(t, e, 'participant');
    await createMember(t, e, 'participant');
    const exhibitor = await createMember(t, e, 'exposant');
    const inactive = await createUser(t);
    await assign(t, e, inactive.id, 'participant', false);
    for (const m of [first, second, exhibitor]) await checkIn(m.participant.id);
    return { ...w, rooms };
  };

  /** Another event full of data that must never show in the first one's figures. */
  const noise = async (): Promise<World> => {
    const other = await createWorld(t);
    const room = await createRoom(t, other.event.id, { name: 'A noisy room', capacity: 500 });
    await setOccupancy(room, 321);
    const now = Date.now();
    await createSession(t, other.event.id, room, {
      start: new Date(now - HOUR),
      end: new Date(now + HOUR),
      status: 'live',
    });
    await createSession(t, other.event.id, room, {
      start: new Date(now - 3 * HOUR),
      end: new Date(now - 2 * HOUR),
      status: 'completed',
    });
    const next = await createRoom(t, other.event.id, { name: 'B noisy room', capacity: 50 });
    await createSession(t, other.event.id, next, { start: new Date(now + 30 * MIN), title: 'Noise' });
    for (let i = 0; i < 3; i++) await checkIn((await createMember(t, other.event.id)).participant.id);
    return other;
  };

  before(async () => {
    t = await bootTestApp();
  });
  after(() => t.close());

  describe('GET /api/events/{id}/statistics/', () => {
    let w: World & { rooms: string[] };
    let other: World;
    const expected = {
      total_rooms: 3,
      total_sessions: 5,
      total_participants: 4,
      checked_in_count: 3,
      live_sessions: 2,
      completed_sessions: 1,
      current_occupancy: 11,
      scans_today: 0,
      denied_today: 0,
    };
    before(async () => {
      w = await populated();
      other = await noise();
    });

    for (const role of STAT_ROLES) {
      it(`${role}: exactly the documented keys, with the figures of this event only`, async () => {
        assert.deepEqual(await statistics(w.tokens[role], w.event.id), expected);
        const noSlash = await t.http
          .get(`/api/events/${w.event.id}/statistics`)
          .set(bearer(w.tokens[role]))
          .expect(200);
        assert.deepEqual(noSlash.body, expected);
        const upper = await t.http
          .get(`/api/events/${w.event.id.toUpperCase()}/statistics/`)
          .set(bearer(w.tokens[role]))
          .expect(200);
        assert.deepEqual(upper.body, expected);
      });
    }

    it('agrees with the event object’s own counters', async () => {
      const event = await t.http.get(`/api/events/${w.event.id}/`).set(bearer(w.tokens.organisateur)).expect(200);
      assert.equal(event.body.total_participants, expected.total_participants);
      assert.equal(event.body.total_rooms, expected.total_rooms);
    });

    it('the other event sees its own figures, not these', async () => {
      assert.deepEqual(await statistics(other.tokens.organisateur, other.event.id), {
        total_rooms: 2,
        total_sessions: 3,
        total_participants: 4,
        checked_in_count: 3,
        live_sessions: 1,
        completed_sessions: 1,
        current_occupancy: 321,
        scans_today: 0,
        denied_today: 0,
      });
    });

    it('an empty event: every figure is 0', async () => {
      const empty = await createWorld(t);
      const body = await statistics(empty.tokens.organisateur, empty.event.id);
      // createWorld's participant is a member with the participant role.
      assert.deepEqual(body, Object.fromEntries(STATISTICS_KEYS.map((k) => [k, k === 'total_participants' ? 1 : 0])));
    });

    it('figures follow the data: a check-in, a session going live then completed, occupancy, a room', async () => {
      const fresh = await populated();
      const token = fresh.tokens.organisateur;
      const base = await statistics(token, fresh.event.id);
      await checkIn((await createMember(t, fresh.event.id)).participant.id);
      await setOccupancy(fresh.rooms[2] as string, 5);
      const sessionId = await createSession(t, fresh.event.id, await createRoom(t, fresh.event.id, { capacity: 9 }));
      await t.http.post(`/api/sessions/${sessionId}/mark_live/`).set(bearer(token)).expect(200);
      assert.deepEqual(await statistics(token, fresh.event.id), {
        ...base,
        total_rooms: 4,
        total_sessions: 6,
        total_participants: 5,
        checked_in_count: 4,
        live_sessions: 3,
        current_occupancy: 16,
      });
      await t.http.post(`/api/sessions/${sessionId}/mark_completed/`).set(bearer(token)).expect(200);
      const after = await statistics(token, fresh.event.id);
      assert.equal(after.live_sessions, 2);
      assert.equal(after.completed_sessions, 2);
      // A participant who leaves takes their check-in and their membership with them.
      const leaving = await createMember(t, fresh.event.id);
      await checkIn(leaving.participant.id);
      const withLeaving = await statistics(token, fresh.event.id);
      await t.http.delete(`/api/participants/${leaving.participant.id}/`).set(bearer(token)).expect(204);
      const gone = await statistics(token, fresh.event.id);
      assert.equal(gone.total_participants, (withLeaving.total_participants as number) - 1);
      assert.equal(gone.checked_in_count, (withLeaving.checked_in_count as number) - 1);
    });

    it('another event’s id is a 404, even for its own organisateur; unknown 404; malformed 400', async () => {
      // The caller organises both events, yet the token is for `w`: the route acts in the token's event only.
      const user = await createUser(t);
      await assign(t, w.event.id, user.id, 'organisateur');
      await assign(t, other.event.id, user.id, 'organisateur');
      const token = (await openSession(t, user.id, w.event.id)).access;
      assert.deepEqual(await statistics(token, w.event.id), expected);
      const res = await t.http.get(`/api/events/${other.event.id}/statistics/`).set(bearer(token));
      expectError(res, 404, 'NOT_FOUND');
      // As a number: the body's request id (hex) may contain the digits 321.
      assert.ok(!/\b321\b/.test(res.text), 'no figure of the other event');
      expectError(
        await t.http.get(`/api/events/${other.event.id}/statistics/`).set(bearer(w.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
      expectError(
        await t.http.get(`/api/events/${UNKNOWN_ID}/statistics/`).set(bearer(w.tokens.gestionnaire_des_salles)),
        404,
        'NOT_FOUND',
      );
      expectValidation(await t.http.get('/api/events/42/statistics/').set(bearer(w.tokens.organisateur)), 'id');
    });

    for (const role of OTHER_ROLES) {
      it(`${role}: 403 FORBIDDEN, no figure leaks`, async () => {
        const res = await t.http.get(`/api/events/${w.event.id}/statistics/`).set(bearer(w.tokens[role]));
        expectError(res, 403, 'FORBIDDEN');
        for (const key of STATISTICS_KEYS) assert.ok(!res.text.includes(key), key);
      });
    }

    it('without a token: 401', async () => {
      expectError(await t.http.get(`/api/events/${w.event.id}/statistics/`), 401, 'AUTH_REQUIRED');
    });
  });

  describe('GET /api/dashboard/stats/', () => {
    let w: World & { rooms: string[] };
    let other: World;
    let upcoming: string[];
    let dRoom: string;
    before(async () => {
      w = await populated();
      other = await noise();
      // Sessions of this event around now (in a room of their own): past and cancelled ones are not upcoming.
      const room = await createRoom(t, w.event.id, { name: 'D room', capacity: 30 });
      dRoom = room;
      const now = Date.now();
      const at = (minutes: number) => new Date(now + minutes * MIN);
      await createSession(t, w.event.id, room, { start: at(-300), end: at(-240), status: 'scheduled', title: 'Past' });
      await createSession(t, w.event.id, room, { start: at(5), end: at(10), status: 'cancelled', title: 'Cancelled' });
      upcoming = [
        // The populated() sessions: live since an hour (room B), live since 10 minutes (room C), scheduled in 1 h.
        ...(
          (await t.db.query(
            `SELECT id FROM sessions WHERE event_id = $1 AND status IN ('live', 'scheduled') AND end_time > now()
            ORDER BY start_time`,
            [w.event.id],
          )) as { id: string }[]
        ).map((r) => r.id),
      ];
      await createSession(t, w.event.id, room, { start: at(240), end: at(300), title: 'Much later' });
      assert.equal(upcoming.length, 3);
    });

    const assertEvent = (body: Body) => {
      assert.deepEqual(body.event, {
        id: w.event.id,
        name: w.event.name,
        status: 'active',
        start_date: w.event.startDate.toISOString(),
        end_date: w.event.endDate.toISOString(),
      });
    };

    const assertRooms = async (body: Body) => {
      const rooms = body.rooms as Body[];
      for (const room of rooms) assert.deepEqual(Object.keys(room).sort(), ROOM_KEYS);
      assert.deepEqual(
        rooms.map((r) => [r.name, r.current_participants, r.capacity, r.occupancy_percentage, r.is_active]),
        [
          ['A room', 7, 20, 35, true],
          ['B room', 4, 10, 40, true],
          ['C room', 0, 5, 0, false],
          ['D room', 0, 30, 0, true],
        ],
      );
      assert.deepEqual(
        rooms.map((r) => r.id),
        [w.rooms[1], w.rooms[0], w.rooms[2], dRoom],
      );
    };

    for (const role of ['organisateur', 'gestionnaire_des_salles'] as const) {
      it(`${role}: role, event, statistics (as the statistics route) and every room; nothing else`, async () => {
        const body = await dashboard(w.tokens[role]);
        assert.deepEqual(Object.keys(body).sort(), [...DASHBOARD_SECTIONS[role]].sort());
        assert.equal(body.role, role);
        assertEvent(body);
        assert.deepEqual(body.statistics, await statistics(w.tokens.organisateur, w.event.id));
        assert.deepEqual(body.statistics, {
          total_rooms: 4,
          total_sessions: 8,
          total_participants: 4,
          checked_in_count: 3,
          live_sessions: 2,
          completed_sessions: 1,
          current_occupancy: 11,
          scans_today: 0,
          denied_today: 0,
        });
        await assertRooms(body);
      });
    }

    it('controlleur_des_badges: role, event, every room and its own scans; no statistics, badge or sessions', async () => {
      const body = await dashboard(w.tokens.controlleur_des_badges);
      assert.deepEqual(Object.keys(body).sort(), [...DASHBOARD_SECTIONS.controlleur_des_badges].sort());
      assert.equal(body.role, 'controlleur_des_badges');
      assertEvent(body);
      await assertRooms(body);
      assert.deepEqual(body.my_scans, { scans_today: 0, granted_today: 0, denied_today: 0 });
    });

    it('participant: own badge, own accessible ateliers and the next three sessions; no staff section', async () => {
      const me = await createMember(t, w.event.id, 'participant');
      const someone = await createMember(t, w.event.id, 'participant');
      const org = bearer(w.tokens.organisateur);
      const ateliers: string[] = [];
      for (let i = 0; i < 5; i++) {
        const room = await createRoom(t, w.event.id, { capacity: 10 });
        ateliers.push(
          await createSession(t, w.event.id, room, { type: 'atelier', start: new Date(Date.now() + (10 + i) * HOUR) }),
        );
      }
      const grants: [string, string, string][] = [
        [me.participant.id, ateliers[0] as string, 'paid'],
        [me.participant.id, ateliers[1] as string, 'free'],
        [me.participant.id, ateliers[2] as string, 'pending'],
        [me.participant.id, ateliers[3] as string, 'refunded'],
        [someone.participant.id, ateliers[4] as string, 'paid'],
      ];
      for (const [participant, session, status] of grants) {
        await t.http
          .post('/api/session-access/')
          .set(org)
          .send({ participant_id: participant, session_id: session, payment_status: status })
          .expect(201);
      }
      // The same user with a paid atelier in the other event: not counted here.
      await assign(t, other.event.id, me.user.id, 'participant');
      await t.app.get(BadgeIssuer, { strict: false }).ensure(t.db.manager, other.event.id, [me.user.id]);
      const elsewhere: { id: string }[] = await t.db.query(
        'SELECT id FROM participants WHERE event_id = $1 AND user_id = $2',
        [other.event.id, me.user.id],
      );
      const farRoom = await createRoom(t, other.event.id);
      const farAtelier = await createSession(t, other.event.id, farRoom, {
        type: 'atelier',
        start: new Date(Date.now() + 20 * HOUR),
      });
      await t.http
        .post('/api/session-access/')
        .set(bearer(other.tokens.organisateur))
        .send({ participant_id: elsewhere[0]?.id, session_id: farAtelier, payment_status: 'paid' })
        .expect(201);

      const body = await dashboard(me.token);
      assert.deepEqual(Object.keys(body).sort(), [...DASHBOARD_SECTIONS.participant].sort());
      assert.equal(body.role, 'participant');
      assertEvent(body);
      assert.deepEqual(body.badge, {
        id: me.participant.id,
        badge_id: me.participant.badgeId,
        is_checked_in: false,
        checked_in_at: null,
      });
      assert.equal(body.my_ateliers, 2);
      const sessions = body.upcoming_sessions as Body[];
      for (const s of sessions) {
        assert.deepEqual(Object.keys(s).sort(), UPCOMING_KEYS);
        assert.match(String(s.start_time), ISO_Z);
        assert.match(String(s.end_time), ISO_Z);
      }
      assert.deepEqual(
        sessions.map((s) => s.id),
        upcoming,
      );
      assert.deepEqual(
        sessions.map((s) => [s.room_name, s.status]),
        [
          ['B room', 'live'],
          ['C room', 'live'],
          ['A room', 'scheduled'],
        ],
      );

      // Checked in: the badge says so and when.
      await checkIn(me.participant.id);
      const rows: { checked_in_at: Date }[] = await t.db.query('SELECT checked_in_at FROM participants WHERE id = $1', [
        me.participant.id,
      ]);
      const checked = await dashboard(me.token);
      assert.deepEqual(checked.badge, {
        id: me.participant.id,
        badge_id: me.participant.badgeId,
        is_checked_in: true,
        checked_in_at: rows[0]?.checked_in_at.toISOString(),
      });
      // A refund and a grant move the count.
      const paidRow: { id: string }[] = await t.db.query(
        'SELECT id FROM session_access WHERE participant_id = $1 AND session_id = $2',
        [me.participant.id, ateliers[0]],
      );
      await t.http
        .patch(`/api/session-access/${paidRow[0]?.id}/`)
        .set(org)
        .send({ payment_status: 'refunded' })
        .expect(200);
      assert.equal((await dashboard(me.token)).my_ateliers, 1);
    });

    it('participant of the other event: its own badge and sessions, nothing of this event', async () => {
      const m = await createMember(t, other.event.id, 'participant');
      const body = await dashboard(m.token);
      assert.equal((body.badge as Body).id, m.participant.id);
      assert.equal(body.my_ateliers, 0);
      const sessions = body.upcoming_sessions as Body[];
      assert.deepEqual(
        sessions.slice(0, 2).map((s) => [s.room_name, s.status, s.title]),
        [
          ['A noisy room', 'live', sessions[0]?.title],
          ['B noisy room', 'scheduled', 'Noise'],
        ],
      );
      const own: { id: string }[] = await t.db.query('SELECT id FROM sessions WHERE event_id = $1', [other.event.id]);
      for (const s of sessions)
        assert.ok(
          own.some((o) => o.id === s.id),
          'only sessions of the token’s event',
        );
      assert.equal((body.event as Body).id, other.event.id);
    });

    it('participant without a badge: badge null, no ateliers', async () => {
      const body = await dashboard(w.tokens.participant);
      assert.deepEqual(Object.keys(body).sort(), [...DASHBOARD_SECTIONS.participant].sort());
      assert.equal(body.badge, null);
      assert.equal(body.my_ateliers, 0);
    });

    it('exposant: own badge and the next three sessions; no ateliers, no staff section', async () => {
      const m = await createMember(t, w.event.id, 'exposant');
      await checkIn(m.participant.id);
      const body = await dashboard(m.token);
      assert.deepEqual(Object.keys(body).sort(), [...DASHBOARD_SECTIONS.exposant].sort());
      assert.equal(body.role, 'exposant');
      assertEvent(body);
      assert.deepEqual(Object.keys(body.badge as Body).sort(), BADGE_KEYS);
      assert.equal((body.badge as Body).id, m.participant.id);
      assert.equal((body.badge as Body).is_checked_in, true);
      assert.match(String((body.badge as Body).checked_in_at), ISO_Z);
      assert.deepEqual(
        (body.upcoming_sessions as Body[]).map((s) => s.id),
        upcoming,
      );
    });

    it('a staff member with a badge still gets the staff sections only', async () => {
      const staff = await createMember(t, w.event.id, 'gestionnaire_des_salles');
      const body = await dashboard(staff.token);
      assert.deepEqual(Object.keys(body).sort(), [...DASHBOARD_SECTIONS.gestionnaire_des_salles].sort());
    });

    it('the dashboard follows the event of the token and the event status', async () => {
      const upcomingEvent = await createWorld(t, {
        startDate: new Date(Date.now() + 24 * HOUR),
        endDate: new Date(Date.now() + 48 * HOUR),
      });
      const body = await dashboard(upcomingEvent.tokens.organisateur);
      assert.equal((body.event as Body).status, 'upcoming');
      assert.deepEqual(body.rooms, []);
      const cancelled = await createWorld(t, { isCancelled: true });
      assert.equal(((await dashboard(cancelled.tokens.exposant)).event as Body).status, 'cancelled');
    });

    it('without a token: 401; with a token without an event: 403', async () => {
      expectError(await t.http.get('/api/dashboard/stats/'), 401, 'AUTH_REQUIRED');
      const user = await createUser(t);
      const token = (await openSession(t, user.id, null)).access;
      expectError(await t.http.get('/api/dashboard/stats/').set(bearer(token)), 403, 'EVENT_REQUIRED');
    });
  });
});
