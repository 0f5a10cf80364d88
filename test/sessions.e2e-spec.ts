import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'supertest';
import type { EventRole } from '../src/common/auth/event-role';
import { bearer, countRows, createWorld, uniq, type World } from './helpers/factories';
import { expectError, expectValidation } from './helpers/assertions';
import { fire, tally } from './helpers/requests';
import { bootTestApp, type TestApp } from './helpers/test-app';

const SESSION_KEYS = [
  'id',
  'event',
  'room',
  'room_name',
  'title',
  'description',
  'start_time',
  'end_time',
  'speaker_name',
  'speaker_title',
  'speaker_bio',
  'speaker_photo_url',
  'theme',
  'status',
  'session_type',
  'is_paid',
  'price',
  'capacity',
  'youtube_live_url',
  'cover_image_url',
  'metadata',
  'is_live',
  'duration_minutes',
  'created_at',
  'updated_at',
].sort();
const UNKNOWN_ID = '6f1c1c2e-1111-4111-8111-111111111111';
const READ_ONLY_ROLES: EventRole[] = ['controlleur_des_badges', 'exposant', 'participant'];
const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A fixed day far from now: sessions are not bound to the clock, and each test uses its own rooms. */
const DAY = '2030-03-10';
const at = (hhmm: string, day = DAY): string => `${day}T${hhmm}:00.000Z`;

type Body = Record<string, unknown>;

function assertSessionShape(body: Record<string, unknown>): void {
  assert.deepEqual(Object.keys(body).sort(), SESSION_KEYS);
  for (const key of ['start_time', 'end_time', 'created_at', 'updated_at']) assert.match(String(body[key]), ISO_Z, key);
}

