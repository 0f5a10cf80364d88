/**
 * Adversarial end-to-end tests for the CRUD side of the API: events, rooms, sessions, staff shifts, annonces,
 * statistics and the attendance CSV. They aim at what the module specs leave open: races that only the database can
 * settle, lost updates of read-then-write code, nulls, time offsets, ids of another event in
 * bodies and filters, deletions that leave something behind, figures after a mixed workload, CSV quoting at size, and
 * page walks over ties. Every "nothing changed" compares the rows before and after.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { Client } from 'pg';
import type { Response, Test } from 'supertest';
import { expectError, expectValidation } from './helpers/assertions';
import {
  assign,
  bearer,
  createBulkParticipants,
  createMember,
  createRoom,
  createSession,
  createUser,
  createWorld,
  openSession,
  uniq,
  type World,
} from './helpers/factories';
import { binary, countBy, fire, tally } from './helpers/requests';
import { bootTestApp, testDatabaseUrl, type TestApp } from './helpers/test-app';

type Body = Record<string, unknown>;

/** Deep equality that ignores key order (jsonb does not keep it). */
const same = (a: unknown, b: unknown): boolean => {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
};

/** A fixed day far from now: sessions and shifts there are not bound to the clock. */
const DAY = '2030-05-01';
const at = (hhmm: string, day = DAY): string => `${day}T${hhmm}:00.000Z`;

