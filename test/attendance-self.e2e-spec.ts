import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EventRole } from '../src/common/auth/event-role';
import { codeFor, windowAt } from '../src/modules/attendance/attendance-code';
import { expectError, expectValidation } from './helpers/assertions';
import {
  bearer,
  countRows,
  createMember,
  createRoom,
  createSession,
  createWorld,
  type World,
} from './helpers/factories';
import { binary, fire, tally } from './helpers/requests';
import { bootTestApp, type TestApp } from './helpers/test-app';

/*
 * Self attendance in the time windows (API.md, Events `attend/` and `check-attendance/`, Sessions `attend/`): the
 * clocks are controlled by creating events and sessions before, around and after now.
 */

const HOUR = 3_600_000;
const NOT_PARTICIPANT: EventRole[] = ['organisateur', 'gestionnaire_des_salles', 'controlleur_des_badges', 'exposant'];

describe('self attendance', () => {
  let t: TestApp;
  let w: World;

  before(async () => {
    t = await bootTestApp();
    w = await createWorld(t);
  });
  after(() => t.close());

  const attend = (eventId: string, token: string) => t.http.post(`/api/events/${eventId}/attend/`).set(bearer(token));
  const rows = (eventId: string) => countRows(t, 'attendances', 'event_id = $1 AND session_id IS NULL', [eventId]);

  describe('the event', () => {
    it('during the event: 200 with a self record; a repeat answers the same record; check-attendance says so', async () => {
      const m = await createMember(t, w.event.id);
      const check = () => t.http.get(`/api/events/${w.event.id}/check-attendance/`).set(bearer(m.token));
      assert.deepEqual((await check()).body, { attended: false, attended_at: null, method: null });
      const first = await attend(w.event.id, m.token);
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.method, 'self');
      assert.equal(first.body.session_id, null);
      const again = await attend(w.event.id, m.token);
      assert.deepEqual(again.body, first.body);
      assert.deepEqual((await check()).body, {
        attended: true,
        attended_at: first.body.attended_at,
        method: 'self',
      });
    });

    it('a door check-in came first: the first record wins and is answered', async () => {
      const m = await createMember(t, w.event.id);
      const door = await t.http
        .post('/api/participants/scan/')
        .set(bearer(w.tokens.organisateur))
        .send({ qr_data: m.qr });
      assert.equal(door.body.status, 'granted');
      const res = await attend(w.event.id, m.token);
      assert.equal(res.body.method, 'door_scan');
    });

    it('before the start: 409 EVENT_NOT_STARTED with the seconds to wait; nothing written', async () => {
      const later = await createWorld(t, {
        startDate: new Date(Date.now() + 2 * HOUR),
        endDate: new Date(Date.now() + 5 * HOUR),
      });
      const m = await createMember(t, later.event.id);
      const res = await attend(later.event.id, m.token);
      assert.equal(res.status, 409);
      assert.equal(res.body.code, 'EVENT_NOT_STARTED');
      assert.ok(res.body.seconds_until_start > 7000 && res.body.seconds_until_start <= 7200, res.text);
      assert.equal(await rows(later.event.id), 0);
    });

    it('after the end: 409 EVENT_ENDED with the seconds since; a cancelled event: EVENT_CANCELLED', async () => {
      const past = await createWorld(t, {
        startDate: new Date(Date.now() - 5 * HOUR),
        endDate: new Date(Date.now() - HOUR),
      });
      const m = await createMember(t, past.event.id);
      const res = await attend(past.event.id, m.token);
      assert.equal(res.body.code, 'EVENT_ENDED');
      assert.ok(res.body.seconds_since_end >= 3600, res.text);
      const cancelled = await createWorld(t, { isCancelled: true });
      const c = await createMember(t, cancelled.event.id);
      assert.equal((await attend(cancelled.event.id, c.token)).body.code, 'EVENT_CANCELLED');
      assert.equal((await rows(past.event.id)) + (await rows(cancelled.event.id)), 0);
    });

    for (const role of NOT_PARTICIPANT) {
      it(`${role} is refused (403)`, async () => {
        expectError(await attend(w.event.id, w.tokens[role]), 403, 'FORBIDDEN');
      });
    }

    it('a participant without a badge: 403 NOT_A_PARTICIPANT; another event in the path: refused', async () => {
      expectError(await attend(w.event.id, w.tokens.participant), 403, 'NOT_A_PARTICIPANT');
      const other = await createWorld(t);
      const m = await createMember(t, w.event.id);
      const res = await attend(other.event.id, m.token);
      assert.ok([403, 404].includes(res.status), res.text);
      assert.equal(await rows(other.event.id), 0);
    });

    it('50 parallel attends by one participant write one record', async () => {
      const m = await createMember(t, w.event.id);
      const responses = await Promise.all(Array.from({ length: 50 }, () => fire(attend(w.event.id, m.token))));
      assert.deepEqual(tally(responses), { 200: 50 });
      assert.equal(new Set(responses.map((r) => r.body.id)).size, 1);
      assert.equal(
        await countRows(t, 'attendances', 'participant_id = $1 AND session_id IS NULL', [m.participant.id]),
        1,
      );
    });
  });

  describe('a session', () => {
    const session = async (startInHours: number, durationHours = 1) =>
      createSession(t, w.event.id, await createRoom(t, w.event.id), {
        start: new Date(Date.now() + startInHours * HOUR),
        end: new Date(Date.now() + (startInHours + durationHours) * HOUR),
      });
    const attendSession = (id: string, token: string, body: object = {}) =>
      t.http.post(`/api/sessions/${id}/attend/`).set(bearer(token)).send(body);

    it('before, during and after the session', async () => {
      const m = await createMember(t, w.event.id);
      const soon = await attendSession(await session(1), m.token);
      assert.equal(soon.body.code, 'SESSION_NOT_STARTED');
      assert.ok(soon.body.seconds_until_start > 3500, soon.text);
      const running = await session(-0.5);
      const ok = await attendSession(running, m.token, { latitude: 36.75, longitude: 3.06 });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.method, 'self');
      assert.equal(ok.body.session_id, running);
      assert.deepEqual((await attendSession(running, m.token)).body, ok.body);
      const over = await attendSession(await session(-3), m.token);
      assert.equal(over.body.code, 'SESSION_ENDED');
      assert.ok(over.body.seconds_since_end >= 7000, over.text);
    });

    it('already present (marked by staff): the record again, even after the end or with a code none asked for', async () => {
      const m = await createMember(t, w.event.id);
      const ended = await session(-3);
      const manual = await t.http
        .post(`/api/events/${w.event.id}/attendees/`)
        .set(bearer(w.tokens.organisateur))
        .send({ participant_id: m.participant.id, session_id: ended });
      assert.equal(manual.status, 201, manual.text);
      for (const body of [{}, { code: 'ABC123' }]) {
        const again = await attendSession(ended, m.token, body);
        assert.deepEqual([again.status, again.body.id, again.body.method], [200, manual.body.id, 'manual'], again.text);
      }
    });

    it('refuses a code while none is open, bad input, and other roles', async () => {
      const m = await createMember(t, w.event.id);
      const running = await session(-0.5);
      expectError(await attendSession(running, m.token, { code: 'ABC123' }), 409, 'CODE_NOT_OPEN');
      expectValidation(await attendSession(running, m.token, { latitude: 123 }), 'latitude');
      expectValidation(await attendSession(running, m.token, { extra: 1 }), 'extra');
      expectError(await attendSession(running, w.tokens.controlleur_des_badges), 403, 'FORBIDDEN');
      assert.equal(await countRows(t, 'attendances', 'session_id = $1', [running]), 0);
    });
  });

  describe('the attendance area (event coordinates and radius)', () => {
    // 0.001° of latitude is about 111 m.
    const site = { latitude: 36.7538, longitude: 3.0588 };
    const near = { latitude: 36.7548, longitude: 3.0588 };
    const far = { latitude: 36.7578, longitude: 3.0588 };
    let area: World;
    before(async () => {
      area = await createWorld(t);
      const res = await t.http
        .patch(`/api/events/${area.event.id}/`)
        .set(bearer(area.tokens.organisateur))
        .send({ ...site, attendance_radius: 200 });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual([res.body.latitude, res.body.longitude, res.body.attendance_radius], [36.7538, 3.0588, 200]);
    });
    const attendAt = (token: string, body?: object) => {
      const req = t.http.post(`/api/events/${area.event.id}/attend/`).set(bearer(token));
      return body ? req.send(body) : req;
    };

    it('the event: no position → 400 LOCATION_REQUIRED; outside → 409 OUT_OF_AREA with figures; inside → kept', async () => {
      const m = await createMember(t, area.event.id);
      expectError(await attendAt(m.token), 400, 'LOCATION_REQUIRED');
      const out = await attendAt(m.token, far);
      assert.deepEqual(
        [out.status, out.body.code, out.body.distance_m, out.body.radius_m],
        [409, 'OUT_OF_AREA', 445, 200],
      );
      assert.equal(await rows(area.event.id), 0, 'nothing written by the refusals');
      expectValidation(await attendAt(m.token, { latitude: '36.7548', longitude: '3.0588' }), 'latitude', 'longitude');
      const ok = await attendAt(m.token, near);
      assert.equal(ok.status, 200, ok.text);
      // Present already: the same record again, from anywhere and without a position.
      assert.deepEqual((await attendAt(m.token)).body, ok.body);
      assert.deepEqual((await attendAt(m.token, far)).body, ok.body);
      const [kept]: { latitude: string; distance_m: number }[] = await t.db.query(
        'SELECT latitude, distance_m FROM attendances WHERE id = $1',
        [ok.body.id],
      );
      assert.deepEqual([Number(kept?.latitude), kept?.distance_m], [36.7548, 111]);
    });

    it('a session: the same rule, checked before a code guess is counted; staff marking is not bound by it', async () => {
      const m = await createMember(t, area.event.id);
      const s = await createSession(t, area.event.id, await createRoom(t, area.event.id), {
        start: new Date(Date.now() - HOUR / 2),
        end: new Date(Date.now() + HOUR),
      });
      await t.http
        .post(`/api/sessions/${s}/attendance-code/`)
        .set(bearer(area.tokens.organisateur))
        .send({})
        .expect(201);
      const send = (body: object) => t.http.post(`/api/sessions/${s}/attend/`).set(bearer(m.token)).send(body);
      assert.equal((await send({ code: 'WRONG1', ...far })).body.code, 'OUT_OF_AREA');
      expectError(await send({ code: 'WRONG1' }), 400, 'LOCATION_REQUIRED');
      assert.equal(await countRows(t, 'attendance_code_attempts', 'session_id = $1', [s]), 0, 'no guess counted');
      const [{ secret, rotates_every }]: { secret: string; rotates_every: number }[] = await t.db.query(
        'SELECT secret, rotates_every FROM attendance_codes WHERE session_id = $1',
        [s],
      );
      const code = codeFor(secret, s, windowAt(new Date(), rotates_every));
      const marked = await send({ code, ...near });
      assert.deepEqual([marked.status, marked.body.method], [200, 'code'], marked.text);
      assert.deepEqual((await send({})).body, marked.body, 'present already: no code, no position needed');
      const manual = await t.http
        .post(`/api/events/${area.event.id}/attendees/`)
        .set(bearer(area.tokens.gestionnaire_des_salles))
        .send({ participant_id: (await createMember(t, area.event.id)).participant.id, session_id: s });
      assert.equal(manual.status, 201, manual.text);
    });

    it('coordinates come in pairs and a radius needs them (400, nothing changed); null removes the area', async () => {
      const patch = (body: object) =>
        t.http.patch(`/api/events/${area.event.id}/`).set(bearer(area.tokens.organisateur)).send(body);
      expectValidation(await patch({ latitude: null }), 'latitude');
      expectValidation(await patch({ latitude: 91 }), 'latitude');
      expectValidation(await patch({ attendance_radius: 0 }), 'attendance_radius');
      const other = await createWorld(t);
      expectValidation(
        await t.http
          .patch(`/api/events/${other.event.id}/`)
          .set(bearer(other.tokens.organisateur))
          .send({ attendance_radius: 50 }),
        'attendance_radius',
      );
      const [{ n }]: { n: number }[] = await t.db.query(
        'SELECT count(*)::int AS n FROM events WHERE id = $1 AND attendance_radius = 200 AND latitude = 36.7538',
        [area.event.id],
      );
      assert.equal(n, 1);
      expectError(
        await t.http
          .patch(`/api/events/${area.event.id}/`)
          .set(bearer(area.tokens.gestionnaire_des_salles))
          .send({ attendance_radius: 5 }),
        403,
        'FORBIDDEN',
      );
      const cleared = await patch({ latitude: null, longitude: null, attendance_radius: null });
      assert.equal(cleared.status, 200, cleared.text);
      const m = await createMember(t, area.event.id);
      assert.equal((await attendAt(m.token)).status, 200, 'anywhere again');
    });
  });

  describe('the ledger: manual marking, listing, removal with a reason', () => {
    const attendees = (token: string, query = '') =>
      t.http.get(`/api/events/${w.event.id}/attendees/${query}`).set(bearer(token));
    const mark = (token: string, body: object) =>
      t.http.post(`/api/events/${w.event.id}/attendees/`).set(bearer(token)).send(body);

    for (const role of ['organisateur', 'gestionnaire_des_salles'] as EventRole[]) {
      it(`${role} marks someone present: 201 manual with who; again: 200 the same record`, async () => {
        const m = await createMember(t, w.event.id);
        const first = await mark(w.tokens[role], { participant_id: m.participant.id, note: 'Lost badge' });
        assert.equal(first.status, 201, first.text);
        assert.equal(first.body.method, 'manual');
        assert.equal(first.body.marked_by, w.users[role].id);
        assert.match(first.body.marked_by_name, new RegExp(`^${role} `));
        assert.equal(first.body.note, 'Lost badge');
        const again = await mark(w.tokens[role], { participant_id: m.participant.id });
        assert.equal(again.status, 200);
        assert.equal(again.body.id, first.body.id);
        const listed = await attendees(w.tokens[role], '?method=manual&page_size=100');
        assert.ok((listed.body.results as { id: string }[]).some((a) => a.id === first.body.id));
      });
    }

    for (const role of ['controlleur_des_badges', 'exposant', 'participant'] as EventRole[]) {
      it(`${role} neither marks nor lists (403), nothing written`, async () => {
        const m = await createMember(t, w.event.id);
        expectError(await mark(w.tokens[role], { participant_id: m.participant.id }), 403, 'FORBIDDEN');
        expectError(await attendees(w.tokens[role]), 403, 'FORBIDDEN');
        assert.equal(await countRows(t, 'attendances', 'participant_id = $1', [m.participant.id]), 0);
      });
    }

    it('marks a session, and refuses badges or sessions of another event', async () => {
      const m = await createMember(t, w.event.id);
      const s = await createSession(t, w.event.id, await createRoom(t, w.event.id));
      const res = await mark(w.tokens.organisateur, { participant_id: m.participant.id, session_id: s });
      assert.equal(res.status, 201);
      assert.equal(res.body.session, s);
      const list = await t.http.get(`/api/sessions/${s}/attendees/`).set(bearer(w.tokens.controlleur_des_badges));
      assert.deepEqual(
        (list.body.results as { id: string }[]).map((a) => a.id),
        [res.body.id],
      );
      const other = await createWorld(t);
      const stranger = await createMember(t, other.event.id);
      expectValidation(
        await mark(w.tokens.organisateur, { participant_id: stranger.participant.id }),
        'participant_id',
      );
      const foreignSession = await createSession(t, other.event.id, await createRoom(t, other.event.id));
      expectValidation(
        await mark(w.tokens.organisateur, { participant_id: m.participant.id, session_id: foreignSession }),
        'session_id',
      );
      expectError(
        await t.http.get(`/api/sessions/${foreignSession}/attendees/`).set(bearer(w.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
    });

    it('removal needs a reason, is for organisateurs, and leaves an audit row', async () => {
      const m = await createMember(t, w.event.id);
      const id = (await mark(w.tokens.gestionnaire_des_salles, { participant_id: m.participant.id })).body.id as string;
      const del = (token: string, body: object) =>
        t.http.delete(`/api/events/${w.event.id}/attendees/${id}/`).set(bearer(token)).send(body);
      expectValidation(await del(w.tokens.organisateur, {}), 'reason');
      expectError(await del(w.tokens.gestionnaire_des_salles, { reason: 'x' }), 403, 'FORBIDDEN');
      assert.equal(await countRows(t, 'attendances', 'id = $1', [id]), 1);
      assert.equal((await del(w.tokens.organisateur, { reason: 'Marked by mistake' })).status, 204);
      assert.equal(await countRows(t, 'attendances', 'id = $1', [id]), 0);
      const [audit] = await t.db.query(
        'SELECT reason, removed_by_id, method FROM attendance_removals WHERE attendance_id = $1',
        [id],
      );
      assert.deepEqual(audit, {
        reason: 'Marked by mistake',
        removed_by_id: w.users.organisateur.id,
        method: 'manual',
      });
      expectError(await del(w.tokens.organisateur, { reason: 'again' }), 404, 'NOT_FOUND');
    });
  });

  describe('attendance.csv', () => {
    const csv = (token: string, query = '') =>
      t.http.get(`/api/events/${w.event.id}/attendance.csv${query}`).set(bearer(token)).buffer(true).parse(binary);

    it('streams the ledger for organisateurs only, formula-safe, with filters and a BOM on request', async () => {
      const evil = await createMember(t, w.event.id, 'participant', { firstName: '=HYPERLINK("x")', lastName: 'Doe' });
      await t.http
        .post(`/api/events/${w.event.id}/attendees/`)
        .set(bearer(w.tokens.organisateur))
        .send({ participant_id: evil.participant.id, note: '+1 guest' });
      const res = await csv(w.tokens.organisateur, '?method=manual');
      assert.equal(res.status, 200, String(res.body));
      assert.match(String(res.headers['content-type']), /^text\/csv/);
      assert.equal(res.headers['cache-control'], 'no-store');
      const text = (res.body as Buffer).toString('utf8');
      assert.notEqual(text.charCodeAt(0), 0xfeff, 'no BOM unless asked');
      const lines = text.trim().split('\n');
      assert.equal(
        lines[0],
        'badge_id,full_name,email,session_id,session_title,method,attended_at,marked_by,latitude,longitude,note',
      );
      const row = lines.find((l) => l.includes('HYPERLINK')) as string;
      assert.match(row, /,"'=HYPERLINK\(""x""\) Doe",/, row);
      assert.match(row, /,'\+1 guest$/, row);
      assert.ok(lines.slice(1).every((l) => l.includes(',manual,')));
      const withBom = await csv(w.tokens.organisateur, '?bom=true');
      assert.equal((withBom.body as Buffer).toString('utf8').charCodeAt(0), 0xfeff);
      for (const role of ['gestionnaire_des_salles', 'participant'] as EventRole[]) {
        expectError(
          await t.http.get(`/api/events/${w.event.id}/attendance.csv`).set(bearer(w.tokens[role])),
          403,
          'FORBIDDEN',
        );
      }
    });

    it('100,000 rows stream out whole (the memory figure is printed)', async () => {
      const big = await createWorld(t);
      const room = await createRoom(t, big.event.id);
      await t.db.query(
        `INSERT INTO users (email, first_name, last_name)
         SELECT 'csv-' || $1::text || '-' || i || '@example.org', 'Person', i::text FROM generate_series(1, 1000) AS i`,
        [big.event.id],
      );
      await t.db.query(
        `INSERT INTO user_event_assignments (event_id, user_id, role)
         SELECT $1::uuid, id, 'participant' FROM users WHERE email LIKE 'csv-' || $1::text || '-%'`,
        [big.event.id],
      );
      await t.db.query(
        `INSERT INTO participants (event_id, user_id, badge_id, qr_salt, qr_hash)
         SELECT $1::uuid, u.id, 'B' || lpad(row_number() OVER ()::text, 6, '0'), md5(u.id::text),
                encode(sha256(u.id::text::bytea), 'hex')
           FROM users u WHERE u.email LIKE 'csv-' || $1::text || '-%'`,
        [big.event.id],
      );
      await t.db.query(
        `INSERT INTO sessions (event_id, room_id, title, start_time, end_time)
         SELECT $1, $2, 'S' || i, now() + make_interval(hours => i), now() + make_interval(hours => i, mins => 30)
           FROM generate_series(1, 100) AS i`,
        [big.event.id, room],
      );
      await t.db.query(
        `INSERT INTO attendances (event_id, participant_id, session_id, method, attended_at)
         SELECT $1, p.id, s.id, 'self', now() FROM participants p CROSS JOIN sessions s
          WHERE p.event_id = $1 AND s.event_id = $1`,
        [big.event.id],
      );
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const started = Date.now();
      const res = await t.http
        .get(`/api/events/${big.event.id}/attendance.csv`)
        .set(bearer(big.tokens.organisateur))
        .buffer(true)
        .parse(binary);
      clearInterval(sampler);
      const body = res.body as Buffer;
      const lines = body.toString('utf8').trim().split('\n').length;
      assert.equal(lines, 100_001);
      // Client and server share this process: the peak includes the 12 MB the test itself buffers.
      const mb = (n: number) => (n / 1048576).toFixed(0);
      process.stdout.write(
        `# attendance.csv: 100,000 rows, ${mb(body.length)} MB in ${Date.now() - started} ms; ` +
          `RSS ${mb(before)} MB before, ${mb(peak)} MB peak\n`,
      );
    });
  });

  describe('rotating codes', () => {
    const running = async () =>
      createSession(t, w.event.id, await createRoom(t, w.event.id), {
        start: new Date(Date.now() - HOUR / 2),
        end: new Date(Date.now() + HOUR),
      });
    const open = (id: string, token: string, body: object = {}) =>
      t.http.post(`/api/sessions/${id}/attendance-code/`).set(bearer(token)).send(body);
    const attendSession = (id: string, token: string, body: object = {}) =>
      t.http.post(`/api/sessions/${id}/attend/`).set(bearer(token)).send(body);

    it('staff open, show and close it; other roles cannot', async () => {
      const s = await running();
      for (const role of ['controlleur_des_badges', 'exposant', 'participant'] as EventRole[]) {
        expectError(await open(s, w.tokens[role]), 403, 'FORBIDDEN');
      }
      const opened = await open(s, w.tokens.gestionnaire_des_salles, { rotates_every: 30 });
      assert.equal(opened.status, 201, opened.text);
      assert.match(opened.body.code, /^[A-HJKMNP-Z2-9]{6}$/);
      assert.equal(opened.body.rotates_every, 30);
      const shown = await t.http
        .get(`/api/sessions/${s}/attendance-code/`)
        .set(bearer(w.tokens.controlleur_des_badges));
      assert.equal(shown.body.code, opened.body.code);
      expectError(
        await t.http.get(`/api/sessions/${s}/attendance-code/`).set(bearer(w.tokens.participant)),
        403,
        'FORBIDDEN',
      );
      expectValidation(await open(s, w.tokens.organisateur, { rotates_every: 5 }), 'rotates_every');
      assert.equal(
        (await t.http.delete(`/api/sessions/${s}/attendance-code/`).set(bearer(w.tokens.organisateur))).status,
        204,
      );
      expectError(
        await t.http.get(`/api/sessions/${s}/attendance-code/`).set(bearer(w.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
    });

    it('the current and the previous code are accepted (method code); an older one, none or a wrong one are not', async () => {
      const s = await running();
      await open(s, w.tokens.organisateur, { rotates_every: 30 });
      const [{ secret }] = await t.db.query('SELECT secret FROM attendance_codes WHERE session_id = $1', [s]);
      const now = windowAt(new Date(), 30);
      const [a, b, c] = [
        await createMember(t, w.event.id),
        await createMember(t, w.event.id),
        await createMember(t, w.event.id),
      ];
      expectError(await attendSession(s, a.token), 400, 'CODE_REQUIRED');
      expectError(await attendSession(s, a.token, { code: codeFor(secret, s, now - 2) }), 400, 'CODE_INVALID');
      const ok = await attendSession(s, a.token, { code: codeFor(secret, s, now).toLowerCase() });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.method, 'code');
      assert.equal((await attendSession(s, b.token, { code: codeFor(secret, s, now - 1) })).body.method, 'code');
      assert.equal(
        await countRows(t, 'attendances', 'session_id = $1 AND participant_id = $2', [s, c.participant.id]),
        0,
      );
    });

    it('50 parallel wrong guesses: exactly 5 compared (CODE_INVALID), 45 refused with 429; a naive counter loses some', async () => {
      const s = await running();
      await open(s, w.tokens.organisateur);
      const m = await createMember(t, w.event.id);
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => fire(attendSession(s, m.token, { code: 'WRONG1' }))),
      );
      assert.deepEqual(tally(responses), { 400: 5, 429: 45 });
      const [{ attempts }] = await t.db.query(
        'SELECT attempts FROM attendance_code_attempts WHERE session_id = $1 AND participant_id = $2',
        [s, m.participant.id],
      );
      assert.equal(attempts, 5);
      // Even the right code is refused now.
      const [{ secret }] = await t.db.query('SELECT secret FROM attendance_codes WHERE session_id = $1', [s]);
      const right = codeFor(secret, s, windowAt(new Date(), 45));
      expectError(await attendSession(s, m.token, { code: right }), 429, 'RATE_LIMITED');

      // Negative control: read the count, then write it plus one, 50 times in parallel.
      await t.db.query('UPDATE attendance_code_attempts SET attempts = 0 WHERE session_id = $1', [s]);
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          const [row] = await t.db.query('SELECT attempts FROM attendance_code_attempts WHERE session_id = $1', [s]);
          await new Promise((r) => setTimeout(r, 5));
          await t.db.query('UPDATE attendance_code_attempts SET attempts = $2 WHERE session_id = $1', [
            s,
            row.attempts + 1,
          ]);
        }),
      );
      const [naive] = await t.db.query('SELECT attempts FROM attendance_code_attempts WHERE session_id = $1', [s]);
      assert.ok(naive.attempts < 50, `a naive counter ended at ${naive.attempts}`);
    });
  });
});
