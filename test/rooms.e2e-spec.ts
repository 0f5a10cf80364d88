import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EVENT_ROLES } from '../src/common/auth/event-role';
import { bearer, countRows, createUser, createWorld, openSession, uniq, type World } from './helpers/factories';
import { expectError, expectValidation } from './helpers/assertions';
import { fire, tally } from './helpers/requests';
import { bootTestApp, type TestApp } from './helpers/test-app';

const NON_ORGANIZER_ROLES = EVENT_ROLES.filter((r) => r !== 'organisateur');
const ROOM_KEYS = [
  'id',
  'event',
  'name',
  'description',
  'capacity',
  'location',
  'current_participants',
  'occupancy_percentage',
  'is_active',
  'created_at',
  'updated_at',
].sort();
const UNKNOWN_ID = '6f1c1c2e-1111-4111-8111-111111111111';
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function assertRoomShape(body: Record<string, unknown>): void {
  assert.deepEqual(Object.keys(body).sort(), ROOM_KEYS);
  assert.equal(typeof body.occupancy_percentage, 'number');
  assert.equal(typeof body.capacity, 'number');
  assert.equal(typeof body.current_participants, 'number');
  assert.match(String(body.created_at), ISO_UTC);
  assert.match(String(body.updated_at), ISO_UTC);
}

interface RoomSeed {
  name?: string;
  capacity?: number;
  current?: number;
  location?: string;
  description?: string;
  isActive?: boolean;
  createdAt?: Date;
}

