import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Test } from 'supertest';
import { EVENT_ROLES } from '../src/common/auth/event-role';
import type { Event } from '../src/modules/events/entities/event.entity';
import { bearer, countRows, createEvent, createUser, createWorld, openSession, uniq } from './helpers/factories';
import { expectError, expectValidation } from './helpers/assertions';
import { fire, tally } from './helpers/requests';
import { bootTestApp, type TestApp } from './helpers/test-app';

const UNKNOWN_ID = '6f1c1c2e-1111-4111-8111-111111111111';
const LIST_KEYS = ['created_at', 'email', 'id', 'position', 'status', 'updated_at', 'user', 'user_name'];
const NON_ORGANIZER_ROLES = EVENT_ROLES.filter((r) => r !== 'organisateur');

interface Registrant {
  id: string;
  token: string;
}

describe('registrations', () => {
  let t: TestApp;

  const openEvent = (capacity: number | null, opts: Partial<Event> = {}): Promise<Event> =>
    createEvent(t, { registrationOpen: true, capacity, ...opts });

  /** A logged-in user without any event (a token with no selected event). */
  const stranger = async (): Promise<Registrant> => {
    const user = await createUser(t);
    return { id: user.id, token: (await openSession(t, user.id, null)).access };
  };

  /** `n` users written in bulk, each with a token without event (the concurrency tests need hundreds). */
  const strangers = async (n: number): Promise<Registrant[]> => {
    const users: { id: string }[] = await t.db.query(
      `INSERT INTO users (email, first_name, last_name)
       SELECT $1 || '-' || i || '@example.test', 'Bulk', 'R' || i FROM generate_series(1, $2::int) AS i RETURNING id`,
      [uniq('reg'), n],
    );
    return Promise.all(users.map(async (u) => ({ id: u.id, token: (await openSession(t, u.id, null)).access })));
  };

  const register = (token: string, eventId: string): Test =>
    t.http.post(`/api/events/${eventId}/register/`).set(bearer(token));
  const cancel = (token: string, eventId: string): Test =>
    t.http.delete(`/api/events/${eventId}/register/`).set(bearer(token));
  const own = (token: string, eventId: string): Test =>
    t.http.get(`/api/events/${eventId}/registration/`).set(bearer(token));

  const registered = async (who: Registrant, eventId: string, status = 201): Promise<Record<string, unknown>> => {
    const res = await register(who.token, eventId);
    assert.equal(res.status, status, res.text);
    assert.deepEqual(Object.keys(res.body as object).sort(), ['position', 'status']);
    return res.body as Record<string, unknown>;
  };

  const roleOf = async (eventId: string, userId: string): Promise<string | null> => {
    const rows: { role: string }[] = await t.db.query(
      'SELECT role FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
      [eventId, userId],
    );
    return rows[0]?.role ?? null;
  };
  const hasBadge = async (eventId: string, userId: string): Promise<boolean> =>
    (await countRows(t, 'participants', 'event_id = $1 AND user_id = $2', [eventId, userId])) === 1;

  /** registered_count equals the confirmed rows and never exceeds capacity; returns it. */
  const assertSeats = async (eventId: string, expected: number): Promise<void> => {
    const rows: { registered_count: number; capacity: number | null }[] = await t.db.query(
      'SELECT registered_count, capacity FROM events WHERE id = $1',
      [eventId],
    );
    const event = rows[0] as { registered_count: number; capacity: number | null };
    assert.equal(event.registered_count, expected, 'events.registered_count');
    assert.equal(
      await countRows(t, 'event_registrations', "event_id = $1 AND status = 'confirmed'", [eventId]),
      expected,
      'confirmed rows',
    );
    if (event.capacity !== null) assert.ok(event.registered_count <= event.capacity);
  };

  /** Every registration, membership and badge of the event, for "nothing changed" assertions. */
  const snapshot = async (eventId: string): Promise<unknown> => {
    const rows: { snap: unknown }[] = await t.db.query(
      `SELECT jsonb_build_object(
         'registrations', (SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.id), '[]') FROM event_registrations r WHERE r.event_id = $1),
         'assignments', (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.id), '[]') FROM user_event_assignments a WHERE a.event_id = $1),
         'badges', (SELECT coalesce(jsonb_agg(p.id ORDER BY p.id), '[]') FROM participants p WHERE p.event_id = $1),
         'event', (SELECT to_jsonb(e) - 'registration_seq' FROM events e WHERE e.id = $1)
       ) AS snap`,
      [eventId],
    );
    return rows[0]?.snap;
  };

  before(async () => {
    t = await bootTestApp();
  });
  after(() => t.close());

  describe('any authenticated user', () => {
    it('POST: 201 confirmed with a participant role and a badge; GET registration; twice → 200 the same', async () => {
      const event = await openEvent(10);
      const u = await stranger();
      assert.deepEqual(await registered(u, event.id), { status: 'confirmed', position: null });
      assert.equal(await roleOf(event.id, u.id), 'participant');
      assert.ok(await hasBadge(event.id, u.id), 'a badge issued with the seat');
      await assertSeats(event.id, 1);
      assert.deepEqual((await own(u.token, event.id).expect(200)).body, { status: 'confirmed', position: null });
      const before = await snapshot(event.id);
      assert.deepEqual(await registered(u, event.id, 200), { status: 'confirmed', position: null });
      // without trailing slash: the same route
      const again = await t.http.post(`/api/events/${event.id}/register`).set(bearer(u.token));
      assert.equal(again.status, 200, again.text);
      assert.deepEqual(await snapshot(event.id), before);
    });

    it('a token scoped to another event registers too (the route takes the event from the path)', async () => {
      const other = await createWorld(t);
      const event = await openEvent(5);
      const u = { id: other.users.organisateur.id, token: other.tokens.organisateur };
      assert.deepEqual(await registered(u, event.id), { status: 'confirmed', position: null });
      assert.equal(await roleOf(event.id, u.id), 'participant');
      assert.equal(await roleOf(other.event.id, u.id), 'organisateur', 'the other membership is untouched');
    });

    it('capacity null is unlimited', async () => {
      const event = await openEvent(null);
      for (const u of await strangers(5)) {
        assert.deepEqual(await registered(u, event.id), { status: 'confirmed', position: null });
      }
      await assertSeats(event.id, 5);
    });

    it('closed, cancelled or ended events: 409 REGISTRATION_CLOSED, nothing written', async () => {
      const hour = 3_600_000;
      for (const event of [
        await createEvent(t, { capacity: 10 }),
        await openEvent(10, { isCancelled: true }),
        await openEvent(10, { startDate: new Date(Date.now() - 3 * hour), endDate: new Date(Date.now() - hour) }),
      ]) {
        const u = await stranger();
        const before = await snapshot(event.id);
        expectError(await register(u.token, event.id), 409, 'REGISTRATION_CLOSED');
        assert.deepEqual(await snapshot(event.id), before);
      }
    });

    it('an already registered user gets 200 the same answer after registration closed', async () => {
      const event = await openEvent(1);
      const [a, b] = await strangers(2);
      await registered(a as Registrant, event.id);
      assert.deepEqual(await registered(b as Registrant, event.id), { status: 'waitlisted', position: 1 });
      await t.db.query('UPDATE events SET registration_open = false WHERE id = $1', [event.id]);
      assert.deepEqual(await registered(b as Registrant, event.id, 200), { status: 'waitlisted', position: 1 });
    });

    for (const role of EVENT_ROLES) {
      it(`a member with a role (${role}): 409 ALREADY_MEMBER, role kept, nothing written`, async () => {
        const w = await createWorld(t, { registrationOpen: true, capacity: 10 });
        const before = await snapshot(w.event.id);
        expectError(await register(w.tokens[role], w.event.id), 409, 'ALREADY_MEMBER');
        assert.deepEqual(await snapshot(w.event.id), before);
        assert.equal(await roleOf(w.event.id, w.users[role].id), role);
      });
    }
  });

  describe('waiting list and cancellation', () => {
    it('full → waitlisted with positions; cancelling promotes the first waitlisted (role and badge)', async () => {
      const event = await openEvent(1);
      const [a, b, c, d] = (await strangers(4)) as [Registrant, Registrant, Registrant, Registrant];
      assert.deepEqual(await registered(a, event.id), { status: 'confirmed', position: null });
      assert.deepEqual(await registered(b, event.id), { status: 'waitlisted', position: 1 });
      assert.deepEqual(await registered(c, event.id), { status: 'waitlisted', position: 2 });
      assert.deepEqual(await registered(d, event.id), { status: 'waitlisted', position: 3 });
      assert.equal(await roleOf(event.id, b.id), null, 'no role while waitlisted');
      assert.equal(await hasBadge(event.id, b.id), false);

      // A waitlisted cancellation moves the ones behind up; the seat is not touched.
      await cancel(b.token, event.id).expect(204);
      expectError(await own(b.token, event.id), 404, 'NOT_FOUND');
      assert.deepEqual((await own(c.token, event.id).expect(200)).body, { status: 'waitlisted', position: 1 });
      assert.deepEqual((await own(d.token, event.id).expect(200)).body, { status: 'waitlisted', position: 2 });
      await assertSeats(event.id, 1);

      // The confirmed one cancels: c (first of the list) gets the seat, a participant role and a badge.
      await cancel(a.token, event.id).expect(204);
      assert.deepEqual((await own(c.token, event.id).expect(200)).body, { status: 'confirmed', position: null });
      assert.equal(await roleOf(event.id, c.id), 'participant');
      assert.ok(await hasBadge(event.id, c.id));
      assert.equal(await roleOf(event.id, a.id), null, "the canceller's participant role is removed");
      assert.equal(await hasBadge(event.id, a.id), false, 'with its badge');
      assert.deepEqual((await own(d.token, event.id).expect(200)).body, { status: 'waitlisted', position: 1 });
      await assertSeats(event.id, 1);

      // Cancelling twice: 404; registering again goes to the back of the list.
      expectError(await cancel(a.token, event.id), 404, 'NOT_FOUND');
      assert.deepEqual(await registered(a, event.id), { status: 'waitlisted', position: 2 });
      assert.equal(await countRows(t, 'event_registrations', 'event_id = $1', [event.id]), 4);
    });

    it("the canceller's token for the event stops working at once (401 MEMBERSHIP_REVOKED)", async () => {
      const event = await openEvent(3);
      const u = await stranger();
      await registered(u, event.id);
      const scoped = (await openSession(t, u.id, event.id)).access;
      await t.http.get(`/api/events/${event.id}/`).set(bearer(scoped)).expect(200);
      await cancel(u.token, event.id).expect(204);
      expectError(await t.http.get(`/api/events/${event.id}/`).set(bearer(scoped)), 401, 'MEMBERSHIP_REVOKED');
    });

    it('the last confirmed cancelling with nobody waiting gives the seat back', async () => {
      const event = await openEvent(2);
      const [a, b] = (await strangers(2)) as [Registrant, Registrant];
      await registered(a, event.id);
      await cancel(a.token, event.id).expect(204);
      await assertSeats(event.id, 0);
      await registered(b, event.id);
      await registered(a, event.id);
      await assertSeats(event.id, 2);
    });

    it('a role changed since by an organisateur is kept when cancelling', async () => {
      const event = await openEvent(1);
      const [a, b] = (await strangers(2)) as [Registrant, Registrant];
      await registered(a, event.id);
      await registered(b, event.id);
      await t.db.query("UPDATE user_event_assignments SET role = 'organisateur' WHERE event_id = $1 AND user_id = $2", [
        event.id,
        a.id,
      ]);
      await cancel(a.token, event.id).expect(204);
      assert.equal(await roleOf(event.id, a.id), 'organisateur');
      assert.equal(await roleOf(event.id, b.id), 'participant', 'the seat still goes to the first waitlisted');
      await assertSeats(event.id, 1);
    });

    it('PATCH of the event: a capacity below the confirmed is a 409; other changes keep the count', async () => {
      const w = await createWorld(t, { registrationOpen: true, capacity: 5 });
      for (const p of await strangers(3)) await registered(p, w.event.id);
      const patch = (body: Record<string, unknown>): Test =>
        t.http.patch(`/api/events/${w.event.id}/`).set(bearer(w.tokens.organisateur)).send(body);
      expectError(await patch({ capacity: 2 }), 409, 'EVENT_CAPACITY_BELOW_REGISTRATIONS');
      const renamed = await patch({ name: uniq('Renamed ') });
      assert.equal(renamed.status, 200, renamed.text);
      assert.equal((await patch({ capacity: 3 })).status, 200);
      await assertSeats(w.event.id, 3);
      assert.deepEqual(await registered(await stranger(), w.event.id), { status: 'waitlisted', position: 1 });
    });

    it('raising the capacity (or removing it) confirms the waiting list in order, with roles and badges', async () => {
      const w = await createWorld(t, { registrationOpen: true, capacity: 1 });
      const people = await strangers(5);
      for (const p of people) await registered(p, w.event.id);
      const [, b, c, d, e] = people as [Registrant, Registrant, Registrant, Registrant, Registrant];
      const patch = (body: Record<string, unknown>): Test =>
        t.http.patch(`/api/events/${w.event.id}/`).set(bearer(w.tokens.organisateur)).send(body);

      assert.equal((await patch({ capacity: 3 })).status, 200);
      await assertSeats(w.event.id, 3);
      for (const p of [b, c]) {
        assert.deepEqual((await own(p.token, w.event.id).expect(200)).body, { status: 'confirmed', position: null });
        assert.equal(await roleOf(w.event.id, p.id), 'participant');
        assert.ok(await hasBadge(w.event.id, p.id));
      }
      assert.deepEqual((await own(d.token, w.event.id).expect(200)).body, { status: 'waitlisted', position: 1 });

      // Lowering to exactly the confirmed count moves nobody; no limit confirms everyone left.
      assert.equal((await patch({ capacity: 3 })).status, 200);
      await assertSeats(w.event.id, 3);
      assert.equal((await patch({ capacity: null })).status, 200);
      await assertSeats(w.event.id, 5);
      assert.equal(await roleOf(w.event.id, e.id), 'participant');
      assert.equal(
        await countRows(t, 'event_registrations', "event_id = $1 AND status = 'waitlisted'", [w.event.id]),
        0,
      );
    });

    it('parallel capacity raises and registrations never overbook and leave nobody waiting for a free seat', async () => {
      const w = await createWorld(t, { registrationOpen: true, capacity: 2 });
      const people = await strangers(30);
      const raises = [4, 8, 12, 16, 20].map((capacity) =>
        t.http.patch(`/api/events/${w.event.id}/`).set(bearer(w.tokens.organisateur)).send({ capacity }),
      );
      const results = await Promise.all([
        ...people.map((p) => fire(register(p.token, w.event.id))),
        ...raises.map(fire),
      ]);
      // A raise that lands after a larger one filled its seats is a lowering, refused as such.
      const refused = (r: (typeof results)[number]) =>
        r.status === 409 && (r.body as { code?: string }).code === 'EVENT_CAPACITY_BELOW_REGISTRATIONS';
      assert.deepEqual(
        results.filter((r) => r.status !== 200 && r.status !== 201 && !refused(r)).map((r) => `${r.status} ${r.text}`),
        [],
      );
      const [{ capacity }]: { capacity: number }[] = await t.db.query('SELECT capacity FROM events WHERE id = $1', [
        w.event.id,
      ]);
      const confirmed = await countRows(t, 'event_registrations', "event_id = $1 AND status = 'confirmed'", [
        w.event.id,
      ]);
      const waiting = await countRows(t, 'event_registrations', "event_id = $1 AND status = 'waitlisted'", [
        w.event.id,
      ]);
      assert.ok(confirmed <= capacity, `${confirmed} confirmed for ${capacity} seats`);
      assert.ok(waiting === 0 || confirmed === capacity, `${waiting} waiting while ${capacity - confirmed} seats free`);
      await assertSeats(w.event.id, confirmed);
    });

    it('an organisateur removing a registrant (user-assignments) ends the registration and promotes the next', async () => {
      const w = await createWorld(t, { registrationOpen: true, capacity: 1 });
      const [a, b] = (await strangers(2)) as [Registrant, Registrant];
      await registered(a, w.event.id);
      await registered(b, w.event.id);
      const [{ id }]: { id: string }[] = await t.db.query(
        'SELECT id FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
        [w.event.id, a.id],
      );
      await t.http.delete(`/api/user-assignments/${id}/`).set(bearer(w.tokens.organisateur)).expect(204);
      expectError(await own(a.token, w.event.id), 404, 'NOT_FOUND');
      assert.deepEqual((await own(b.token, w.event.id).expect(200)).body, { status: 'confirmed', position: null });
      assert.equal(await roleOf(w.event.id, b.id), 'participant');
      await assertSeats(w.event.id, 1);
      // A role change is not a removal: the registration and its seat stay.
      const [{ id: bId }]: { id: string }[] = await t.db.query(
        'SELECT id FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
        [w.event.id, b.id],
      );
      await t.http
        .patch(`/api/user-assignments/${bId}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ role: 'exposant' })
        .expect(200);
      assert.deepEqual((await own(b.token, w.event.id).expect(200)).body, { status: 'confirmed', position: null });
      await assertSeats(w.event.id, 1);
    });

    it('removals by an organisateur racing the same people cancelling: no deadlock, seats exact', async () => {
      const w = await createWorld(t, { registrationOpen: true, capacity: 20 });
      const people = await strangers(30);
      for (const p of people) await registered(p, w.event.id);
      const ids: { id: string; user_id: string }[] = await t.db.query(
        'SELECT id, user_id FROM user_event_assignments WHERE event_id = $1 AND user_id = ANY($2)',
        [w.event.id, people.map((p) => p.id)],
      );
      const results = await Promise.all(
        ids.flatMap(({ id, user_id }) => [
          fire(t.http.delete(`/api/user-assignments/${id}/`).set(bearer(w.tokens.organisateur))),
          fire(cancel(people.find((p) => p.id === user_id)?.token as string, w.event.id)),
        ]),
      );
      assert.deepEqual(
        results.filter((r) => r.status !== 204 && r.status !== 404).map((r) => `${r.status} ${r.text}`),
        [],
      );
      // The 20 seats went to the 10 people waiting; everyone who had one was removed or cancelled.
      await assertSeats(w.event.id, 10);
      assert.equal(
        await countRows(t, 'event_registrations', "event_id = $1 AND status = 'waitlisted'", [w.event.id]),
        0,
      );
    });

    it('not registered: DELETE and GET registration 404, nothing written', async () => {
      const event = await openEvent(3);
      const u = await stranger();
      const before = await snapshot(event.id);
      expectError(await cancel(u.token, event.id), 404, 'NOT_FOUND');
      expectError(await own(u.token, event.id), 404, 'NOT_FOUND');
      assert.deepEqual(await snapshot(event.id), before);
    });
  });

  describe('GET /{id}/registrations/', () => {
    it('organisateur: page envelope, confirmed then the waiting list in order, filter status, search', async () => {
      const w = await createWorld(t, { registrationOpen: true, capacity: 2 });
      const people = await strangers(5);
      for (const p of people) await registered(p, w.event.id);
      await cancel((people[4] as Registrant).token, w.event.id).expect(204);
      const token = w.tokens.organisateur;
      const all = await t.http.get(`/api/events/${w.event.id}/registrations/`).set(bearer(token)).expect(200);
      assert.equal(all.body.count, 5);
      assert.equal(all.body.next, null);
      const results = all.body.results as Record<string, unknown>[];
      for (const r of results) assert.deepEqual(Object.keys(r).sort(), LIST_KEYS);
      assert.deepEqual(
        results.map((r) => [r.user, r.status, r.position]),
        [
          [people[0]?.id, 'confirmed', null],
          [people[1]?.id, 'confirmed', null],
          [people[2]?.id, 'waitlisted', 1],
          [people[3]?.id, 'waitlisted', 2],
          [people[4]?.id, 'cancelled', null],
        ],
      );
      const waiting = await t.http
        .get(`/api/events/${w.event.id}/registrations`)
        .query({ status: 'waitlisted', page_size: 1, page: 2 })
        .set(bearer(token))
        .expect(200);
      assert.equal(waiting.body.count, 2);
      assert.deepEqual(
        (waiting.body.results as Record<string, unknown>[]).map((r) => [r.user, r.position]),
        [[people[3]?.id, 2]],
      );
      const found = await t.http
        .get(`/api/events/${w.event.id}/registrations/`)
        .query({ search: 'R3@' })
        .set(bearer(token))
        .expect(200);
      assert.equal(found.body.count, 0, 'search matches email or name, literally');
      for (const query of [{ status: 'pending' }, { ordering: 'position' }, { page: 0 }]) {
        expectValidation(
          await t.http.get(`/api/events/${w.event.id}/registrations/`).query(query).set(bearer(token)),
          Object.keys(query)[0] as string,
        );
      }
    });

    for (const role of NON_ORGANIZER_ROLES) {
      it(`${role}: 403 FORBIDDEN`, async () => {
        const w = await createWorld(t, { registrationOpen: true, capacity: 2 });
        await registered(await stranger(), w.event.id);
        const res = await t.http.get(`/api/events/${w.event.id}/registrations/`).set(bearer(w.tokens[role]));
        expectError(res, 403, 'FORBIDDEN');
      });
    }

    it('a registrant with a token without event: 403, the list is for organisateurs only', async () => {
      const event = await openEvent(2);
      const u = await stranger();
      await registered(u, event.id);
      const res = await t.http.get(`/api/events/${event.id}/registrations/`).set(bearer(u.token));
      assert.equal(res.status, 403, res.text);
      assert.ok(!res.text.includes(u.id), 'a refusal leaks nothing');
    });

    it("organisateur of another event: 404, the token's event only", async () => {
      const w = await createWorld(t, { registrationOpen: true, capacity: 2 });
      const other = await createWorld(t);
      await registered(await stranger(), w.event.id);
      const res = await t.http.get(`/api/events/${w.event.id}/registrations/`).set(bearer(other.tokens.organisateur));
      expectError(res, 404, 'NOT_FOUND');
    });
  });

  describe('bad input', () => {
    it('malformed id: 400 on every route; unknown event: 404; no token: 401; nothing written', async () => {
      const u = await stranger();
      const w = await createWorld(t);
      const before = await countRows(t, 'event_registrations');
      for (const res of [
        await register(u.token, 'not-a-uuid'),
        await cancel(u.token, 'not-a-uuid'),
        await own(u.token, 'not-a-uuid'),
        await t.http.get('/api/events/not-a-uuid/registrations/').set(bearer(w.tokens.organisateur)),
      ]) {
        expectValidation(res, 'id');
      }
      for (const res of [
        await register(u.token, UNKNOWN_ID),
        await cancel(u.token, UNKNOWN_ID),
        await own(u.token, UNKNOWN_ID),
        await t.http.get(`/api/events/${UNKNOWN_ID}/registrations/`).set(bearer(w.tokens.organisateur)),
      ]) {
        expectError(res, 404, 'NOT_FOUND');
      }
      for (const res of [
        await t.http.post(`/api/events/${w.event.id}/register/`),
        await t.http.delete(`/api/events/${w.event.id}/register/`),
        await t.http.get(`/api/events/${w.event.id}/registration/`),
        await t.http.get(`/api/events/${w.event.id}/registrations/`),
      ]) {
        expectError(res, 401, 'AUTH_REQUIRED');
      }
      assert.equal(await countRows(t, 'event_registrations'), before);
    });
  });

  describe('concurrency', () => {
    const N = 200;
    const SEATS = 50;

    it(`${N} parallel registrations for ${SEATS} seats: exactly ${SEATS} confirmed, ${N - SEATS} waitlisted 1..${N - SEATS}`, async () => {
      const event = await openEvent(SEATS);
      const people = await strangers(N);
      const responses = await Promise.all(people.map((p) => fire(register(p.token, event.id))));
      assert.deepEqual(tally(responses), { 201: N });
      const confirmed = responses.filter((r) => r.body.status === 'confirmed');
      const waitlisted = responses.filter((r) => r.body.status === 'waitlisted');
      assert.equal(confirmed.length, SEATS);
      for (const r of confirmed) assert.equal(r.body.position, null);
      // A count-then-insert guard lets more than SEATS through (see the negative control below).
      const positions = waitlisted.map((r) => r.body.position as number).sort((a, b) => a - b);
      assert.deepEqual(
        positions,
        Array.from({ length: N - SEATS }, (_, i) => i + 1),
        'positions without gaps or duplicates',
      );
      await assertSeats(event.id, SEATS);
      assert.equal(
        await countRows(t, 'event_registrations', "event_id = $1 AND status = 'waitlisted'", [event.id]),
        N - SEATS,
      );
      assert.equal(
        await countRows(t, 'user_event_assignments', "event_id = $1 AND role = 'participant'", [event.id]),
        SEATS,
      );
      assert.equal(await countRows(t, 'participants', 'event_id = $1', [event.id]), SEATS);
      // Each person's position as stored matches what they were told.
      const byUser = new Map(people.map((p, i) => [p.id, responses[i]?.body as Record<string, unknown>]));
      const list = await t.db.query(
        `SELECT user_id, row_number() OVER (ORDER BY queue_number)::int AS position
           FROM event_registrations WHERE event_id = $1 AND status = 'waitlisted'`,
        [event.id],
      );
      for (const row of list as { user_id: string; position: number }[]) {
        assert.equal(byUser.get(row.user_id)?.position, row.position);
      }
    });

    it(`negative control: a naive count-then-insert run in parallel overbooks the ${SEATS} seats`, async () => {
      // The race done the way the engineering guide forbids: count the confirmed, then insert confirmed if below
      // capacity. It lets more than SEATS in, so the exact counts above are able to catch an overbooking service.
      const event = await openEvent(SEATS);
      const people = await strangers(N);
      await Promise.all(
        people.map(async (p, i) => {
          const runner = t.db.createQueryRunner();
          await runner.connect();
          try {
            await runner.startTransaction();
            const counted: { n: number }[] = await runner.query(
              "SELECT count(*)::int AS n FROM event_registrations WHERE event_id = $1 AND status = 'confirmed'",
              [event.id],
            );
            await runner.query('SELECT pg_sleep(0.01)');
            const status = (counted[0]?.n ?? 0) < SEATS ? 'confirmed' : 'waitlisted';
            await runner.query(
              'INSERT INTO event_registrations (event_id, user_id, status, queue_number) VALUES ($1, $2, $3, $4)',
              [event.id, p.id, status, i + 1],
            );
            await runner.commitTransaction();
          } finally {
            await runner.release();
          }
        }),
      );
      const confirmed = await countRows(t, 'event_registrations', "event_id = $1 AND status = 'confirmed'", [event.id]);
      assert.ok(confirmed > SEATS, `the naive guard overbooks: ${confirmed} confirmed for ${SEATS} seats`);
    });

    it('parallel cancellations of every confirmed seat promote distinct people, in order, never above capacity', async () => {
      const seats = 20;
      const event = await openEvent(seats);
      const people = await strangers(60);
      // Sequential, so that the waiting list order is known: people[20] is first.
      for (const p of people) await registered(p, event.id);
      const first = people.slice(0, seats);
      const responses = await Promise.all(first.map((p) => fire(cancel(p.token, event.id))));
      assert.deepEqual(tally(responses), { 204: seats });
      await assertSeats(event.id, seats);
      const confirmed: { user_id: string }[] = await t.db.query(
        "SELECT user_id FROM event_registrations WHERE event_id = $1 AND status = 'confirmed'",
        [event.id],
      );
      assert.deepEqual(
        new Set(confirmed.map((r) => r.user_id)),
        new Set(people.slice(seats, 2 * seats).map((p) => p.id)),
        'the first 20 of the waiting list, each once',
      );
      for (const p of people.slice(seats, 2 * seats)) {
        assert.equal(await roleOf(event.id, p.id), 'participant');
        assert.ok(await hasBadge(event.id, p.id));
      }
      for (const p of first) assert.equal(await roleOf(event.id, p.id), null);
      assert.equal(await countRows(t, 'participants', 'event_id = $1', [event.id]), seats);
      assert.equal(
        await countRows(t, 'event_registrations', "event_id = $1 AND status = 'waitlisted'", [event.id]),
        60 - 2 * seats,
      );
    });

    it('parallel registrations and cancellations mixed never exceed capacity', async () => {
      const seats = 10;
      const event = await openEvent(seats);
      const early = await strangers(30);
      for (const p of early) await registered(p, event.id);
      const late = await strangers(50);
      const responses = await Promise.all([
        ...early.map((p) => fire(cancel(p.token, event.id))),
        ...late.map((p) => fire(register(p.token, event.id))),
      ]);
      assert.deepEqual(tally(responses), { 204: 30, 201: 50 });
      await assertSeats(event.id, seats);
      const waiting: { n: number }[] = await t.db.query(
        "SELECT count(*)::int AS n FROM event_registrations WHERE event_id = $1 AND status = 'waitlisted'",
        [event.id],
      );
      assert.equal(waiting[0]?.n, 50 - seats);
      assert.equal(
        await countRows(t, 'user_event_assignments', "event_id = $1 AND role = 'participant'", [event.id]),
        seats,
      );
    });

    it('50 parallel registrations of the same user: one 201, the rest 200 with the same answer, one row', async () => {
      const event = await openEvent(5);
      const u = await stranger();
      const responses = await Promise.all(Array.from({ length: 50 }, () => fire(register(u.token, event.id))));
      assert.deepEqual(tally(responses), { 201: 1, 200: 49 });
      for (const r of responses) assert.deepEqual(r.body, { status: 'confirmed', position: null });
      assert.equal(await countRows(t, 'event_registrations', 'event_id = $1', [event.id]), 1);
      await assertSeats(event.id, 1);
    });

    it('a rush past REGISTRATION_QUEUE_MAX is refused at once with 503 UNAVAILABLE and Retry-After; the refused change nothing', async () => {
      // An instance that lets 4 run and 2 wait per event (the default, 500, is far above what this test can fire).
      const small = await bootTestApp({ REGISTRATION_QUEUE_MAX: '2' });
      try {
        const event = await openEvent(20);
        const people = await strangers(60);
        const responses = await Promise.all(
          people.map((p) => fire(small.http.post(`/api/events/${event.id}/register/`).set(bearer(p.token)))),
        );
        const counts = tally(responses);
        assert.deepEqual(Object.keys(counts).sort(), ['201', '503'], JSON.stringify(counts));
        assert.ok((counts[201] ?? 0) >= 6, `4 running and 2 waiting get through: ${JSON.stringify(counts)}`);
        for (const r of responses.filter((x) => x.status === 503)) {
          expectError(r, 503, 'UNAVAILABLE');
          assert.equal(r.headers['retry-after'], '2');
        }
        const done = people.filter((_, i) => responses[i]?.status === 201).map((p) => p.id);
        const rows: { user_id: string }[] = await t.db.query(
          'SELECT user_id FROM event_registrations WHERE event_id = $1',
          [event.id],
        );
        assert.deepEqual(rows.map((r) => r.user_id).sort(), done.sort(), 'a row for each 201 and none for a 503');
        await assertSeats(event.id, Math.min(20, done.length));
        // The refused try again and get in.
        const refused = people.filter((_, i) => responses[i]?.status === 503);
        for (const p of refused.slice(0, 3)) await registered(p, event.id);
      } finally {
        await small.close();
      }
    });
  });
});