describe('sessions', () => {
  let t: TestApp;

  /** A room inserted directly (the rooms API is another module). */
  const createRoom = async (eventId: string, name = uniq('Room ')): Promise<string> => {
    const rows: { id: string }[] = await t.db.query(
      'INSERT INTO rooms (event_id, name, capacity) VALUES ($1, $2, 100) RETURNING id',
      [eventId, name],
    );
    return (rows[0] as { id: string }).id;
  };

  const validBody = (roomId: string, extra: Body = {}): Body => ({
    room_id: roomId,
    title: uniq('Talk '),
    start_time: at('09:00'),
    end_time: at('10:00'),
    ...extra,
  });

  const createSession = async (w: World, body: Body): Promise<Record<string, unknown>> => {
    const res = await t.http.post('/api/sessions/').set(bearer(w.tokens.organisateur)).send(body);
    assert.equal(res.status, 201, res.text);
    return res.body as Record<string, unknown>;
  };

  /** All session rows of an event as JSON, for "nothing changed" assertions. */
  const snapshot = async (eventId: string): Promise<unknown[]> => {
    const rows: { row: unknown }[] = await t.db.query(
      'SELECT to_jsonb(s) AS row FROM sessions s WHERE event_id = $1 ORDER BY id',
      [eventId],
    );
    return rows.map((r) => r.row);
  };

  const statusOf = async (id: string): Promise<string | undefined> => {
    const rows: { status: string }[] = await t.db.query('SELECT status FROM sessions WHERE id = $1', [id]);
    return rows[0]?.status;
  };

  const ids = (res: Response): string[] => (res.body.results as { id: string }[]).map((s) => s.id);

  before(async () => {
    t = await bootTestApp();
  });
  after(() => t.close());

  describe('organisateur', () => {
    let w: World;
    before(async () => {
      w = await createWorld(t);
    });

    it('POST with every field: 201 with exactly the documented keys and values', async () => {
      const roomId = await createRoom(w.event.id, uniq('Salle A '));
      const body = validBody(roomId, {
        title: '  Atelier IA  ',
        description: 'Mains dans le code',
        start_time: '2030-03-10T10:00:00+01:00',
        end_time: at('10:30'),
        speaker_name: 'Amina B.',
        speaker_title: 'CTO',
        speaker_bio: 'Builds things',
        speaker_photo_url: 'https://cdn.example.com/amina.png',
        cover_image_url: 'http://cdn.example.com/cover.jpg',
        youtube_live_url: 'https://www.youtube.com/watch?v=abc123',
        theme: 'ia',
        session_type: 'atelier',
        is_paid: true,
        price: '5000',
        capacity: 25,
        metadata: { level: 'beginner' },
      });
      const s = await createSession(w, body);
      assertSessionShape(s);
      const rooms: { name: string }[] = await t.db.query('SELECT name FROM rooms WHERE id = $1', [roomId]);
      assert.deepEqual(
        { ...s, id: undefined, created_at: undefined, updated_at: undefined },
        {
          id: undefined,
          event: w.event.id,
          room: roomId,
          room_name: rooms[0]?.name,
          title: 'Atelier IA',
          description: 'Mains dans le code',
          start_time: at('09:00'),
          end_time: at('10:30'),
          speaker_name: 'Amina B.',
          speaker_title: 'CTO',
          speaker_bio: 'Builds things',
          speaker_photo_url: 'https://cdn.example.com/amina.png',
          theme: 'ia',
          status: 'scheduled',
          session_type: 'atelier',
          is_paid: true,
          price: '5000.00',
          capacity: 25,
          youtube_live_url: 'https://www.youtube.com/watch?v=abc123',
          cover_image_url: 'http://cdn.example.com/cover.jpg',
          metadata: { level: 'beginner' },
          is_live: false,
          duration_minutes: 90,
          created_at: undefined,
          updated_at: undefined,
        },
      );
      const one = await t.http
        .get(`/api/sessions/${String(s.id)}/`)
        .set(bearer(w.tokens.organisateur))
        .expect(200);
      assert.deepEqual(one.body, s);
    });

    it('POST with the required fields only: defaults (free conference, empty texts, null URLs)', async () => {
      const roomId = await createRoom(w.event.id);
      const s = await createSession(w, validBody(roomId));
      assertSessionShape(s);
      assert.equal(s.session_type, 'conference');
      assert.equal(s.status, 'scheduled');
      assert.equal(s.is_paid, false);
      assert.equal(s.price, null);
      assert.equal(s.capacity, null);
      assert.equal(s.description, '');
      assert.equal(s.speaker_name, '');
      assert.equal(s.theme, '');
      assert.equal(s.youtube_live_url, null);
      assert.equal(s.speaker_photo_url, null);
      assert.deepEqual(s.metadata, {});
      assert.equal(s.duration_minutes, 60);
    });

    it('GET /{id}/: malformed id 400, unknown id 404', async () => {
      expectValidation(await t.http.get('/api/sessions/not-a-uuid/').set(bearer(w.tokens.organisateur)), 'id');
      expectError(
        await t.http.get(`/api/sessions/${UNKNOWN_ID}/`).set(bearer(w.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
    });

    it('PATCH changes the fields sent and keeps the others; PUT needs the required fields', async () => {
      const roomId = await createRoom(w.event.id);
      const otherRoom = await createRoom(w.event.id);
      const s = await createSession(w, validBody(roomId, { speaker_name: 'Kept', theme: 'web' }));
      const patched = await t.http
        .patch(`/api/sessions/${String(s.id)}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ title: 'Renamed', end_time: at('11:00'), youtube_live_url: 'https://youtu.be/x' })
        .expect(200);
      assertSessionShape(patched.body);
      assert.equal(patched.body.title, 'Renamed');
      assert.equal(patched.body.end_time, at('11:00'));
      assert.equal(patched.body.duration_minutes, 120);
      assert.equal(patched.body.speaker_name, 'Kept');
      assert.equal(patched.body.youtube_live_url, 'https://youtu.be/x');
      assert.ok(new Date(patched.body.updated_at).getTime() >= new Date(String(s.updated_at)).getTime());

      // A URL is cleared with null.
      const cleared = await t.http
        .patch(`/api/sessions/${String(s.id)}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ youtube_live_url: null })
        .expect(200);
      assert.equal(cleared.body.youtube_live_url, null);

      const before = await snapshot(w.event.id);
      expectValidation(
        await t.http
          .put(`/api/sessions/${String(s.id)}/`)
          .set(bearer(w.tokens.organisateur))
          .send({ title: 'No times' }),
        'room_id',
        'start_time',
        'end_time',
      );
      assert.deepEqual(await snapshot(w.event.id), before);

      const put = await t.http
        .put(`/api/sessions/${String(s.id)}/`)
        .set(bearer(w.tokens.organisateur))
        .send(validBody(otherRoom, { title: 'Replaced', start_time: at('14:00'), end_time: at('15:00') }))
        .expect(200);
      assert.equal(put.body.room, otherRoom);
      assert.equal(put.body.title, 'Replaced');
      assert.equal(put.body.start_time, at('14:00'));
    });

    it('PATCH is_paid false on a paid atelier clears its price; switching to conference with seats is refused', async () => {
      const roomId = await createRoom(w.event.id);
      const s = await createSession(
        w,
        validBody(roomId, { session_type: 'atelier', is_paid: true, price: '1500.50', capacity: 10 }),
      );
      const free = await t.http
        .patch(`/api/sessions/${String(s.id)}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ is_paid: false })
        .expect(200);
      assert.equal(free.body.is_paid, false);
      assert.equal(free.body.price, null);
      assert.equal(free.body.capacity, 10);

      const before = await snapshot(w.event.id);
      expectValidation(
        await t.http
          .patch(`/api/sessions/${String(s.id)}/`)
          .set(bearer(w.tokens.organisateur))
          .send({ session_type: 'conference' }),
        'capacity',
      );
      expectValidation(
        await t.http
          .patch(`/api/sessions/${String(s.id)}/`)
          .set(bearer(w.tokens.organisateur))
          .send({ is_paid: true }),
        'price',
      );
      expectValidation(
        await t.http
          .patch(`/api/sessions/${String(s.id)}/`)
          .set(bearer(w.tokens.organisateur))
          .send({ start_time: at('12:00') }),
        'end_time',
      );
      assert.deepEqual(await snapshot(w.event.id), before);

      const conference = await t.http
        .patch(`/api/sessions/${String(s.id)}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ session_type: 'conference', capacity: null })
        .expect(200);
      assert.equal(conference.body.session_type, 'conference');
      assert.equal(conference.body.capacity, null);
    });

    it('PATCH with status (or another read-only field) is a 400 and nothing changes', async () => {
      const roomId = await createRoom(w.event.id);
      const s = await createSession(w, validBody(roomId));
      const before = await snapshot(w.event.id);
      for (const body of [
        { status: 'live' },
        { status: 'cancelled', title: 'x' },
        { is_live: true },
        { event: UNKNOWN_ID },
        { id: UNKNOWN_ID },
        { duration_minutes: 5 },
        { title: null },
        { start_time: null },
        { metadata: null },
      ]) {
        const res = await t.http
          .patch(`/api/sessions/${String(s.id)}/`)
          .set(bearer(w.tokens.organisateur))
          .send(body);
        expectValidation(res, Object.keys(body)[0] as string);
      }
      assert.deepEqual(await snapshot(w.event.id), before);
      assert.equal(await statusOf(String(s.id)), 'scheduled');
    });

    it('DELETE: 204, then 404 and the row is gone; unknown id 404', async () => {
      const roomId = await createRoom(w.event.id);
      const s = await createSession(w, validBody(roomId));
      await t.http
        .delete(`/api/sessions/${String(s.id)}/`)
        .set(bearer(w.tokens.organisateur))
        .expect(204);
      assert.equal(await countRows(t, 'sessions', 'id = $1', [s.id]), 0);
      expectError(
        await t.http.get(`/api/sessions/${String(s.id)}/`).set(bearer(w.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
      expectError(
        await t.http.delete(`/api/sessions/${String(s.id)}/`).set(bearer(w.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
    });

    it('a room of another event (or no room) in room_id is a 400 naming room_id; nothing written', async () => {
      const other = await createWorld(t);
      const foreignRoom = await createRoom(other.event.id);
      const ownRoom = await createRoom(w.event.id);
      const s = await createSession(w, validBody(ownRoom));
      const before = await snapshot(w.event.id);
      const foreignBefore = await snapshot(other.event.id);
      for (const roomId of [foreignRoom, UNKNOWN_ID]) {
        expectValidation(
          await t.http.post('/api/sessions/').set(bearer(w.tokens.organisateur)).send(validBody(roomId)),
          'room_id',
        );
        expectValidation(
          await t.http
            .patch(`/api/sessions/${String(s.id)}/`)
            .set(bearer(w.tokens.organisateur))
            .send({ room_id: roomId }),
          'room_id',
        );
      }
      assert.deepEqual(await snapshot(w.event.id), before);
      assert.deepEqual(await snapshot(other.event.id), foreignBefore);
      assert.equal(await countRows(t, 'sessions', 'room_id = $1', [foreignRoom]), 0);
    });
  });

  describe('validation', () => {
    let w: World;
    let roomId: string;
    before(async () => {
      w = await createWorld(t);
      roomId = await createRoom(w.event.id);
    });

    const atelier = { session_type: 'atelier' };
    const cases: [string, Body, string[]][] = [
      ['javascript: URL', { speaker_photo_url: 'javascript:alert(1)' }, ['speaker_photo_url']],
      ['ftp: URL', { youtube_live_url: 'ftp://example.com/live' }, ['youtube_live_url']],
      ['data: URL', { cover_image_url: 'data:image/png;base64,AAAA' }, ['cover_image_url']],
      ['URL without scheme', { youtube_live_url: 'www.youtube.com/watch?v=x' }, ['youtube_live_url']],
      ['free text as URL', { cover_image_url: 'not a url' }, ['cover_image_url']],
      ['URL as a number', { cover_image_url: 42 }, ['cover_image_url']],
      ['URL longer than 500', { cover_image_url: `https://example.com/${'a'.repeat(500)}` }, ['cover_image_url']],
      ['negative price', { ...atelier, is_paid: true, price: '-1.00' }, ['price']],
      ['price with 3 decimals', { ...atelier, is_paid: true, price: '5.123' }, ['price']],
      ['price as a number', { ...atelier, is_paid: true, price: 5000 }, ['price']],
      ['price as text', { ...atelier, is_paid: true, price: 'free' }, ['price']],
      ['price too large', { ...atelier, is_paid: true, price: '12345678901.00' }, ['price']],
      ['paid without price', { ...atelier, is_paid: true }, ['price']],
      ['paid with null price', { ...atelier, is_paid: true, price: null }, ['price']],
      ['price on a free session', { ...atelier, price: '10.00' }, ['price']],
      ['paid conference', { is_paid: true, price: '10.00' }, ['is_paid']],
      ['capacity on a conference', { capacity: 10 }, ['capacity']],
      ['capacity 0', { ...atelier, capacity: 0 }, ['capacity']],
      ['capacity not an integer', { ...atelier, capacity: 2.5 }, ['capacity']],
      ['end before start', { start_time: at('10:00'), end_time: at('09:00') }, ['end_time']],
      ['end equal to start', { start_time: at('10:00'), end_time: at('10:00') }, ['end_time']],
      ['start without offset', { start_time: '2030-03-10T09:00:00' }, ['start_time']],
      ['start as a number', { start_time: 0 }, ['start_time']],
      ['impossible date', { end_time: '2030-02-30T10:00:00Z' }, ['end_time']],
      ['status in body', { status: 'live' }, ['status']],
      ['is_live in body', { is_live: true }, ['is_live']],
      ['id in body', { id: UNKNOWN_ID }, ['id']],
      ['event in body', { event: UNKNOWN_ID }, ['event']],
      ['unknown field', { foo: 'bar' }, ['foo']],
      ['blank title', { title: '   ' }, ['title']],
      ['title too long', { title: 'x'.repeat(256) }, ['title']],
      ['unknown session_type', { session_type: 'keynote' }, ['session_type']],
      ['is_paid as a string', { is_paid: 'true' }, ['is_paid']],
      ['metadata as an array', { metadata: [1] }, ['metadata']],
      ['metadata as a string', { metadata: 'x' }, ['metadata']],
      ['malformed room_id', { room_id: 'abc' }, ['room_id']],
      ['description null', { description: null }, ['description']],
    ];
    for (const [label, extra, fields] of cases) {
      it(`POST with ${label}: 400 VALIDATION_FAILED, nothing written`, async () => {
        const res = await t.http
          .post('/api/sessions/')
          .set(bearer(w.tokens.organisateur))
          .send(validBody(roomId, extra));
        expectValidation(res, ...fields);
        assert.equal(await countRows(t, 'sessions', 'event_id = $1', [w.event.id]), 0);
      });
    }

    it('POST without the required fields names each of them', async () => {
      expectValidation(
        await t.http.post('/api/sessions/').set(bearer(w.tokens.organisateur)).send({}),
        'room_id',
        'title',
        'start_time',
        'end_time',
      );
      assert.equal(await countRows(t, 'sessions', 'event_id = $1', [w.event.id]), 0);
    });

    it('accepts a free atelier with seats, a price of "0", and http and https URLs', async () => {
      const seats = await createSession(w, validBody(roomId, { ...atelier, capacity: 30 }));
      assert.equal(seats.capacity, 30);
      assert.equal(seats.is_paid, false);
      const zero = await createSession(
        w,
        validBody(roomId, {
          ...atelier,
          is_paid: true,
          price: '0',
          start_time: at('12:00'),
          end_time: at('13:00'),
          speaker_photo_url: 'http://example.com/p.png',
        }),
      );
      assert.equal(zero.price, '0.00');
      assert.equal(zero.speaker_photo_url, 'http://example.com/p.png');
    });
  });

  describe('overlap in a room', () => {
    let w: World;
    before(async () => {
      w = await createWorld(t);
    });

    it('an overlapping session in the same room is a 409 SESSION_OVERLAP; other rooms and touching slots are fine', async () => {
      const roomA = await createRoom(w.event.id);
      const roomB = await createRoom(w.event.id);
      await createSession(w, validBody(roomA, { start_time: at('10:00'), end_time: at('11:00') }));
      for (const [start, end] of [
        ['10:30', '11:30'],
        ['09:30', '10:01'],
        ['10:15', '10:45'],
        ['09:00', '12:00'],
        ['10:00', '11:00'],
      ] as const) {
        const res = await t.http
          .post('/api/sessions/')
          .set(bearer(w.tokens.organisateur))
          .send(validBody(roomA, { start_time: at(start), end_time: at(end) }));
        expectError(res, 409, 'SESSION_OVERLAP');
      }
      assert.equal(await countRows(t, 'sessions', 'room_id = $1', [roomA]), 1);
      // Touching intervals: one ends when the next starts.
      await createSession(w, validBody(roomA, { start_time: at('11:00'), end_time: at('12:00') }));
      await createSession(w, validBody(roomA, { start_time: at('09:00'), end_time: at('10:00') }));
      // The same slot in another room.
      await createSession(w, validBody(roomB, { start_time: at('10:30'), end_time: at('11:30') }));
      assert.equal(await countRows(t, 'sessions', 'room_id = $1', [roomA]), 3);
    });

    it('a cancelled session does not block its slot, and cannot be reinstated', async () => {
      const room = await createRoom(w.event.id);
      const first = await createSession(w, validBody(room, { start_time: at('14:00'), end_time: at('15:00') }));
      await t.http
        .post(`/api/sessions/${String(first.id)}/cancel/`)
        .set(bearer(w.tokens.organisateur))
        .expect(200);
      const replacement = await createSession(w, validBody(room, { start_time: at('14:30'), end_time: at('15:30') }));
      assert.equal(replacement.status, 'scheduled');
      expectError(
        await t.http.post(`/api/sessions/${String(first.id)}/mark_live/`).set(bearer(w.tokens.organisateur)),
        409,
        'INVALID_TRANSITION',
      );
      assert.equal(await statusOf(String(first.id)), 'cancelled');
    });

    it('PATCH/PUT moving a session onto another (by time or by room) is a 409 and nothing changes', async () => {
      const roomA = await createRoom(w.event.id);
      const roomB = await createRoom(w.event.id);
      await createSession(w, validBody(roomA, { start_time: at('16:00'), end_time: at('17:00') }));
      const later = await createSession(w, validBody(roomA, { start_time: at('17:00'), end_time: at('18:00') }));
      const elsewhere = await createSession(w, validBody(roomB, { start_time: at('16:30'), end_time: at('17:30') }));
      const before = await snapshot(w.event.id);
      expectError(
        await t.http
          .patch(`/api/sessions/${String(later.id)}/`)
          .set(bearer(w.tokens.organisateur))
          .send({ start_time: at('16:59') }),
        409,
        'SESSION_OVERLAP',
      );
      expectError(
        await t.http
          .patch(`/api/sessions/${String(elsewhere.id)}/`)
          .set(bearer(w.tokens.organisateur))
          .send({ room_id: roomA }),
        409,
        'SESSION_OVERLAP',
      );
      expectError(
        await t.http
          .put(`/api/sessions/${String(elsewhere.id)}/`)
          .set(bearer(w.tokens.organisateur))
          .send(validBody(roomA, { start_time: at('17:30'), end_time: at('18:30') })),
        409,
        'SESSION_OVERLAP',
      );
      assert.deepEqual(await snapshot(w.event.id), before);
      // Shortening a session within its own slot never conflicts with itself.
      await t.http
        .patch(`/api/sessions/${String(later.id)}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ end_time: at('17:30') })
        .expect(200);
    });
  });

  describe('status transitions', () => {
    let w: World;
    let roomId: string;
    let hour = 0;
    before(async () => {
      w = await createWorld(t);
      roomId = await createRoom(w.event.id);
    });
    const fresh = () => {
      const h = String(hour++).padStart(2, '0');
      return createSession(w, validBody(roomId, { start_time: at(`${h}:00`), end_time: at(`${h}:30`) }));
    };
    const post = (id: unknown, action: string, role: EventRole = 'organisateur') =>
      t.http.post(`/api/sessions/${String(id)}/${action}/`).set(bearer(w.tokens[role]));

    it('scheduled → live → completed, with is_live following the status', async () => {
      const s = await fresh();
      const live = await post(s.id, 'mark_live').expect(200);
      assertSessionShape(live.body);
      assert.equal(live.body.status, 'live');
      assert.equal(live.body.is_live, true);
      const done = await post(s.id, 'mark_completed').expect(200);
      assert.equal(done.body.status, 'completed');
      assert.equal(done.body.is_live, false);
      assert.equal(await statusOf(String(s.id)), 'completed');
    });

    it('scheduled → cancelled and live → cancelled', async () => {
      const a = await fresh();
      assert.equal((await post(a.id, 'cancel').expect(200)).body.status, 'cancelled');
      const b = await fresh();
      await post(b.id, 'mark_live').expect(200);
      assert.equal((await post(b.id, 'cancel').expect(200)).body.status, 'cancelled');
    });

    it('every other transition is a 409 INVALID_TRANSITION and the status stays', async () => {
      const scheduled = await fresh();
      const live = await fresh();
      await post(live.id, 'mark_live').expect(200);
      const completed = await fresh();
      await post(completed.id, 'mark_live').expect(200);
      await post(completed.id, 'mark_completed').expect(200);
      const cancelled = await fresh();
      await post(cancelled.id, 'cancel').expect(200);
      const refused: [Record<string, unknown>, string, string][] = [
        [scheduled, 'mark_completed', 'scheduled'],
        [live, 'mark_live', 'live'],
        [completed, 'mark_live', 'completed'],
        [completed, 'mark_completed', 'completed'],
        [completed, 'cancel', 'completed'],
        [cancelled, 'mark_live', 'cancelled'],
        [cancelled, 'mark_completed', 'cancelled'],
        [cancelled, 'cancel', 'cancelled'],
      ];
      for (const [s, action, status] of refused) {
        expectError(await post(s.id, action), 409, 'INVALID_TRANSITION');
        assert.equal(await statusOf(String(s.id)), status, `${status} after ${action}`);
      }
    });

    it('unknown session 404, malformed id 400', async () => {
      expectError(await post(UNKNOWN_ID, 'mark_live'), 404, 'NOT_FOUND');
      expectValidation(await post('nope', 'cancel'), 'id');
    });

    it('a gestionnaire_des_salles may change the status', async () => {
      const s = await fresh();
      assert.equal((await post(s.id, 'mark_live', 'gestionnaire_des_salles').expect(200)).body.status, 'live');
      assert.equal(
        (await post(s.id, 'mark_completed', 'gestionnaire_des_salles').expect(200)).body.status,
        'completed',
      );
      const c = await fresh();
      assert.equal((await post(c.id, 'cancel', 'gestionnaire_des_salles').expect(200)).body.status, 'cancelled');
    });
  });

  describe('roles', () => {
    /** Every write route on one session of a fresh world, as `role`; each must be refused with `status`. */
    const assertWritesRefused = async (w: World, token: string, status: 403 | 404, transitions: boolean) => {
      const roomId = await createRoom(w.event.id);
      const s = await createSession(w, validBody(roomId));
      const id = String(s.id);
      const code = status === 403 ? 'FORBIDDEN' : 'NOT_FOUND';
      const before = await snapshot(w.event.id);
      const title = uniq('Refused ');
      if (status === 403) {
        expectError(
          await t.http.post('/api/sessions/').set(bearer(token)).send(validBody(roomId, { title })),
          403,
          code,
        );
      }
      expectError(await t.http.patch(`/api/sessions/${id}/`).set(bearer(token)).send({ title }), status, code);
      expectError(
        await t.http.put(`/api/sessions/${id}/`).set(bearer(token)).send(validBody(roomId, { title })),
        status,
        code,
      );
      expectError(await t.http.delete(`/api/sessions/${id}/`).set(bearer(token)), status, code);
      if (transitions) {
        for (const action of ['mark_live', 'mark_completed', 'cancel']) {
          expectError(await t.http.post(`/api/sessions/${id}/${action}/`).set(bearer(token)), status, code);
        }
      }
      assert.deepEqual(await snapshot(w.event.id), before);
      assert.equal(await countRows(t, 'sessions', 'title = $1', [title]), 0);
      return s;
    };

    it('gestionnaire_des_salles: reads, cannot create, edit or delete (403, nothing changes)', async () => {
      const w = await createWorld(t);
      const s = await assertWritesRefused(w, w.tokens.gestionnaire_des_salles, 403, false);
      const token = w.tokens.gestionnaire_des_salles;
      await t.http.get('/api/sessions/').set(bearer(token)).expect(200);
      await t.http
        .get(`/api/sessions/${String(s.id)}/`)
        .set(bearer(token))
        .expect(200);
    });

    for (const role of READ_ONLY_ROLES) {
      it(`${role}: reads everything, every write and transition is 403 and nothing changes`, async () => {
        const w = await createWorld(t);
        const s = await assertWritesRefused(w, w.tokens[role], 403, true);
        const token = w.tokens[role];
        const list = await t.http.get('/api/sessions/').set(bearer(token)).expect(200);
        assert.deepEqual(ids(list), [s.id]);
        const one = await t.http
          .get(`/api/sessions/${String(s.id)}/`)
          .set(bearer(token))
          .expect(200);
        assertSessionShape(one.body);
        const byRoom = await t.http
          .get(`/api/rooms/${String(s.room)}/sessions/`)
          .set(bearer(token))
          .expect(200);
        assert.deepEqual(ids(byRoom), [s.id]);
      });
    }

    it('organisateur of another event: 404 on every route of this event’s sessions, nothing changes', async () => {
      const w = await createWorld(t);
      const other = await createWorld(t);
      const token = other.tokens.organisateur;
      const s = await assertWritesRefused(w, token, 404, true);
      expectError(await t.http.get(`/api/sessions/${String(s.id)}/`).set(bearer(token)), 404, 'NOT_FOUND');
      expectError(await t.http.get(`/api/rooms/${String(s.room)}/sessions/`).set(bearer(token)), 404, 'NOT_FOUND');
      const list = await t.http.get('/api/sessions/').query({ page_size: 100 }).set(bearer(token)).expect(200);
      assert.ok(!ids(list).includes(String(s.id)));
      for (const r of list.body.results as { event: string }[]) assert.equal(r.event, other.event.id);
    });

    it('a participant of another event sees nothing of this one', async () => {
      const w = await createWorld(t);
      const other = await createWorld(t);
      const s = await createSession(w, validBody(await createRoom(w.event.id)));
      const token = other.tokens.participant;
      expectError(await t.http.get(`/api/sessions/${String(s.id)}/`).set(bearer(token)), 404, 'NOT_FOUND');
      const list = await t.http.get('/api/sessions/').set(bearer(token)).expect(200);
      assert.equal(list.body.count, 0);
    });

    it('without a token: 401, nothing written', async () => {
      const w = await createWorld(t);
      const roomId = await createRoom(w.event.id);
      expectError(await t.http.get('/api/sessions/'), 401, 'AUTH_REQUIRED');
      expectError(await t.http.post('/api/sessions/').send(validBody(roomId)), 401, 'AUTH_REQUIRED');
      expectError(await t.http.get(`/api/rooms/${roomId}/sessions/`), 401, 'AUTH_REQUIRED');
      assert.equal(await countRows(t, 'sessions', 'event_id = $1', [w.event.id]), 0);
    });
  });

  describe('list filters, search, ordering, pagination', () => {
    let w: World;
    let roomA: string;
    let roomB: string;
    const s: Record<string, Record<string, unknown>> = {};
    const list = (query: Record<string, unknown>) =>
      t.http.get('/api/sessions/').query(query).set(bearer(w.tokens.participant));

    before(async () => {
      w = await createWorld(t);
      roomA = await createRoom(w.event.id);
      roomB = await createRoom(w.event.id);
      s.morning = await createSession(
        w,
        validBody(roomA, {
          title: 'Bravo keynote',
          start_time: at('09:00'),
          end_time: at('10:00'),
          speaker_name: 'Zed',
        }),
      );
      s.late = await createSession(
        w,
        validBody(roomA, { title: 'Alpha night', start_time: at('23:30'), end_time: at('00:30', '2030-03-11') }),
      );
      s.nextDay = await createSession(
        w,
        validBody(roomB, {
          title: 'Charlie 100%_off',
          start_time: at('10:00', '2030-03-11'),
          end_time: at('11:00', '2030-03-11'),
          session_type: 'atelier',
        }),
      );
      s.untilMidnight = await createSession(
        w,
        validBody(roomB, { title: 'Delta evening', start_time: at('22:00'), end_time: at('00:00', '2030-03-11') }),
      );
      await t.http
        .post(`/api/sessions/${String(s.morning.id)}/mark_live/`)
        .set(bearer(w.tokens.organisateur))
        .expect(200);
      // Another event's session on the same day never shows.
      const other = await createWorld(t);
      await createSession(other, validBody(await createRoom(other.event.id)));
    });

    it('all of this event’s sessions, by start time by default', async () => {
      const res = await list({}).expect(200);
      assert.equal(res.body.count, 4);
      assert.deepEqual(ids(res), [s.morning?.id, s.untilMidnight?.id, s.late?.id, s.nextDay?.id]);
      for (const r of res.body.results) assertSessionShape(r);
    });

    it('room, status and session_type filters', async () => {
      assert.deepEqual(ids(await list({ room: roomA }).expect(200)), [s.morning?.id, s.late?.id]);
      assert.deepEqual(ids(await list({ room: UNKNOWN_ID }).expect(200)), []);
      assert.deepEqual(ids(await list({ status: 'live' }).expect(200)), [s.morning?.id]);
      assert.deepEqual(ids(await list({ status: 'scheduled', room: roomB }).expect(200)), [
        s.untilMidnight?.id,
        s.nextDay?.id,
      ]);
      assert.deepEqual(ids(await list({ session_type: 'atelier' }).expect(200)), [s.nextDay?.id]);
      assert.equal((await list({ session_type: 'conference' }).expect(200)).body.count, 3);
    });

    it('date: sessions overlapping that UTC day (one ending at midnight is not on the next day)', async () => {
      assert.deepEqual(ids(await list({ date: DAY }).expect(200)), [s.morning?.id, s.untilMidnight?.id, s.late?.id]);
      assert.deepEqual(ids(await list({ date: '2030-03-11' }).expect(200)), [s.late?.id, s.nextDay?.id]);
      assert.deepEqual(ids(await list({ date: '2030-03-12' }).expect(200)), []);
    });

    it('search in title and speaker, case-insensitive, % and _ literal', async () => {
      assert.deepEqual(ids(await list({ search: 'KEYNOTE' }).expect(200)), [s.morning?.id]);
      assert.deepEqual(ids(await list({ search: 'zed' }).expect(200)), [s.morning?.id]);
      assert.deepEqual(ids(await list({ search: '100%_' }).expect(200)), [s.nextDay?.id]);
      assert.deepEqual(ids(await list({ search: '%' }).expect(200)), [s.nextDay?.id]);
    });

    it('ordering by title, -title, -start_time, created_at', async () => {
      assert.deepEqual(ids(await list({ ordering: 'title' }).expect(200)), [
        s.late?.id,
        s.morning?.id,
        s.nextDay?.id,
        s.untilMidnight?.id,
      ]);
      assert.deepEqual(ids(await list({ ordering: '-title' }).expect(200)), [
        s.untilMidnight?.id,
        s.nextDay?.id,
        s.morning?.id,
        s.late?.id,
      ]);
      assert.deepEqual(ids(await list({ ordering: '-start_time' }).expect(200)), [
        s.nextDay?.id,
        s.late?.id,
        s.untilMidnight?.id,
        s.morning?.id,
      ]);
      assert.deepEqual(ids(await list({ ordering: 'created_at' }).expect(200)), [
        s.morning?.id,
        s.late?.id,
        s.nextDay?.id,
        s.untilMidnight?.id,
      ]);
    });

    it('pagination with absolute next/previous links, page_size clamped', async () => {
      const first = await list({ page_size: 3 }).expect(200);
      assert.equal(first.body.count, 4);
      assert.deepEqual(ids(first), [s.morning?.id, s.untilMidnight?.id, s.late?.id]);
      assert.equal(first.body.previous, null);
      assert.match(String(first.body.next), /^http:\/\/[^/]+\/api\/sessions\/\?.*page=2/);
      const second = await list({ page_size: 3, page: 2 }).expect(200);
      assert.deepEqual(ids(second), [s.nextDay?.id]);
      assert.equal(second.body.next, null);
      assert.match(String(second.body.previous), /page=1/);
      assert.equal((await list({ page_size: 1000 }).expect(200)).body.results.length, 4);
    });

    it('?event= naming this event filters nothing; another event is a 400', async () => {
      assert.equal((await list({ event: w.event.id }).expect(200)).body.count, 4);
      assert.equal((await list({ event: w.event.id.toUpperCase() }).expect(200)).body.count, 4);
      expectValidation(await list({ event: UNKNOWN_ID }), 'event');
    });

    for (const query of [
      { status: 'running' },
      { session_type: 'keynote' },
      { date: '2030-02-30' },
      { date: '2030-3-1' },
      { date: '2030-03-10T00:00:00Z' },
      { ordering: 'room' },
      { room: 'abc' },
      { page: 0 },
    ]) {
      it(`bad query ${JSON.stringify(query)}: 400 VALIDATION_FAILED`, async () => {
        expectValidation(await list(query), ...Object.keys(query));
      });
    }

    it('GET /api/rooms/{id}/sessions/: that room’s sessions by start time', async () => {
      const res = await t.http.get(`/api/rooms/${roomB}/sessions`).set(bearer(w.tokens.participant)).expect(200);
      assert.equal(res.body.count, 2);
      assert.deepEqual(ids(res), [s.untilMidnight?.id, s.nextDay?.id]);
      for (const r of res.body.results) assertSessionShape(r);
      const filtered = await t.http
        .get(`/api/rooms/${roomA}/sessions/`)
        .query({ status: 'live' })
        .set(bearer(w.tokens.participant))
        .expect(200);
      assert.deepEqual(ids(filtered), [s.morning?.id]);
      const empty = await createRoom(w.event.id);
      assert.equal(
        (await t.http.get(`/api/rooms/${empty}/sessions/`).set(bearer(w.tokens.participant)).expect(200)).body.count,
        0,
      );
      expectError(
        await t.http.get(`/api/rooms/${UNKNOWN_ID}/sessions/`).set(bearer(w.tokens.participant)),
        404,
        'NOT_FOUND',
      );
      expectValidation(await t.http.get('/api/rooms/nope/sessions/').set(bearer(w.tokens.participant)), 'id');
      expectValidation(
        await t.http
          .get(`/api/rooms/${roomA}/sessions/`)
          .query({ ordering: 'title' })
          .set(bearer(w.tokens.participant)),
        'ordering',
      );
    });
  });

  describe('concurrency', () => {
    const N = 30;

    it(`${N} parallel POSTs of overlapping sessions in one room: exactly one 201, ${N - 1} × 409, one row`, async () => {
      const w = await createWorld(t);
      const roomId = await createRoom(w.event.id);
      // Each slot starts i minutes after 09:00 and lasts an hour: every pair overlaps, whichever wins.
      const responses = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          fire(
            t.http
              .post('/api/sessions/')
              .set(bearer(w.tokens.organisateur))
              .send(
                validBody(roomId, {
                  start_time: new Date(Date.parse(at('09:00')) + i * 60_000).toISOString(),
                  end_time: new Date(Date.parse(at('10:00')) + i * 60_000).toISOString(),
                }),
              ),
          ),
        ),
      );
      // A check-then-insert in the service would let several through; without the exclusion constraint all would.
      assert.deepEqual(tally(responses), { 201: 1, 409: N - 1 });
      for (const r of responses.filter((x) => x.status === 409)) expectError(r, 409, 'SESSION_OVERLAP');
      assert.equal(await countRows(t, 'sessions', 'room_id = $1', [roomId]), 1);
    });

    it(`negative control: ${N} parallel POSTs of the same slots in ${N} different rooms all succeed`, async () => {
      // Proves the harness lets N concurrent creations through (no pool exhaustion, rate limit or serialization
      // turning them into errors), so the 409s above come from the overlap rule alone.
      const w = await createWorld(t);
      const rooms = await Promise.all(Array.from({ length: N }, () => createRoom(w.event.id)));
      const responses = await Promise.all(
        rooms.map((roomId, i) =>
          fire(
            t.http
              .post('/api/sessions/')
              .set(bearer(w.tokens.organisateur))
              .send(
                validBody(roomId, {
                  start_time: new Date(Date.parse(at('09:00')) + i * 60_000).toISOString(),
                  end_time: new Date(Date.parse(at('10:00')) + i * 60_000).toISOString(),
                }),
              ),
          ),
        ),
      );
      assert.deepEqual(tally(responses), { 201: N });
      assert.equal(await countRows(t, 'sessions', 'event_id = $1', [w.event.id]), N);
    });

    const M = 20;

    it(`${M} parallel mark_live on one session: exactly one 200, ${M - 1} × 409 INVALID_TRANSITION`, async () => {
      const w = await createWorld(t);
      const s = await createSession(w, validBody(await createRoom(w.event.id)));
      const responses = await Promise.all(
        Array.from({ length: M }, (_, i) =>
          fire(
            t.http
              .post(`/api/sessions/${String(s.id)}/mark_live/`)
              .set(bearer(w.tokens[i % 2 ? 'organisateur' : 'gestionnaire_des_salles'])),
          ),
        ),
      );
      // A read-then-write transition would answer 200 to several of them.
      assert.deepEqual(tally(responses), { 200: 1, 409: M - 1 });
      for (const r of responses.filter((x) => x.status === 409)) expectError(r, 409, 'INVALID_TRANSITION');
      assert.equal(await statusOf(String(s.id)), 'live');
    });

    it(`negative control: ${M} parallel mark_live on ${M} different sessions all succeed`, async () => {
      const w = await createWorld(t);
      const roomId = await createRoom(w.event.id);
      const sessions = [];
      for (let i = 0; i < M; i++) {
        const h = String(i).padStart(2, '0');
        sessions.push(
          await createSession(w, validBody(roomId, { start_time: at(`${h}:00`), end_time: at(`${h}:30`) })),
        );
      }
      const responses = await Promise.all(
        sessions.map((s) =>
          fire(t.http.post(`/api/sessions/${String(s.id)}/mark_live/`).set(bearer(w.tokens.organisateur))),
        ),
      );
      assert.deepEqual(tally(responses), { 200: M });
      assert.equal(await countRows(t, 'sessions', "event_id = $1 AND status = 'live'", [w.event.id]), M);
    });

    it('parallel PATCHes of different fields (texts alone, which write at once, and times) keep every change', async () => {
      const w = await createWorld(t);
      const s = await createSession(w, validBody(await createRoom(w.event.id)));
      const changes: Body[] = [
        { title: 'Parallel title' },
        { speaker_name: 'Parallel speaker' },
        { description: 'Parallel description' },
        { theme: 'parallel' },
        { start_time: at('08:00') },
        { end_time: at('11:00') },
      ];
      for (let round = 0; round < 3; round++) {
        const responses = await Promise.all(
          changes.map((body) =>
            fire(
              t.http
                .patch(`/api/sessions/${String(s.id)}/`)
                .set(bearer(w.tokens.organisateur))
                .send(body),
            ),
          ),
        );
        assert.deepEqual(tally(responses), { 200: changes.length });
      }
      // A read-merge-write of the whole row, unlocked, would put back another request's old values.
      const after = await t.http
        .get(`/api/sessions/${String(s.id)}/`)
        .set(bearer(w.tokens.organisateur))
        .expect(200);
      for (const body of changes)
        for (const [field, value] of Object.entries(body)) assert.equal(after.body[field], value);
    });
  });
});