describe('rooms', () => {
  let t: TestApp;

  /** A room written straight to the database, so that tests of one route do not depend on another. */
  const seedRoom = async (eventId: string, seed: RoomSeed = {}): Promise<string> => {
    const rows: { id: string }[] = await t.db.query(
      `INSERT INTO rooms (event_id, name, capacity, current_participants, location, description, is_active, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [
        eventId,
        seed.name ?? uniq('Room '),
        seed.capacity ?? 100,
        seed.current ?? 0,
        seed.location ?? '',
        seed.description ?? '',
        seed.isActive ?? true,
        seed.createdAt ?? new Date(),
      ],
    );
    return (rows[0] as { id: string }).id;
  };

  /** All room rows of an event as JSON, for "nothing changed" assertions. */
  const snapshot = async (eventId: string): Promise<unknown[]> => {
    const rows: { row: unknown }[] = await t.db.query(
      'SELECT to_jsonb(r) AS row FROM rooms r WHERE event_id = $1 ORDER BY id',
      [eventId],
    );
    return rows.map((r) => r.row);
  };

  const setOccupancy = (id: string, current: number) =>
    t.db.query('UPDATE rooms SET current_participants = $2 WHERE id = $1', [id, current]);

  before(async () => {
    t = await bootTestApp();
  });
  after(() => t.close());

  describe('organisateur', () => {
    let w: World;
    let token: string;
    before(async () => {
      w = await createWorld(t);
      token = w.tokens.organisateur;
    });

    it('POST creates a room with the documented keys and defaults', async () => {
      const res = await t.http
        .post('/api/rooms/')
        .set(bearer(token))
        .send({ name: 'Amphi A', capacity: 250 })
        .expect(201);
      assertRoomShape(res.body);
      assert.deepEqual(
        {
          event: res.body.event,
          name: res.body.name,
          description: res.body.description,
          capacity: res.body.capacity,
          location: res.body.location,
          current_participants: res.body.current_participants,
          occupancy_percentage: res.body.occupancy_percentage,
          is_active: res.body.is_active,
        },
        {
          event: w.event.id,
          name: 'Amphi A',
          description: '',
          capacity: 250,
          location: '',
          current_participants: 0,
          occupancy_percentage: 0,
          is_active: true,
        },
      );
      const rows: { event_id: string; name: string; capacity: number }[] = await t.db.query(
        'SELECT event_id, name, capacity FROM rooms WHERE id = $1',
        [res.body.id],
      );
      assert.deepEqual(rows, [{ event_id: w.event.id, name: 'Amphi A', capacity: 250 }]);
    });

    it('POST with every writable field, without trailing slash; the name is trimmed', async () => {
      const res = await t.http
        .post('/api/rooms')
        .set(bearer(token))
        .send({ name: '  Atelier 1  ', description: 'Hands-on', capacity: 30, location: 'Level 2', is_active: false })
        .expect(201);
      assertRoomShape(res.body);
      assert.equal(res.body.name, 'Atelier 1');
      assert.equal(res.body.description, 'Hands-on');
      assert.equal(res.body.capacity, 30);
      assert.equal(res.body.location, 'Level 2');
      assert.equal(res.body.is_active, false);
    });

    it('GET /{id} with and without trailing slash; malformed id 400; unknown id 404', async () => {
      const id = await seedRoom(w.event.id, { name: uniq('Get '), capacity: 3, current: 1 });
      for (const path of [`/api/rooms/${id}/`, `/api/rooms/${id}`]) {
        const res = await t.http.get(path).set(bearer(token)).expect(200);
        assertRoomShape(res.body);
        assert.equal(res.body.id, id);
        assert.equal(res.body.event, w.event.id);
        assert.equal(res.body.current_participants, 1);
        assert.equal(res.body.occupancy_percentage, 33.3);
      }
      expectValidation(await t.http.get('/api/rooms/42/').set(bearer(token)), 'id');
      expectError(await t.http.get(`/api/rooms/${UNKNOWN_ID}/`).set(bearer(token)), 404, 'NOT_FOUND');
    });

    it('GET / with and without trailing slash lists this event’s rooms in the page envelope', async () => {
      for (const path of ['/api/rooms/', '/api/rooms']) {
        const res = await t.http.get(path).set(bearer(token)).expect(200);
        assert.deepEqual(Object.keys(res.body).sort(), ['count', 'next', 'previous', 'results']);
        assert.equal(res.body.count, await countRows(t, 'rooms', 'event_id = $1', [w.event.id]));
        assert.ok(res.body.count > 0);
        for (const room of res.body.results) {
          assertRoomShape(room);
          assert.equal(room.event, w.event.id);
        }
      }
    });

    it('PATCH changes only the fields sent; PUT needs name and capacity', async () => {
      const id = await seedRoom(w.event.id, { name: uniq('Patch '), capacity: 50, location: 'East' });
      const res = await t.http
        .patch(`/api/rooms/${id}/`)
        .set(bearer(token))
        .send({ description: 'Renovated', is_active: false })
        .expect(200);
      assertRoomShape(res.body);
      assert.equal(res.body.description, 'Renovated');
      assert.equal(res.body.is_active, false);
      assert.equal(res.body.capacity, 50);
      assert.equal(res.body.location, 'East');
      const empty = await t.http.patch(`/api/rooms/${id}`).set(bearer(token)).send({}).expect(200);
      assert.deepEqual(empty.body, res.body);

      const before = await snapshot(w.event.id);
      for (const body of [{ name: 'Only name' }, { capacity: 10 }, {}]) {
        expectValidation(await t.http.put(`/api/rooms/${id}/`).set(bearer(token)).send(body));
      }
      assert.deepEqual(await snapshot(w.event.id), before);

      const name = uniq('Put ');
      const put = await t.http
        .put(`/api/rooms/${id}/`)
        .set(bearer(token))
        .send({ name, capacity: 70, location: 'West', is_active: true })
        .expect(200);
      assertRoomShape(put.body);
      assert.equal(put.body.name, name);
      assert.equal(put.body.capacity, 70);
      assert.equal(put.body.location, 'West');
      assert.equal(put.body.is_active, true);
      assert.ok(new Date(put.body.updated_at) >= new Date(res.body.updated_at));
      const rows: { name: string; capacity: number }[] = await t.db.query(
        'SELECT name, capacity FROM rooms WHERE id = $1',
        [id],
      );
      assert.deepEqual(rows, [{ name, capacity: 70 }]);
    });

    it('POST or rename to a name taken in the event: 409 ROOM_NAME_TAKEN, nothing written', async () => {
      const name = uniq('Taken ');
      await t.http.post('/api/rooms/').set(bearer(token)).send({ name, capacity: 10 }).expect(201);
      const otherId = await seedRoom(w.event.id, { name: uniq('Other ') });
      const before = await snapshot(w.event.id);
      expectError(
        await t.http.post('/api/rooms/').set(bearer(token)).send({ name, capacity: 99 }),
        409,
        'ROOM_NAME_TAKEN',
      );
      expectError(
        await t.http
          .post('/api/rooms/')
          .set(bearer(token))
          .send({ name: ` ${name} `, capacity: 99 }),
        409,
        'ROOM_NAME_TAKEN',
      );
      expectError(
        await t.http.patch(`/api/rooms/${otherId}/`).set(bearer(token)).send({ name }),
        409,
        'ROOM_NAME_TAKEN',
      );
      expectError(
        await t.http.put(`/api/rooms/${otherId}/`).set(bearer(token)).send({ name, capacity: 5 }),
        409,
        'ROOM_NAME_TAKEN',
      );
      assert.deepEqual(await snapshot(w.event.id), before);
      assert.equal(await countRows(t, 'rooms', 'event_id = $1 AND name = $2', [w.event.id, name]), 1);
    });

    it('the same name in another event is allowed', async () => {
      const other = await createWorld(t);
      const name = uniq('Shared ');
      await seedRoom(other.event.id, { name });
      const res = await t.http.post('/api/rooms/').set(bearer(token)).send({ name, capacity: 10 }).expect(201);
      assert.equal(res.body.event, w.event.id);
    });

    it('lowering capacity below current_participants: 409 ROOM_CAPACITY_BELOW_OCCUPANCY; equal or above: 200', async () => {
      const id = await seedRoom(w.event.id, { name: uniq('Occ '), capacity: 100 });
      await setOccupancy(id, 40);
      const before = await snapshot(w.event.id);
      expectError(
        await t.http.patch(`/api/rooms/${id}/`).set(bearer(token)).send({ capacity: 39 }),
        409,
        'ROOM_CAPACITY_BELOW_OCCUPANCY',
      );
      // The whole change is refused, not only the capacity.
      expectError(
        await t.http
          .put(`/api/rooms/${id}/`)
          .set(bearer(token))
          .send({ name: uniq('Renamed '), capacity: 1, is_active: false }),
        409,
        'ROOM_CAPACITY_BELOW_OCCUPANCY',
      );
      assert.deepEqual(await snapshot(w.event.id), before);

      const equal = await t.http.patch(`/api/rooms/${id}/`).set(bearer(token)).send({ capacity: 40 }).expect(200);
      assert.equal(equal.body.capacity, 40);
      assert.equal(equal.body.current_participants, 40);
      assert.equal(equal.body.occupancy_percentage, 100);
      const above = await t.http.patch(`/api/rooms/${id}/`).set(bearer(token)).send({ capacity: 80 }).expect(200);
      assert.equal(above.body.capacity, 80);
      assert.equal(above.body.occupancy_percentage, 50);
      // Other fields do not touch the capacity rule.
      await setOccupancy(id, 80);
      const renamed = await t.http.patch(`/api/rooms/${id}/`).set(bearer(token)).send({ location: 'Hall' }).expect(200);
      assert.equal(renamed.body.location, 'Hall');
      assert.equal(renamed.body.occupancy_percentage, 100);
    });

    it('occupancy_percentage has one decimal', async () => {
      const cases: [number, number, number][] = [
        [3, 2, 66.7],
        [7, 1, 14.3],
        [1000, 1, 0.1],
        [100000, 1, 0],
        [8, 8, 100],
      ];
      for (const [capacity, current, expected] of cases) {
        const id = await seedRoom(w.event.id, { capacity, current });
        const res = await t.http.get(`/api/rooms/${id}/`).set(bearer(token)).expect(200);
        assert.equal(res.body.occupancy_percentage, expected, `${current}/${capacity}`);
      }
    });

    it('DELETE: 204, then 404 and the row is gone', async () => {
      const id = await seedRoom(w.event.id);
      const res = await t.http.delete(`/api/rooms/${id}/`).set(bearer(token)).expect(204);
      assert.equal(res.text, '');
      expectError(await t.http.get(`/api/rooms/${id}/`).set(bearer(token)), 404, 'NOT_FOUND');
      expectError(await t.http.delete(`/api/rooms/${id}`).set(bearer(token)), 404, 'NOT_FOUND');
      expectError(await t.http.patch(`/api/rooms/${id}/`).set(bearer(token)).send({ capacity: 5 }), 404, 'NOT_FOUND');
      assert.equal(await countRows(t, 'rooms', 'id = $1', [id]), 0);
    });

    it('PATCH/PUT/DELETE of an unknown id: 404; malformed id: 400', async () => {
      expectError(
        await t.http.patch(`/api/rooms/${UNKNOWN_ID}/`).set(bearer(token)).send({ name: 'X' }),
        404,
        'NOT_FOUND',
      );
      expectError(
        await t.http.put(`/api/rooms/${UNKNOWN_ID}/`).set(bearer(token)).send({ name: 'X', capacity: 1 }),
        404,
        'NOT_FOUND',
      );
      expectError(await t.http.delete(`/api/rooms/${UNKNOWN_ID}/`).set(bearer(token)), 404, 'NOT_FOUND');
      expectValidation(await t.http.delete('/api/rooms/not-a-uuid/').set(bearer(token)), 'id');
    });

    it('the event’s total_rooms counts its rooms', async () => {
      const fresh = await createWorld(t);
      const path = `/api/events/${fresh.event.id}/`;
      const total = async () =>
        (await t.http.get(path).set(bearer(fresh.tokens.organisateur)).expect(200)).body.total_rooms as number;
      assert.equal(await total(), 0);
      const a = await t.http
        .post('/api/rooms/')
        .set(bearer(fresh.tokens.organisateur))
        .send({ name: 'A', capacity: 1 })
        .expect(201);
      await t.http
        .post('/api/rooms/')
        .set(bearer(fresh.tokens.organisateur))
        .send({ name: 'B', capacity: 1 })
        .expect(201);
      assert.equal(await total(), 2);
      await t.http.delete(`/api/rooms/${a.body.id}/`).set(bearer(fresh.tokens.organisateur)).expect(204);
      assert.equal(await total(), 1);
    });
  });

  describe('validation', () => {
    let w: World;
    before(async () => {
      w = await createWorld(t);
    });

    const badBodies: [string, Record<string, unknown>, string[]][] = [
      ['capacity 0', { capacity: 0 }, ['capacity']],
      ['capacity -1', { capacity: -1 }, ['capacity']],
      ['capacity 1.5', { capacity: 1.5 }, ['capacity']],
      ['capacity as a string', { capacity: '10' }, ['capacity']],
      ['capacity above 100000', { capacity: 100_001 }, ['capacity']],
      ['capacity null', { capacity: null }, ['capacity']],
      ['capacity missing', { capacity: undefined }, ['capacity']],
      ['blank name', { name: '   ' }, ['name']],
      ['empty name', { name: '' }, ['name']],
      ['name of 151 characters', { name: 'n'.repeat(151) }, ['name']],
      ['name as a number', { name: 12 }, ['name']],
      ['name missing', { name: undefined }, ['name']],
      ['description null', { description: null }, ['description']],
      ['location too long', { location: 'l'.repeat(256) }, ['location']],
      ['is_active not a boolean', { is_active: 'yes' }, ['is_active']],
      ['an unknown field', { floor: 2 }, ['floor']],
      ['read-only current_participants', { current_participants: 0 }, ['current_participants']],
      ['read-only occupancy_percentage', { occupancy_percentage: 10 }, ['occupancy_percentage']],
      ['read-only id', { id: UNKNOWN_ID }, ['id']],
      ['event in the body', { event: UNKNOWN_ID }, ['event']],
      ['event_id in the body', { event_id: UNKNOWN_ID }, ['event_id']],
      ['read-only created_at', { created_at: '2026-01-01T00:00:00Z' }, ['created_at']],
      ['read-only updated_at', { updated_at: '2026-01-01T00:00:00Z' }, ['updated_at']],
    ];
    for (const [label, extra, fields] of badBodies) {
      it(`POST with ${label}: 400 VALIDATION_FAILED naming it, nothing written`, async () => {
        const before = await snapshot(w.event.id);
        const body = JSON.parse(JSON.stringify({ name: uniq('Bad '), capacity: 10, ...extra })) as object;
        const res = await t.http.post('/api/rooms/').set(bearer(w.tokens.organisateur)).send(body);
        expectValidation(res, ...fields);
        assert.deepEqual(await snapshot(w.event.id), before);
      });
    }

    it('PATCH and PUT refuse the same bad fields; null is refused on every column', async () => {
      const id = await seedRoom(w.event.id, { name: uniq('Valid ') });
      const before = await snapshot(w.event.id);
      for (const body of [
        { capacity: 0 },
        { capacity: 2.5 },
        { capacity: '20' },
        { name: ' ' },
        { name: null },
        { capacity: null },
        { location: null },
        { is_active: null },
        { current_participants: 5 },
        { occupancy_percentage: 0 },
        { event: UNKNOWN_ID },
      ]) {
        const fields = Object.keys(body);
        expectValidation(
          await t.http.patch(`/api/rooms/${id}/`).set(bearer(w.tokens.organisateur)).send(body),
          ...fields,
        );
        expectValidation(
          await t.http
            .put(`/api/rooms/${id}/`)
            .set(bearer(w.tokens.organisateur))
            .send({ name: 'Valid name', capacity: 10, ...body }),
          ...fields,
        );
      }
      assert.deepEqual(await snapshot(w.event.id), before);
    });

    it('a body that is not a JSON object: 400, nothing written', async () => {
      const before = await snapshot(w.event.id);
      for (const raw of ['{"name": "x",', '[{"name": "x", "capacity": 1}]', 'null', '"x"']) {
        const res = await t.http
          .post('/api/rooms/')
          .set(bearer(w.tokens.organisateur))
          .set('Content-Type', 'application/json')
          .send(raw);
        expectError(res, 400, res.body.code === 'BAD_REQUEST' ? 'BAD_REQUEST' : 'VALIDATION_FAILED');
      }
      assert.deepEqual(await snapshot(w.event.id), before);
    });
  });

  describe('list filters, search, ordering, pagination', () => {
    let w: World;
    let token: string;
    const ids: Record<string, string> = {};
    const start = Date.now() - 60_000;

    before(async () => {
      w = await createWorld(t);
      token = w.tokens.participant;
      const spec: [string, RoomSeed][] = [
        ['b', { name: 'Bravo', capacity: 300, location: 'North wing', description: 'Plenary' }],
        ['a', { name: 'Alpha', capacity: 20, location: 'Level 1', description: 'Workshop 100%' }],
        ['d', { name: 'Delta', capacity: 150, location: 'South', description: '', isActive: false }],
        ['c', { name: 'Charlie', capacity: 75, location: 'north annex', description: 'Meeting' }],
      ];
      for (const [i, [key, seed]] of spec.entries()) {
        ids[key] = await seedRoom(w.event.id, { ...seed, createdAt: new Date(start + i * 1000) });
      }
      // Another event's room that matches every search: it must never show.
      const other = await createWorld(t);
      await seedRoom(other.event.id, { name: 'Alpha north', location: 'North', description: 'Workshop' });
    });

    const list = async (query: Record<string, string | number>) => {
      const res = await t.http.get('/api/rooms/').query(query).set(bearer(token)).expect(200);
      return res.body as { count: number; next: string | null; previous: string | null; results: { id: string }[] };
    };
    const keys = (page: { results: { id: string }[] }) =>
      page.results.map((r) => Object.keys(ids).find((k) => ids[k] === r.id) ?? r.id);

    it('only this event’s rooms, by name by default', async () => {
      const page = await list({});
      assert.equal(page.count, 4);
      assert.deepEqual(keys(page), ['a', 'b', 'c', 'd']);
    });

    it('is_active filter', async () => {
      assert.deepEqual(keys(await list({ is_active: 'true' })), ['a', 'b', 'c']);
      assert.deepEqual(keys(await list({ is_active: 'false' })), ['d']);
    });

    it('search in name, location and description, case-insensitive, % literal', async () => {
      assert.deepEqual(keys(await list({ search: 'ALPHA' })), ['a']);
      assert.deepEqual(keys(await list({ search: 'north' })), ['b', 'c']);
      assert.deepEqual(keys(await list({ search: 'plenary' })), ['b']);
      assert.deepEqual(keys(await list({ search: '100%' })), ['a']);
      assert.deepEqual(keys(await list({ search: '%' })), ['a']);
      assert.deepEqual(keys(await list({ search: 'north', is_active: 'true', ordering: '-name' })), ['c', 'b']);
      assert.equal((await list({ search: uniq('none') })).count, 0);
    });

    it('ordering by name, capacity, created_at, ascending and descending', async () => {
      assert.deepEqual(keys(await list({ ordering: 'name' })), ['a', 'b', 'c', 'd']);
      assert.deepEqual(keys(await list({ ordering: '-name' })), ['d', 'c', 'b', 'a']);
      assert.deepEqual(keys(await list({ ordering: 'capacity' })), ['a', 'c', 'd', 'b']);
      assert.deepEqual(keys(await list({ ordering: '-capacity' })), ['b', 'd', 'c', 'a']);
      assert.deepEqual(keys(await list({ ordering: 'created_at' })), ['b', 'a', 'd', 'c']);
      assert.deepEqual(keys(await list({ ordering: '-created_at' })), ['c', 'd', 'a', 'b']);
    });

    it('pagination with absolute next/previous links, page_size clamped', async () => {
      const first = await list({ page_size: 3, ordering: 'capacity' });
      assert.equal(first.count, 4);
      assert.deepEqual(keys(first), ['a', 'c', 'd']);
      assert.equal(first.previous, null);
      const next = new URL(first.next as string);
      assert.match(next.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(next.searchParams.get('page'), '2');
      assert.equal(next.searchParams.get('ordering'), 'capacity');
      const second = await t.http
        .get(next.pathname + next.search)
        .set(bearer(token))
        .expect(200);
      assert.deepEqual(keys(second.body), ['b']);
      assert.equal(second.body.next, null);
      assert.notEqual(second.body.previous, null);
      const all = await list({ page_size: 5000 });
      assert.equal(all.results.length, 4);
      assert.equal(all.next, null);
      assert.deepEqual((await list({ page: 9 })).results, []);
    });

    it('?event= naming this event filters nothing; naming another event is a 400', async () => {
      assert.equal((await list({ event: w.event.id })).count, 4);
      assert.equal((await list({ event: w.event.id.toUpperCase() })).count, 4);
      const other = await createWorld(t);
      const res = await t.http.get('/api/rooms/').query({ event: other.event.id }).set(bearer(token));
      expectValidation(res, 'event');
    });

    for (const query of [
      { ordering: 'current_participants' },
      { ordering: 'location' },
      { ordering: 'name,capacity' },
      { is_active: 'maybe' },
      { event: 'not-a-uuid' },
      { page: 0 },
      { page_size: 'x' },
      { capacity: 10 },
    ]) {
      it(`bad query ${JSON.stringify(query)}: 400 VALIDATION_FAILED`, async () => {
        expectValidation(await t.http.get('/api/rooms/').query(query).set(bearer(token)), ...Object.keys(query));
      });
    }
  });

  for (const role of NON_ORGANIZER_ROLES) {
    describe(role, () => {
      it('lists and reads rooms; every write is 403 FORBIDDEN and nothing changes', async () => {
        const w = await createWorld(t);
        const token = w.tokens[role];
        const id = await seedRoom(w.event.id, { name: uniq('Seen '), capacity: 10 });
        const list = await t.http.get('/api/rooms/').set(bearer(token)).expect(200);
        assert.equal(list.body.count, 1);
        assertRoomShape(list.body.results[0]);
        const one = await t.http.get(`/api/rooms/${id}/`).set(bearer(token)).expect(200);
        assert.equal(one.body.id, id);

        const before = await snapshot(w.event.id);
        const name = uniq('Forbidden ');
        expectError(await t.http.post('/api/rooms/').set(bearer(token)).send({ name, capacity: 5 }), 403, 'FORBIDDEN');
        expectError(
          await t.http.patch(`/api/rooms/${id}/`).set(bearer(token)).send({ capacity: 1000 }),
          403,
          'FORBIDDEN',
        );
        expectError(
          await t.http.put(`/api/rooms/${id}/`).set(bearer(token)).send({ name, capacity: 1000 }),
          403,
          'FORBIDDEN',
        );
        expectError(await t.http.delete(`/api/rooms/${id}/`).set(bearer(token)), 403, 'FORBIDDEN');
        assert.deepEqual(await snapshot(w.event.id), before);
        assert.equal(await countRows(t, 'rooms', 'name = $1', [name]), 0);
      });
    });
  }

  describe('organisateur of another event', () => {
    it('this event’s rooms are 404 by id, absent from lists, and unchanged', async () => {
      const w = await createWorld(t);
      const other = await createWorld(t);
      const token = other.tokens.organisateur;
      const id = await seedRoom(w.event.id, { name: uniq('Private '), capacity: 10 });
      const before = await snapshot(w.event.id);
      expectError(await t.http.get(`/api/rooms/${id}/`).set(bearer(token)), 404, 'NOT_FOUND');
      expectError(await t.http.patch(`/api/rooms/${id}/`).set(bearer(token)).send({ capacity: 1 }), 404, 'NOT_FOUND');
      expectError(
        await t.http.put(`/api/rooms/${id}/`).set(bearer(token)).send({ name: 'Mine', capacity: 1 }),
        404,
        'NOT_FOUND',
      );
      expectError(await t.http.delete(`/api/rooms/${id}/`).set(bearer(token)), 404, 'NOT_FOUND');
      const list = await t.http.get('/api/rooms/').set(bearer(token)).expect(200);
      assert.equal(list.body.count, 0);
      assert.ok(!list.text.includes(id));
      expectValidation(await t.http.get('/api/rooms/').query({ event: w.event.id }).set(bearer(token)), 'event');
      assert.deepEqual(await snapshot(w.event.id), before);
    });
  });

  describe('without a token or an event', () => {
    it('401 without a token; 403 EVENT_REQUIRED for a token without event', async () => {
      expectError(await t.http.get('/api/rooms/'), 401, 'AUTH_REQUIRED');
      expectError(await t.http.post('/api/rooms/').send({ name: 'X', capacity: 1 }), 401, 'AUTH_REQUIRED');
      const user = await createUser(t, { isStaff: true });
      const token = (await openSession(t, user.id, null)).access;
      expectError(await t.http.get('/api/rooms/').set(bearer(token)), 403, 'EVENT_REQUIRED');
    });
  });

  describe('concurrent creation', () => {
    const N = 30;

    it(`${N} parallel POSTs with the same name: exactly one 201, ${N - 1} × 409, one row`, async () => {
      const w = await createWorld(t);
      const name = uniq('Race ');
      const responses = await Promise.all(
        Array.from({ length: N }, () =>
          fire(t.http.post('/api/rooms/').set(bearer(w.tokens.organisateur)).send({ name, capacity: 10 })),
        ),
      );
      // Without the unique (event, name) index all N would be created; a count-then-insert guard would let several
      // through. Both break these exact counts.
      assert.deepEqual(tally(responses), { 201: 1, 409: N - 1 });
      for (const r of responses.filter((x) => x.status === 409)) expectError(r, 409, 'ROOM_NAME_TAKEN');
      assert.equal(await countRows(t, 'rooms', 'event_id = $1 AND name = $2', [w.event.id, name]), 1);
    });

    it(`negative control: ${N} parallel POSTs with distinct names all succeed`, async () => {
      // Proves N concurrent creations really get through (no serialization, rate limit or pool exhaustion turning
      // them into errors), so the 409s above come from the uniqueness rule alone.
      const w = await createWorld(t);
      const tag = uniq('Many ');
      const responses = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          fire(
            t.http
              .post('/api/rooms/')
              .set(bearer(w.tokens.organisateur))
              .send({ name: `${tag} ${i}`, capacity: 10 }),
          ),
        ),
      );
      assert.deepEqual(tally(responses), { 201: N });
      assert.equal(await countRows(t, 'rooms', 'event_id = $1', [w.event.id]), N);
    });
  });

  describe('deleting a room that has sessions', () => {
    it('is a 409 ROOM_HAS_SESSIONS and keeps both; without sessions it goes; the whole event still deletes', async () => {
      const w = await createWorld(t);
      const token = w.tokens.organisateur;
      const room = await t.http
        .post('/api/rooms/')
        .set(bearer(token))
        .send({ name: uniq('Hall '), capacity: 10 });
      assert.equal(room.status, 201, room.text);
      const start = new Date(Date.now() + 3_600_000);
      const session = await t.http
        .post('/api/sessions/')
        .set(bearer(token))
        .send({
          room_id: room.body.id,
          title: uniq('Talk '),
          start_time: start.toISOString(),
          end_time: new Date(start.getTime() + 3_600_000).toISOString(),
        });
      assert.equal(session.status, 201, session.text);

      expectError(await t.http.delete(`/api/rooms/${room.body.id}/`).set(bearer(token)), 409, 'ROOM_HAS_SESSIONS');
      assert.equal(await countRows(t, 'rooms', 'id = $1', [room.body.id]), 1);
      assert.equal(await countRows(t, 'sessions', 'id = $1', [session.body.id]), 1);

      await t.http.delete(`/api/sessions/${session.body.id}/`).set(bearer(token)).expect(204);
      await t.http.delete(`/api/rooms/${room.body.id}/`).set(bearer(token)).expect(204);

      // An event with rooms and sessions is still deleted whole: the check runs at the end of the statement.
      const room2 = await t.http
        .post('/api/rooms/')
        .set(bearer(token))
        .send({ name: uniq('Hall '), capacity: 10 });
      await t.http
        .post('/api/sessions/')
        .set(bearer(token))
        .send({
          room_id: room2.body.id,
          title: uniq('Talk '),
          start_time: start.toISOString(),
          end_time: new Date(start.getTime() + 3_600_000).toISOString(),
        })
        .expect(201);
      await t.http.delete(`/api/events/${w.event.id}/`).set(bearer(token)).expect(204);
      assert.equal(await countRows(t, 'sessions', 'event_id = $1', [w.event.id]), 0);
      assert.equal(await countRows(t, 'rooms', 'event_id = $1', [w.event.id]), 0);
    });
  });
});