/** Polls until `ready` holds (at most `ms`). */
async function waitFor(ready: () => Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await ready())) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('CRUD, adversarial', () => {
  let t: TestApp;
  let w: World;

  before(async () => {
    t = await bootTestApp();
    w = await createWorld(t);
  });
  after(() => t.close());

  const org = (world: World = w) => bearer(world.tokens.organisateur);
  const call = (
    method: 'get' | 'post' | 'patch' | 'put' | 'delete',
    path: string,
    token: string,
    body?: Body,
  ): Test => {
    const req = t.http[method](path).set(bearer(token));
    return body === undefined ? req : req.send(body);
  };

  /** Every row of a table in an event, as JSON, for "nothing changed" assertions. */
  const rows = async (table: string, eventId: string, where = 'TRUE', params: unknown[] = []): Promise<unknown[]> => {
    const result: { row: unknown }[] = await t.db.query(
      `SELECT to_jsonb(x) AS row FROM ${table} x WHERE x.event_id = $1 AND ${where} ORDER BY x.id`,
      [eventId, ...params],
    );
    return result.map((r) => r.row);
  };
  const eventRow = async (eventId: string): Promise<unknown> =>
    ((await t.db.query('SELECT to_jsonb(e) AS row FROM events e WHERE id = $1', [eventId])) as { row: unknown }[])[0]
      ?.row;
  const sessionRow = async (id: string): Promise<Body> =>
    ((await t.db.query('SELECT to_jsonb(s) AS row FROM sessions s WHERE id = $1', [id])) as { row: Body }[])[0]
      ?.row as Body;

  const postSession = async (world: World, body: Body): Promise<Body> => {
    const res = await t.http.post('/api/sessions/').set(org(world)).send(body);
    assert.equal(res.status, 201, res.text);
    return res.body as Body;
  };
  const scan = (token: string, roomId: string, qr: string, direction: 'in' | 'out' = 'in') =>
    fire(t.http.post(`/api/rooms/${roomId}/verify_access/`).set(bearer(token)).send({ qr_data: qr, direction }));

  /** Non-cancelled sessions of the event that overlap another in their room (must always be empty). */
  const overlaps = async (eventId: string): Promise<unknown[]> =>
    t.db.query(
      `SELECT a.id, b.id AS other FROM sessions a JOIN sessions b
          ON a.room_id = b.room_id AND a.id < b.id AND a.status <> 'cancelled' AND b.status <> 'cancelled'
         AND tstzrange(a.start_time, a.end_time) && tstzrange(b.start_time, b.end_time)
       WHERE a.event_id = $1`,
      [eventId],
    );

  // ---------------------------------------------------------------------------------------------------------------
  describe('races the database must settle', () => {
    it('two sessions moved (PATCH) into one room and slot at once: one 200, one 409 SESSION_OVERLAP, loser unchanged', async () => {
      const PAIRS = 30;
      const cases = [];
      for (let i = 0; i < PAIRS; i++) {
        const [target, from1, from2] = await Promise.all([1, 2, 3].map(() => createRoom(t, w.event.id)));
        const a = await postSession(w, {
          room_id: from1,
          title: uniq('A'),
          start_time: at('08:00'),
          end_time: at('09:00'),
        });
        const b = await postSession(w, {
          room_id: from2,
          title: uniq('B'),
          start_time: at('15:00'),
          end_time: at('16:00'),
        });
        cases.push({ target: target as string, a: a.id as string, b: b.id as string });
      }
      const before = new Map<string, Body>();
      for (const c of cases) for (const id of [c.a, c.b]) before.set(id, await sessionRow(id));
      // Pair after pair: two requests in flight at once race inside PostgreSQL on its two cores.
      const responses: Response[] = [];
      for (const c of cases) {
        responses.push(
          ...(await Promise.all([
            fire(
              t.http
                .patch(`/api/sessions/${c.a}/`)
                .set(org())
                .send({ room_id: c.target, start_time: at('12:00'), end_time: at('13:00') }),
            ),
            fire(
              t.http
                .patch(`/api/sessions/${c.b}/`)
                .set(org())
                .send({ room_id: c.target, start_time: at('12:30'), end_time: at('13:30') }),
            ),
          ])),
        );
      }
      const wrong: string[] = [];
      for (const [i, c] of cases.entries()) {
        const pair = [responses[2 * i] as Response, responses[2 * i + 1] as Response];
        const statuses = pair.map((r) => r.status).sort();
        if (statuses.join() !== '200,409') {
          wrong.push(`pair ${i}: ${pair.map((r) => `${r.status} ${r.text.slice(0, 120)}`).join(' | ')}`);
          continue;
        }
        const loser = pair.findIndex((r) => r.status === 409);
        expectError(pair[loser] as Response, 409, 'SESSION_OVERLAP');
        const loserId = loser === 0 ? c.a : c.b;
        assert.deepEqual(await sessionRow(loserId), before.get(loserId), 'the refused move changed nothing');
      }
      assert.deepEqual(wrong, []);
      assert.deepEqual(await overlaps(w.event.id), []);
    });

    it('two moves waiting on a third writer that rolls back: still one 200 and one 409 SESSION_OVERLAP, never a 503', async () => {
      // A competitor holds the slot with an uncommitted row (a concurrent write that will fail). Both moves insert
      // their index entries and wait for it; when it rolls back, each finds the other's entry still in progress.
      const results: string[] = [];
      // Control: when the competitor commits instead, both moves are refused with the documented 409.
      for (const end of ['ROLLBACK', 'COMMIT']) {
        const [target, from1, from2] = [
          await createRoom(t, w.event.id),
          await createRoom(t, w.event.id),
          await createRoom(t, w.event.id),
        ];
        const a = await postSession(w, {
          room_id: from1,
          title: uniq('A'),
          start_time: at('08:00'),
          end_time: at('09:00'),
        });
        const b = await postSession(w, {
          room_id: from2,
          title: uniq('B'),
          start_time: at('15:00'),
          end_time: at('16:00'),
        });
        const blocker = new Client({ connectionString: testDatabaseUrl() });
        await blocker.connect();
        try {
          await blocker.query('BEGIN');
          await blocker.query(
            `INSERT INTO sessions (event_id, room_id, title, start_time, end_time) VALUES ($1, $2, 'Held', $3, $4)`,
            [w.event.id, target, at('11:00'), at('14:00')],
          );
          const moves = [
            fire(
              t.http
                .patch(`/api/sessions/${String(a.id)}/`)
                .set(org())
                .send({ room_id: target, start_time: at('12:00'), end_time: at('13:00') }),
            ),
            fire(
              t.http
                .patch(`/api/sessions/${String(b.id)}/`)
                .set(org())
                .send({ room_id: target, start_time: at('12:30'), end_time: at('13:30') }),
            ),
          ];
          await waitFor(async () => {
            const waiting: { n: number }[] = await t.db.query(
              `SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE "sessions"%'`,
            );
            return (waiting[0]?.n ?? 0) >= 2;
          });
          await blocker.query(end);
          const responses = await Promise.all(moves);
          results.push(
            responses
              .map((r) => `${r.status}${r.status === 200 ? '' : ` ${String(r.body.code)}`}`)
              .sort()
              .join(' + '),
          );
        } finally {
          await blocker.end();
        }
        assert.deepEqual(await overlaps(w.event.id), []);
      }
      assert.deepEqual(results, ['200 + 409 SESSION_OVERLAP', '409 SESSION_OVERLAP + 409 SESSION_OVERLAP']);
    });

    it('negative control: the same parallel moves into touching slots all succeed', async () => {
      const target = await createRoom(t, w.event.id);
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const from = await createRoom(t, w.event.id);
        ids.push(
          (await postSession(w, { room_id: from, title: uniq('T'), start_time: at('08:00'), end_time: at('09:00') }))
            .id as string,
        );
      }
      const responses = await Promise.all(
        ids.map((id, i) =>
          fire(
            t.http
              .patch(`/api/sessions/${id}/`)
              .set(org())
              .send({ room_id: target, start_time: at(`1${i}:00`), end_time: at(`1${i + 1}:00`) }),
          ),
        ),
      );
      assert.deepEqual(tally(responses), { 200: 4 });
      assert.deepEqual(await overlaps(w.event.id), []);
    });

    it('a POST into a slot and a PATCH moving another session there, at once: exactly one wins, one row in the slot', async () => {
      const PAIRS = 30;
      const cases: { target: string; moving: string; title: string }[] = [];
      for (let i = 0; i < PAIRS; i++) {
        const target = await createRoom(t, w.event.id);
        const from = await createRoom(t, w.event.id);
        const moving = await postSession(w, {
          room_id: from,
          title: uniq('M'),
          start_time: at('07:00'),
          end_time: at('08:00'),
        });
        cases.push({ target, moving: moving.id as string, title: uniq('New') });
      }
      const responses = await Promise.all(
        cases.flatMap((c) => [
          fire(
            t.http
              .post('/api/sessions/')
              .set(org())
              .send({ room_id: c.target, title: c.title, start_time: at('12:00'), end_time: at('13:00') }),
          ),
          fire(
            t.http
              .patch(`/api/sessions/${c.moving}/`)
              .set(org())
              .send({ room_id: c.target, start_time: at('12:15'), end_time: at('12:45') }),
          ),
        ]),
      );
      const wrong: string[] = [];
      for (const [i, c] of cases.entries()) {
        const [post, patch] = [responses[2 * i] as Response, responses[2 * i + 1] as Response];
        const ok = (post.status === 201 ? 1 : 0) + (patch.status === 200 ? 1 : 0);
        const refused = [post, patch].filter((r) => r.status === 409 && r.body.code === 'SESSION_OVERLAP').length;
        if (ok !== 1 || refused !== 1) wrong.push(`pair ${i}: POST ${post.status}, PATCH ${patch.status}`);
        const inTarget = await t.db.query('SELECT id FROM sessions WHERE room_id = $1', [c.target]);
        if (inTarget.length !== 1) wrong.push(`pair ${i}: ${inTarget.length} sessions in the target room`);
      }
      assert.deepEqual(wrong, []);
      assert.deepEqual(await overlaps(w.event.id), []);
    });

    it('capacity lowered while 30 people scan in: the PATCH and the doors agree, occupancy = people inside ≤ capacity', async () => {
      const room = await createRoom(t, w.event.id, { capacity: 40 });
      const people = await Promise.all(Array.from({ length: 30 }, () => createMember(t, w.event.id)));
      const pending: Promise<Response>[] = [];
      let patch: Promise<Response> | undefined;
      for (const [i, p] of people.entries()) {
        if (i === 8) patch = fire(t.http.patch(`/api/rooms/${room}/`).set(org()).send({ capacity: 15 }));
        pending.push(scan(w.tokens.organisateur, room, p.qr));
      }
      const [patched, ...scans] = await Promise.all([patch as Promise<Response>, ...pending]);
      assert.deepEqual(tally(scans), { 200: 30 });
      const granted = scans.filter((r) => r.body.status === 'granted' && !r.body.duplicate).length;
      const full = scans.filter((r) => r.body.reason_code === 'ROOM_FULL').length;
      assert.equal(granted + full, 30, `decisions: ${JSON.stringify(countBy(scans.map((r) => r.body.reason_code)))}`);
      const [stored] = (await t.db.query(
        `SELECT r.capacity, r.current_participants,
                (SELECT count(*)::int FROM participants p WHERE p.current_room_id = r.id) AS inside
           FROM rooms r WHERE r.id = $1`,
        [room],
      )) as { capacity: number; current_participants: number; inside: number }[];
      assert.ok(stored);
      assert.equal(stored.current_participants, granted, 'occupancy = granted entries');
      assert.equal(stored.inside, granted, 'occupancy = badges whose room it is');
      if (patched?.status === 200) {
        assert.equal(stored.capacity, 15);
        assert.ok(granted <= 15, `granted ${granted} with capacity 15`);
      } else {
        expectError(patched as Response, 409, 'ROOM_CAPACITY_BELOW_OCCUPANCY');
        assert.equal(stored.capacity, 40);
        assert.equal(full, 0);
      }
    });

    it('a room deleted while its doors are scanned: either refused (409) or gone, never a log or badge naming a missing room', async () => {
      const outcomes: string[] = [];
      for (let round = 0; round < 3; round++) {
        const room = await createRoom(t, w.event.id, { capacity: 100 });
        const people = await Promise.all(Array.from({ length: 10 }, () => createMember(t, w.event.id)));
        const pending: Promise<Response>[] = [];
        let del: Promise<Response> | undefined;
        for (let i = 0; i < 30; i++) {
          if (i === 3 + round * 4) del = fire(t.http.delete(`/api/rooms/${room}/`).set(org()));
          // Unknown badges are denied without touching the room row; known ones are admitted.
          const qr = i % 3 === 0 ? (people[i % 10] as { qr: string }).qr : `unknown-${randomUUID()}`;
          pending.push(scan(w.tokens.organisateur, room, qr));
        }
        const [deleted, ...scans] = await Promise.all([del as Promise<Response>, ...pending]);
        assert.ok(deleted);
        outcomes.push(String(deleted.status));
        assert.ok(
          scans.every((r) => r.status === 200 || r.status === 404),
          JSON.stringify(tally(scans)),
        );
        const exists = (await t.db.query('SELECT 1 FROM rooms WHERE id = $1', [room])).length === 1;
        if (deleted.status === 204) assert.equal(exists, false);
        else {
          expectError(deleted, 409, 'ROOM_HAS_SCANS');
          assert.equal(exists, true);
        }
      }
      const dangling = (await t.db.query(
        `SELECT (SELECT count(*)::int FROM room_access_logs l WHERE l.event_id = $1 AND l.room_id IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM rooms r WHERE r.id = l.room_id)) AS logs,
                (SELECT count(*)::int FROM participants p WHERE p.event_id = $1 AND p.current_room_id IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM rooms r WHERE r.id = p.current_room_id)) AS badges`,
        [w.event.id],
      )) as { logs: number; badges: number }[];
      assert.deepEqual(dangling[0], { logs: 0, badges: 0 }, `outcomes ${outcomes.join(',')}`);
    });

    it('two rooms renamed to one name at once: one 200, one 409 ROOM_NAME_TAKEN, the loser keeps its name', async () => {
      const wrong: string[] = [];
      for (let i = 0; i < 8; i++) {
        const [r1, r2] = await Promise.all([createRoom(t, w.event.id), createRoom(t, w.event.id)]);
        const beforeRows = await rows('rooms', w.event.id, 'x.id = ANY($2)', [[r1, r2]]);
        const name = uniq('Same ');
        const res = await Promise.all(
          [r1, r2].map((id) => fire(t.http.patch(`/api/rooms/${id}/`).set(org()).send({ name }))),
        );
        if (
          res
            .map((r) => r.status)
            .sort()
            .join() !== '200,409'
        ) {
          wrong.push(res.map((r) => r.status).join());
          continue;
        }
        const loser = res.findIndex((r) => r.status === 409);
        expectError(res[loser] as Response, 409, 'ROOM_NAME_TAKEN');
        const after = await rows('rooms', w.event.id, 'x.id = ANY($2)', [[r1, r2]]);
        const loserId = loser === 0 ? r1 : r2;
        const find = (list: unknown[]) => (list as { id: string }[]).find((r) => r.id === loserId);
        assert.deepEqual(find(after), find(beforeRows));
      }
      assert.deepEqual(wrong, []);
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  describe('lost updates: parallel PATCHes of different fields keep every change', () => {
    it('event: 11 PATCHes of 11 different fields at once, 3 rounds: every field holds its new value', async () => {
      const ew = await createWorld(t);
      const wrong: string[] = [];
      for (let round = 1; round <= 3; round++) {
        const tag = uniq(`r${round}-`);
        const patches: Body = {
          name: `Name ${tag}`,
          description: `Description ${tag}`,
          location: `Location ${tag}`,
          location_details: `Details ${tag}`,
          organizer_contact: `contact-${tag}@example.test`,
          themes: [`theme-${tag}`],
          metadata: { tag },
          settings: { qa_moderation: round % 2 === 1, tag },
          registration_open: round % 2 === 1,
          currency: ['EUR', 'USD', 'GBP'][round - 1],
          capacity: 1000 + round,
        };
        const responses = await Promise.all(
          Object.entries(patches).map(([field, value]) =>
            fire(
              t.http
                .patch(`/api/events/${ew.event.id}/`)
                .set(org(ew))
                .send({ [field]: value }),
            ),
          ),
        );
        assert.deepEqual(tally(responses), { 200: 11 }, responses.map((r) => r.text.slice(0, 100)).join('\n'));
        const now = (await t.http.get(`/api/events/${ew.event.id}/`).set(org(ew))).body as Body;
        for (const [field, value] of Object.entries(patches)) {
          if (!same(now[field], value)) {
            wrong.push(`round ${round}: ${field} = ${JSON.stringify(now[field])}, sent ${JSON.stringify(value)}`);
          }
        }
      }
      assert.deepEqual(wrong, []);
    });

    it('control: the same PATCHes one after the other keep every change (the checks above can pass)', async () => {
      const cw = await createWorld(t);
      const tag = uniq('seq-');
      const patches: Body = { name: `Name ${tag}`, description: `D ${tag}`, themes: [tag], settings: { tag } };
      for (const [field, value] of Object.entries(patches)) {
        assert.equal(
          (
            await t.http
              .patch(`/api/events/${cw.event.id}/`)
              .set(org(cw))
              .send({ [field]: value })
          ).status,
          200,
        );
      }
      const now = (await t.http.get(`/api/events/${cw.event.id}/`).set(org(cw))).body as Body;
      for (const [field, value] of Object.entries(patches)) assert.ok(same(now[field], value), field);

      const [r1, r2] = [await createRoom(t, cw.event.id), await createRoom(t, cw.event.id)];
      const shift = await t.http
        .post('/api/room-assignments/')
        .set(org(cw))
        .send({
          user_id: cw.users.controlleur_des_badges.id,
          room_id: r1,
          role: 'controlleur_des_badges',
          start_time: at('09:00'),
          end_time: at('10:00'),
        });
      for (const body of [{ room_id: r2 }, { end_time: at('11:00') }]) {
        assert.equal(
          (
            await t.http
              .patch(`/api/room-assignments/${String(shift.body.id)}/`)
              .set(org(cw))
              .send(body)
          ).status,
          200,
        );
      }
      const [stored] = (await t.db.query('SELECT room_id, end_time FROM room_assignments WHERE id = $1', [
        shift.body.id,
      ])) as { room_id: string; end_time: Date }[];
      assert.deepEqual([stored?.room_id, stored?.end_time.toISOString()], [r2, at('11:00')]);
    });

    it('room assignment: PATCH room_id, PATCH user_id and PATCH end_time of one shift at once keep all three', async () => {
      const sw = await createWorld(t);
      const [r1, r2] = [await createRoom(t, sw.event.id), await createRoom(t, sw.event.id)];
      const second = await createUser(t, { firstName: 'Second' });
      await assign(t, sw.event.id, second.id, 'controlleur_des_badges');
      const shifts: string[] = [];
      for (let i = 0; i < 12; i++) {
        const res = await t.http
          .post('/api/room-assignments/')
          .set(org(sw))
          .send({
            user_id: sw.users.controlleur_des_badges.id,
            room_id: r1,
            role: 'controlleur_des_badges',
            start_time: at('09:00'),
            end_time: at('10:00'),
          });
        assert.equal(res.status, 201, res.text);
        shifts.push(res.body.id as string);
      }
      const responses = await Promise.all(
        shifts.flatMap((id) =>
          [{ room_id: r2 }, { user_id: second.id }, { end_time: at('11:00') }].map((body) =>
            fire(t.http.patch(`/api/room-assignments/${id}/`).set(org(sw)).send(body)),
          ),
        ),
      );
      assert.deepEqual(tally(responses), { 200: shifts.length * 3 });
      const stored: { id: string; room_id: string; user_id: string; end_time: Date }[] = await t.db.query(
        'SELECT id, room_id, user_id, end_time FROM room_assignments WHERE id = ANY($1)',
        [shifts],
      );
      const lost = stored.flatMap((s) => [
        ...(s.room_id === r2 ? [] : [`${s.id}: room_id reverted`]),
        ...(s.user_id === second.id ? [] : [`${s.id}: user_id reverted`]),
        ...(s.end_time.toISOString() === at('11:00') ? [] : [`${s.id}: end_time reverted`]),
      ]);
      assert.deepEqual(lost, []);
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  describe('nulls', () => {
    it('annonce PATCH with null for a field that cannot be null: 400 naming it, the annonce unchanged', async () => {
      const scheduled = await t.http
        .post('/api/annonces/')
        .set(org())
        .send({
          title: 'Later',
          description: 'Text',
          target: 'participants',
          publish_at: new Date(Date.now() + 3_600_000),
        });
      assert.equal(scheduled.status, 201, scheduled.text);
      const published = await t.http.post('/api/annonces/').set(org()).send({ title: 'Now', description: 'Text' });
      assert.equal(published.status, 201, published.text);
      const wrong: string[] = [];
      const cases: [string, Body][] = [
        [scheduled.body.id as string, { title: null }],
        [scheduled.body.id as string, { description: null }],
        [scheduled.body.id as string, { target: null }],
        [scheduled.body.id as string, { target_rooms: null }],
        [scheduled.body.id as string, { target_sessions: null }],
        [published.body.id as string, { description: null }],
      ];
      for (const [id, body] of cases) {
        const before = await rows('annonces', w.event.id, 'x.id = $2', [id]);
        const res = await t.http.patch(`/api/annonces/${id}/`).set(org()).send(body);
        const field = Object.keys(body)[0] as string;
        if (res.status !== 400 || !(res.body.errors as Body | undefined)?.[field]) {
          wrong.push(`${JSON.stringify(body)}: ${res.status} ${res.text.slice(0, 120)}`);
        } else expectValidation(res, field);
        const after = (await rows('annonces', w.event.id, 'x.id = $2', [id]))[0] as Body;
        const was = before[0] as Body;
        const changed = Object.keys(was).filter((k) => !same(was[k], after[k]));
        if (changed.length > 0) wrong.push(`${JSON.stringify(body)} changed ${changed.join(', ')}`);
      }
      assert.deepEqual(wrong, []);
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  describe('time offsets', () => {
    it('overlap, order and length are judged on instants, whatever the offsets; answers are in UTC', async () => {
      const [room, other, night] = [
        await createRoom(t, w.event.id),
        await createRoom(t, w.event.id),
        await createRoom(t, w.event.id),
      ];
      const before = await countRowsIn('sessions');
      const post = (body: Body) =>
        t.http
          .post('/api/sessions/')
          .set(org())
          .send({ title: uniq('Tz '), ...body });
      assert.equal((await post({ room_id: room, start_time: at('09:00'), end_time: at('10:00') })).status, 201);
      // 10:30+01:00 is 09:30Z: inside the first one.
      expectError(
        await post({ room_id: room, start_time: `${DAY}T10:30:00+01:00`, end_time: `${DAY}T11:30:00+01:00` }),
        409,
        'SESSION_OVERLAP',
      );
      // 11:00+01:00 is 10:00Z: touching, allowed.
      const touching = await post({
        room_id: room,
        start_time: `${DAY}T11:00:00+01:00`,
        end_time: `${DAY}T12:00:00+01:00`,
      });
      assert.equal(touching.status, 201, touching.text);
      assert.equal(touching.body.start_time, at('10:00'));
      assert.equal(touching.body.end_time, at('11:00'));
      // The end reads earlier on the clock face but is an hour later.
      const faceEarlier = await post({ room_id: other, start_time: `${DAY}T10:00:00+02:00`, end_time: at('09:00') });
      assert.equal(faceEarlier.status, 201, faceEarlier.text);
      assert.equal(faceEarlier.body.duration_minutes, 60);
      // Zero length and end before start, across offsets.
      expectValidation(
        await post({ room_id: other, start_time: at('15:00'), end_time: `${DAY}T16:00:00+01:00` }),
        'end_time',
      );
      expectValidation(
        await post({ room_id: other, start_time: at('15:00'), end_time: `${DAY}T16:30:00+02:00` }),
        'end_time',
      );
      // No offset at all: the instant would depend on the server's zone.
      expectValidation(
        await post({ room_id: other, start_time: `${DAY}T18:00:00`, end_time: `${DAY}T19:00:00` }),
        'start_time',
        'end_time',
      );
      assert.equal(await countRowsIn('sessions'), before + 3, 'the three valid sessions only');

      // 00:30+02:00 on the 2nd is 22:30Z on the 1st: a night session spans two UTC days.
      const nightSession = await post({
        room_id: night,
        start_time: '2030-05-02T00:30:00+02:00',
        end_time: '2030-05-02T03:00:00+02:00',
      });
      assert.equal(nightSession.status, 201, nightSession.text);
      assert.equal(nightSession.body.start_time, '2030-05-01T22:30:00.000Z');
      for (const [date, expected] of [
        ['2030-04-30', 0],
        ['2030-05-01', 1],
        ['2030-05-02', 1],
        ['2030-05-03', 0],
      ] as [string, number][]) {
        const res = await t.http.get('/api/sessions/').query({ room: night, date }).set(org());
        assert.equal(res.body.count, expected, `date=${date}: ${res.text.slice(0, 200)}`);
      }

      // Shifts: the same rule for their times.
      const shifts = await countRowsIn('room_assignments');
      expectValidation(
        await t.http
          .post('/api/room-assignments/')
          .set(org())
          .send({
            user_id: w.users.controlleur_des_badges.id,
            room_id: room,
            role: 'controlleur_des_badges',
            start_time: at('09:00'),
            end_time: `${DAY}T10:00:00+01:00`,
          }),
        'end_time',
      );
      assert.equal(await countRowsIn('room_assignments'), shifts);
    });
  });

  const countRowsIn = async (table: string, eventId = w.event.id): Promise<number> =>
    (await rows(table, eventId)).length;

  // ---------------------------------------------------------------------------------------------------------------
  describe('scope: ids of another event in bodies and filters', () => {
    it('PATCH/PUT bodies naming rooms, users, sessions of event B: 400 naming the field; A and B unchanged', async () => {
      const B = await createWorld(t);
      const roomA = await createRoom(t, w.event.id);
      const roomB = await createRoom(t, B.event.id);
      const sessionB = await createSession(t, B.event.id, roomB);
      const sessionA = await postSession(w, {
        room_id: roomA,
        title: uniq('S'),
        start_time: at('20:00'),
        end_time: at('21:00'),
      });
      const shift = await t.http
        .post('/api/room-assignments/')
        .set(org())
        .send({
          user_id: w.users.controlleur_des_badges.id,
          room_id: roomA,
          role: 'controlleur_des_badges',
          start_time: at('09:00'),
          end_time: at('10:00'),
        });
      assert.equal(shift.status, 201, shift.text);
      const annonce = await t.http
        .post('/api/annonces/')
        .set(org())
        .send({ title: 'Scheduled', publish_at: new Date(Date.now() + 3_600_000) });
      assert.equal(annonce.status, 201, annonce.text);

      const tables = ['sessions', 'room_assignments', 'annonces', 'rooms', 'user_event_assignments'];
      const snap = async () => ({
        A: await Promise.all(tables.map((tb) => rows(tb, w.event.id))),
        B: await Promise.all(tables.map((tb) => rows(tb, B.event.id))),
        events: [await eventRow(w.event.id), await eventRow(B.event.id)],
      });
      const before = await snap();
      const wrong: string[] = [];
      const cases: [string, string, Body, string][] = [
        ['patch', `/api/sessions/${String(sessionA.id)}/`, { room_id: roomB }, 'room_id'],
        [
          'put',
          `/api/sessions/${String(sessionA.id)}/`,
          { room_id: roomB, title: 'x', start_time: at('20:00'), end_time: at('21:00') },
          'room_id',
        ],
        ['patch', `/api/room-assignments/${String(shift.body.id)}/`, { room_id: roomB }, 'room_id'],
        [
          'patch',
          `/api/room-assignments/${String(shift.body.id)}/`,
          { user_id: B.users.controlleur_des_badges.id },
          'user_id',
        ],
        ['patch', `/api/annonces/${String(annonce.body.id)}/`, { target_rooms: [roomB] }, 'target_rooms'],
        ['patch', `/api/annonces/${String(annonce.body.id)}/`, { target_sessions: [sessionB] }, 'target_sessions'],
        ['patch', `/api/events/${w.event.id}/`, { president: B.users.organisateur.id }, 'president'],
      ];
      for (const [method, path, body, field] of cases) {
        const res = await call(method as 'patch', path, w.tokens.organisateur, body);
        if (res.status !== 400 || !(res.body.errors as Body | undefined)?.[field]) {
          wrong.push(`${method} ${path} ${JSON.stringify(body)}: ${res.status} ${res.text.slice(0, 120)}`);
        }
      }
      // Filters naming B's objects: empty pages; B's room in a path: 404; ?event=B: 400.
      for (const path of [
        `/api/sessions/?room=${roomB}`,
        `/api/room-assignments/?room=${roomB}`,
        `/api/room-assignments/?user=${B.users.controlleur_des_badges.id}`,
      ]) {
        const res = await t.http.get(path).set(org());
        if (res.status !== 200 || res.body.count !== 0) wrong.push(`${path}: ${res.status} count ${res.body.count}`);
      }
      for (const path of [
        `/api/rooms/${roomB}/sessions/`,
        `/api/rooms/${roomB}/current-staff/`,
        `/api/sessions/${sessionB}/`,
      ]) {
        const res = await t.http.get(path).set(org());
        if (res.status !== 404) wrong.push(`${path}: ${res.status}`);
      }
      for (const path of ['/api/annonces/', '/api/sessions/', '/api/room-assignments/', '/api/rooms/']) {
        const res = await t.http.get(path).query({ event: B.event.id }).set(org());
        if (res.status !== 400 || !(res.body.errors as Body | undefined)?.event)
          wrong.push(`${path}?event=B: ${res.status}`);
      }
      assert.deepEqual(wrong, []);
      assert.deepEqual(await snap(), before);
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  describe('deletions that leave nothing half-done', () => {
    it('a room with scans: 409 ROOM_HAS_SCANS with its shifts and occupancy kept; only cancelled sessions: 409 ROOM_HAS_SESSIONS', async () => {
      const room = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      const shift = await t.http
        .post('/api/room-assignments/')
        .set(org())
        .send({
          user_id: w.users.controlleur_des_badges.id,
          room_id: room,
          role: 'controlleur_des_badges',
          start_time: at('09:00'),
          end_time: at('10:00'),
        });
      assert.equal(shift.status, 201, shift.text);
      assert.equal((await scan(w.tokens.organisateur, room, m.qr)).body.status, 'granted');
      const snap = async () => ({
        rooms: await rows('rooms', w.event.id, 'x.id = $2', [room]),
        shifts: await rows('room_assignments', w.event.id, 'x.room_id = $2', [room]),
        badges: await rows('participants', w.event.id, 'x.id = $2', [m.participant.id]),
      });
      const before = await snap();
      expectError(await t.http.delete(`/api/rooms/${room}/`).set(org()), 409, 'ROOM_HAS_SCANS');
      assert.deepEqual(await snap(), before);
      assert.equal(before.shifts.length, 1);

      const quiet = await createRoom(t, w.event.id);
      const cancelled = await createSession(t, w.event.id, quiet, { status: 'cancelled' });
      expectError(await t.http.delete(`/api/rooms/${quiet}/`).set(org()), 409, 'ROOM_HAS_SESSIONS');
      assert.equal((await sessionRow(cancelled)).status, 'cancelled');
    });

    it('deleting a session with attendance: refused, or every attendance record it takes is in the audit log', async () => {
      const room = await createRoom(t, w.event.id);
      const session = await createSession(t, w.event.id, room, {
        start: new Date(Date.now() - 600_000),
        end: new Date(Date.now() + 3_600_000),
      });
      const viaDoor = await createMember(t, w.event.id);
      const viaStaff = await createMember(t, w.event.id);
      assert.equal((await scan(w.tokens.organisateur, room, viaDoor.qr)).body.status, 'granted');
      const manual = await t.http
        .post(`/api/events/${w.event.id}/attendees/`)
        .set(org())
        .send({ participant_id: viaStaff.participant.id, session_id: session, note: 'present' });
      assert.equal(manual.status, 201, manual.text);
      const attendance = async () =>
        (
          (await t.db.query('SELECT id FROM attendances WHERE session_id = $1 ORDER BY id', [session])) as {
            id: string;
          }[]
        ).map((r) => r.id);
      const records = await attendance();
      assert.equal(records.length, 2, 'door and manual records of the session');
      const logs = await rows('room_access_logs', w.event.id);

      const res = await t.http.delete(`/api/sessions/${session}/`).set(org());
      if (res.status === 204) {
        const remaining = await attendance();
        const gone = records.filter((id) => !remaining.includes(id));
        const audited = (
          (await t.db.query('SELECT attendance_id FROM attendance_removals WHERE attendance_id = ANY($1)', [gone])) as {
            attendance_id: string;
          }[]
        ).map((r) => r.attendance_id);
        assert.deepEqual(
          audited.sort(),
          [...gone].sort(),
          'every attendance record the deletion took is in the audit log (API.md: removals are "kept in the audit log")',
        );
      } else {
        assert.equal(res.status, 409, res.text);
        assert.deepEqual(await attendance(), records);
      }
      assert.deepEqual(await rows('room_access_logs', w.event.id), logs, 'the access log is append-only');
    });

    it('a deleted room does not stay in allowed_rooms: the badge read back can be written back', async () => {
      const [doomed, kept] = [await createRoom(t, w.event.id), await createRoom(t, w.event.id)];
      const m = await createMember(t, w.event.id);
      const set = await t.http
        .patch(`/api/participants/${m.participant.id}/`)
        .set(org())
        .send({ allowed_rooms: [doomed, kept] });
      assert.equal(set.status, 200, set.text);
      const del = await t.http.delete(`/api/rooms/${doomed}/`).set(org());
      assert.ok(del.status === 204 || del.status === 409, del.text);
      const read = await t.http.get(`/api/participants/${m.participant.id}/`).set(org());
      assert.equal(read.status, 200, read.text);
      const allowed = read.body.allowed_rooms as string[];
      const missing: string[] = [];
      for (const id of allowed) {
        if ((await t.http.get(`/api/rooms/${id}/`).set(org())).status !== 200) missing.push(id);
      }
      // The admin panel's round trip: what was read is sent back with another change.
      const back = await t.http
        .patch(`/api/participants/${m.participant.id}/`)
        .set(org())
        .send({ allowed_rooms: allowed });
      assert.deepEqual(
        { missing, round_trip: back.status },
        { missing: [], round_trip: 200 },
        `allowed_rooms names only rooms that exist, and can be sent back (${back.text.slice(0, 160)})`,
      );
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  describe('statistics after a mixed workload', () => {
    it('event statistics, dashboard, event counters and room figures all equal what was done', async () => {
      const sw = await createWorld(t);
      const o = org(sw);
      const newRoom = async (body: Body) => {
        const res = await t.http
          .post('/api/rooms/')
          .set(o)
          .send({ name: uniq('Stat '), ...body });
        assert.equal(res.status, 201, res.text);
        return res.body.id as string;
      };
      const small = await newRoom({ capacity: 3 });
      const big = await newRoom({ capacity: 50 });
      const closed = await newRoom({ capacity: 10, is_active: false });
      const sessions: string[] = [];
      for (let i = 0; i < 5; i++) {
        sessions.push(
          (
            await postSession(sw, {
              room_id: i === 4 ? small : big,
              title: uniq('S'),
              start_time: at(`1${i}:00`),
              end_time: at(`1${i}:30`),
            })
          ).id as string,
        );
      }
      const act = async (id: string, action: string) =>
        assert.equal((await t.http.post(`/api/sessions/${id}/${action}/`).set(o)).status, 200);
      await act(sessions[0] as string, 'mark_live');
      await act(sessions[1] as string, 'mark_live');
      await act(sessions[1] as string, 'mark_completed');
      await act(sessions[2] as string, 'cancel');
      assert.equal((await t.http.delete(`/api/sessions/${sessions[4] as string}/`).set(o)).status, 204);

      const people = await Promise.all(Array.from({ length: 6 }, () => createMember(t, sw.event.id)));
      const exhibitor = await createMember(t, sw.event.id, 'exposant');
      const first = await Promise.all([
        ...people.map((p) => scan(sw.tokens.organisateur, small, p.qr)),
        scan(sw.tokens.organisateur, big, `unknown-${randomUUID()}`),
        scan(sw.tokens.organisateur, big, `unknown-${randomUUID()}`),
        scan(sw.tokens.organisateur, closed, exhibitor.qr),
      ]);
      assert.deepEqual(countBy(first.map((r) => r.body.reason_code as string)), {
        OK: 3,
        ROOM_FULL: 3,
        BADGE_UNKNOWN: 2,
        ROOM_INACTIVE: 1,
      });
      const inside = people.filter((_, i) => first[i]?.body.status === 'granted');
      const out = await scan(sw.tokens.organisateur, small, (inside[0] as { qr: string }).qr, 'out');
      assert.equal(out.body.status, 'granted');
      assert.equal((await scan(sw.tokens.organisateur, big, exhibitor.qr)).body.status, 'granted');

      const expected = {
        total_rooms: 3,
        total_sessions: 4,
        total_participants: 7, // the world's participant (no badge) and the six with badges; not the exhibitor
        checked_in_count: 4, // three admitted participants and the exhibitor
        live_sessions: 1,
        completed_sessions: 1,
        current_occupancy: 3, // small: 3 in, 1 out; big: the exhibitor
        scans_today: 11,
        denied_today: 6,
      };
      const stats = await t.http.get(`/api/events/${sw.event.id}/statistics/`).set(o);
      assert.equal(stats.status, 200, stats.text);
      assert.deepEqual(stats.body, expected);
      const dashboard = await t.http.get('/api/dashboard/stats/').set(bearer(sw.tokens.gestionnaire_des_salles));
      assert.deepEqual(dashboard.body.statistics, expected);
      const byRoom = new Map(
        (dashboard.body.rooms as { id: string; current_participants: number }[]).map((r) => [
          r.id,
          r.current_participants,
        ]),
      );
      assert.deepEqual([byRoom.get(small), byRoom.get(big), byRoom.get(closed)], [2, 1, 0]);
      const event = (await t.http.get(`/api/events/${sw.event.id}/`).set(o)).body as Body;
      // total_exhibitors: the world's exposant and the one with a badge.
      assert.deepEqual([event.total_rooms, event.total_participants, event.total_exhibitors], [3, 7, 2]);
      const smallStats = await t.http.get(`/api/rooms/${small}/statistics/`).set(o);
      assert.equal(smallStats.status, 200, smallStats.text);
      assert.deepEqual(
        [
          smallStats.body.current_participants,
          smallStats.body.entries_today,
          smallStats.body.exits_today,
          smallStats.body.denied_today,
        ],
        [2, 3, 1, 3],
      );
      assert.deepEqual(smallStats.body.by_reason, { ROOM_FULL: 3 });
      const roomList = await t.http.get('/api/rooms/').query({ page_size: 100 }).set(o);
      const sum = (roomList.body.results as { current_participants: number }[]).reduce(
        (n, r) => n + r.current_participants,
        0,
      );
      assert.equal(sum, expected.current_occupancy);
    });
  });

  describe('attendance.csv', () => {
    it('2,000 rows and awkward names: one header, every record once, quoting and unicode kept, formula cells quoted', async () => {
      const cw = await createWorld(t);
      const bulk = await createBulkParticipants(t, cw.event.id, 2000);
      await t.db.query(
        `INSERT INTO attendances (event_id, participant_id, method, marked_by_id, attended_at)
         SELECT $1, unnest($2::uuid[]), 'manual', $3, now()`,
        [cw.event.id, bulk, cw.users.organisateur.id],
      );
      const names: [string, string][] = [
        ['Doe, "Jr."', 'Smith'],
        ['Line\nBreak', 'Two\r\nLines'],
        ['محمد', 'بن علي'],
        ['😀 Émile', 'Zoe\u0308'],
      ];
      const specials = [];
      for (const [firstName, lastName] of names)
        specials.push(await createMember(t, cw.event.id, 'participant', { firstName, lastName }));
      for (const prefix of ['+', '-', '=']) {
        specials.push(
          await createMember(t, cw.event.id, 'participant', { email: `${prefix}${uniq('mail')}@example.test` }),
        );
      }
      const marker = await createUser(t, { firstName: '@Admin', lastName: '=Boss' });
      await assign(t, cw.event.id, marker.id, 'gestionnaire_des_salles');
      const markerToken = (await openSession(t, marker.id, cw.event.id)).access;
      for (const s of specials) {
        const res = await t.http
          .post(`/api/events/${cw.event.id}/attendees/`)
          .set(bearer(markerToken))
          .send({ participant_id: s.participant.id });
        assert.equal(res.status, 201, res.text);
      }

      const res = await t.http.get(`/api/events/${cw.event.id}/attendance.csv`).set(org(cw)).buffer(true).parse(binary);
      assert.equal(res.status, 200);
      const text = (res.body as Buffer).toString('utf8');
      const records = parse(text, { relax_column_count: false }) as string[][];
      assert.deepEqual(records[0], [
        'badge_id',
        'full_name',
        'email',
        'session_id',
        'session_title',
        'method',
        'attended_at',
        'marked_by',
        'latitude',
        'longitude',
        'note',
      ]);
      const body = records.slice(1);
      assert.equal(body.length, 2000 + specials.length);
      const badgeIds = body.map((r) => r[0] as string);
      assert.equal(new Set(badgeIds).size, body.length, 'every record once');
      assert.equal(body.filter((r) => r[0] === 'badge_id').length, 0, 'one header');
      const row = (participantBadge: string) => body.find((r) => r[0] === participantBadge) as string[];
      for (const [i, [first, last]] of names.entries()) {
        assert.equal(
          row((specials[i] as { participant: { badgeId: string } }).participant.badgeId)[1],
          `${first} ${last}`,
        );
      }
      for (const [i, prefix] of ['+', '-', '='].entries()) {
        const s = specials[names.length + i] as { participant: { badgeId: string }; user: { email: string } };
        assert.equal(row(s.participant.badgeId)[2], `'${s.user.email}`, `email starting with ${prefix} is quoted`);
        assert.ok(s.user.email.startsWith(prefix));
      }
      const markedBy = row((specials[0] as { participant: { badgeId: string } }).participant.badgeId)[7];
      assert.equal(markedBy, "'@Admin =Boss");
      assert.ok(body.every((r) => r[5] === 'manual'));
      assert.ok(body.every((r) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(r[6] as string)));

      // A session of another event (or none) filters everything out, leaving the header.
      const none = await t.http
        .get(`/api/events/${cw.event.id}/attendance.csv`)
        .query({ session: randomUUID() })
        .set(org(cw))
        .buffer(true)
        .parse(binary);
      assert.equal(none.status, 200);
      assert.equal((parse((none.body as Buffer).toString('utf8')) as string[][]).length, 1);
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  describe('pagination over ties', () => {
    /** Follows `next` from the first page; every page must carry the same count and a `previous` after the first. */
    const walk = async (path: string, token: string): Promise<{ ids: string[]; items: Body[]; count: number }> => {
      const items: Body[] = [];
      let url: string | null = path;
      let count = -1;
      let pages = 0;
      while (url) {
        const res: Response = await t.http.get(url).set(bearer(token));
        assert.equal(res.status, 200, `${url}: ${res.text.slice(0, 200)}`);
        if (count === -1) count = res.body.count as number;
        assert.equal(res.body.count, count, 'the count does not move between pages');
        if (pages > 0) assert.ok(res.body.previous, 'a previous link after the first page');
        items.push(...(res.body.results as Body[]));
        const next = res.body.next as string | null;
        url = next ? `${new URL(next).pathname}${new URL(next).search}` : null;
        if (++pages > 50) throw new Error('too many pages');
      }
      return { ids: items.map((i) => i.id as string), items, count };
    };

    it('rooms, sessions, shifts and annonces sorted on equal keys: each row exactly once across the pages', async () => {
      const pw = await createWorld(t);
      const rooms: string[] = [];
      for (let i = 0; i < 23; i++) rooms.push(await createRoom(t, pw.event.id, { capacity: i % 2 ? 10 : 20 }));
      const sessions: string[] = [];
      for (let i = 0; i < 12; i++) {
        sessions.push(
          await createSession(t, pw.event.id, rooms[i] as string, {
            start: new Date(at('09:00')),
            end: new Date(at('10:00')),
          }),
        );
      }
      await t.db.query(
        `INSERT INTO room_assignments (event_id, room_id, user_id, role, start_time, end_time)
         SELECT $1, unnest($2::uuid[]), $3, 'controlleur_des_badges', $4, $5`,
        [pw.event.id, rooms.slice(0, 11), pw.users.controlleur_des_badges.id, at('09:00'), at('10:00')],
      );
      await t.db.query(
        `INSERT INTO annonces (event_id, title, target, publish_at, published_at)
         SELECT $1, 'Tie ' || i, 'all', $2, $2 FROM generate_series(1, 9) AS i`,
        [pw.event.id, new Date(Date.now() - 60_000)],
      );
      const wrong: string[] = [];
      const check = async (label: string, path: string, token: string, expected: number, key?: (b: Body) => number) => {
        const { ids, items, count } = await walk(path, token);
        if (count !== expected) wrong.push(`${label}: count ${count}, expected ${expected}`);
        if (ids.length !== expected) wrong.push(`${label}: ${ids.length} rows over the pages`);
        if (new Set(ids).size !== ids.length) wrong.push(`${label}: a row appears twice`);
        if (key) {
          const keys = items.map(key);
          if (keys.some((k, i) => i > 0 && k < (keys[i - 1] as number))) wrong.push(`${label}: not sorted`);
        }
      };
      const o = pw.tokens.organisateur;
      await check('rooms by capacity', '/api/rooms/?ordering=capacity&page_size=5', o, 23, (b) => b.capacity as number);
      await check(
        'rooms by -capacity',
        '/api/rooms/?ordering=-capacity&page_size=4',
        o,
        23,
        (b) => -(b.capacity as number),
      );
      await check('sessions by -start_time', '/api/sessions/?ordering=-start_time&page_size=5', o, 12);
      await check('shifts by start_time', '/api/room-assignments/?ordering=start_time&page_size=4', o, 11);
      await check('annonces (participant)', '/api/annonces/?page_size=4', pw.tokens.participant, 9);

      // Beyond the last page: empty, with a previous link to the last page.
      const far = await t.http.get('/api/rooms/?page=9&page_size=5').set(bearer(o));
      assert.equal(far.status, 200);
      assert.deepEqual(far.body.results, []);
      assert.equal(far.body.next, null);
      assert.equal(new URL(far.body.previous as string).searchParams.get('page'), '5');
      // Unknown parameters and an ordering the annonces list does not offer are refused.
      expectValidation(await t.http.get('/api/annonces/?ordering=title').set(bearer(o)), 'ordering');
      expectValidation(await t.http.get('/api/annonces/?target=all').set(bearer(o)), 'target');
      assert.deepEqual(wrong, []);
    });
  });
});
