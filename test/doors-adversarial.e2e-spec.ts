import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'supertest';
import { BadgeIssuer } from '../src/modules/participants/badge-issuer';
import { Participant } from '../src/modules/participants/entities/participant.entity';
import { expectError, expectValidation } from './helpers/assertions';
import { type OfflineScan, doorState as doorStateOf } from './helpers/doors';
import {
  assign,
  bearer,
  countRows,
  createMember,
  createRoom,
  createUser,
  createWorld,
  openSession,
  uniq,
  type World,
} from './helpers/factories';
import { countBy, fire } from './helpers/requests';
import { bootTestApp, type TestApp } from './helpers/test-app';

/*
 * Adversarial end-to-end checks of the door decision, offline sync and the access log: hostile or odd input, scope
 * across events and roles, invariants under parallel online and offline scans, and the list parameters. Each refusal
 * is checked against the documented error shape and against the database (nothing written).
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const ago = (ms: number): Date => new Date(Date.now() - ms);

type Member = Awaited<ReturnType<typeof createMember>>;

interface ScanBody {
  status: 'granted' | 'denied';
  reason_code: string;
  duplicate: boolean;
  participant: { id: string } | null;
  room: { id: string; current_participants: number; capacity: number };
  access_id: string;
  scanned_at: string;
}

interface SyncResult {
  nonce: string;
  status: string;
  reason_code: string;
  conflict: boolean;
  already_synced: boolean;
}

/** A small deterministic PRNG (mulberry32), so that a failing random mix can be run again. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

describe('doors, adversarial', () => {
  let t: TestApp;
  let w: World;

  const verify = (token: string, roomId: string, body: unknown) =>
    fire(
      t.http
        .post(`/api/rooms/${roomId}/verify_access/`)
        .set(bearer(token))
        .send(body as object),
    );
  const qrVerify = (token: string, body: object) => fire(t.http.post('/api/qr/verify/').set(bearer(token)).send(body));
  const sync = (token: string, body: unknown) =>
    fire(
      t.http
        .post('/api/scans/sync/')
        .set(bearer(token))
        .send(body as object),
    );
  const list = (token: string, query: Record<string, string | string[]> = {}) =>
    fire(t.http.get('/api/room-access/').set(bearer(token)).query(query));
  const conflicts = (token: string, query: Record<string, string> = {}) =>
    fire(t.http.get('/api/room-access/conflicts/').set(bearer(token)).query(query));

  const decided = (res: Response): ScanBody => {
    assert.equal(res.status, 200, res.text);
    return res.body as ScanBody;
  };

  const offline = (m: { qr: string }, room: string, at: Date, extra: Partial<OfflineScan> = {}): OfflineScan => ({
    nonce: uniq('o'),
    qr_data: m.qr,
    room_id: room,
    direction: 'in',
    scanned_at: at.toISOString(),
    local_decision: 'granted',
    ...extra,
  });

  const occupancy = async (roomId: string): Promise<number> => {
    const rows: { n: number }[] = await t.db.query('SELECT current_participants AS n FROM rooms WHERE id = $1', [
      roomId,
    ]);
    return (rows[0] as { n: number }).n;
  };

  const whereIs = async (participantId: string): Promise<string | null> => {
    const rows: { r: string | null }[] = await t.db.query(
      'SELECT current_room_id AS r FROM participants WHERE id = $1',
      [participantId],
    );
    return (rows[0] as { r: string | null }).r;
  };

  const doorState = (eventId: string) => doorStateOf(t, eventId);

  /**
   * The invariants of an event's doors, whatever happened: occupancy within 0..capacity and equal to the badges inside;
   * a badge is checked in exactly when it has a granted entry, since the earliest one; its event attendance says the
   * same time.
   */
  const assertDoorInvariants = async (eventId: string): Promise<void> => {
    const rooms: { id: string; n: number; capacity: number; inside: number }[] = await t.db.query(
      `SELECT r.id, r.current_participants AS n, r.capacity,
              (SELECT count(*) FROM participants p WHERE p.current_room_id = r.id)::int AS inside
         FROM rooms r WHERE r.event_id = $1`,
      [eventId],
    );
    for (const r of rooms) {
      assert.ok(r.n >= 0 && r.n <= r.capacity, `room ${r.id}: occupancy ${r.n} outside 0..${r.capacity}`);
      assert.equal(r.n, r.inside, `room ${r.id}: occupancy ${r.n} but ${r.inside} badges inside`);
    }
    const badges: {
      id: string;
      is_checked_in: boolean;
      checked_in_at: Date | null;
      attended_at: Date | null;
      first_in: Date | null;
    }[] = await t.db.query(
      `SELECT p.id, p.is_checked_in, p.checked_in_at, a.attended_at,
              (SELECT min(l.scanned_at) FROM room_access_logs l
                WHERE l.event_id = p.event_id AND l.participant_id = p.id AND l.status = 'granted'
                  AND l.direction = 'in') AS first_in
         FROM participants p
         LEFT JOIN attendances a ON a.event_id = p.event_id AND a.participant_id = p.id AND a.session_id IS NULL
        WHERE p.event_id = $1`,
      [eventId],
    );
    for (const b of badges) {
      assert.equal(b.is_checked_in, b.first_in !== null, `badge ${b.id}: checked in iff it has a granted entry`);
      assert.equal(b.checked_in_at?.getTime() ?? null, b.first_in?.getTime() ?? null, `badge ${b.id}: checked_in_at`);
      assert.equal(b.attended_at?.getTime() ?? null, b.first_in?.getTime() ?? null, `badge ${b.id}: attendance`);
    }
  };

  const logsOfDevice = (eventId: string, device: string): Promise<number> =>
    countRows(t, 'room_access_logs', 'event_id = $1 AND device_id = $2', [eventId, device]);

  before(async () => {
    t = await bootTestApp();
    w = await createWorld(t);
  });
  after(() => t.close());

  // ---- input ------------------------------------------------------------------------------------------------------

  describe('input of the online door routes', () => {
    let room: string;
    let m: Member;
    before(async () => {
      room = await createRoom(t, w.event.id, { capacity: 50 });
      m = await createMember(t, w.event.id);
    });

    it('a scanned_at that passes the ISO check but is outside what the database can store: 400 VALIDATION_FAILED naming it, nothing written', async () => {
      const token = w.tokens.controlleur_des_badges;
      const before = await doorState(w.event.id);
      // Year 9999 at -14:00 is year 10000 in UTC: a valid ISO 8601 string and a valid JS Date.
      for (const scannedAt of ['9999-12-31T23:59:59-14:00', '9999-12-31T23:59:59.999-23:59']) {
        const a = await verify(token, room, { qr_data: m.qr, scanned_at: scannedAt });
        assert.notEqual(a.status, 500, a.text);
        expectValidation(a, 'scanned_at');
        expectValidation(await qrVerify(token, { room_id: room, qr_data: m.qr, scanned_at: scannedAt }), 'scanned_at');
      }
      assert.deepEqual(await doorState(w.event.id), before);
    });

    it('extreme but storable device times online are kept in the log; the decision is at the server time', async () => {
      const token = w.tokens.controlleur_des_badges;
      const r = await createRoom(t, w.event.id, { capacity: 10 });
      const people = [await createMember(t, w.event.id), await createMember(t, w.event.id)];
      const times = ['1900-01-01T00:00:00.000Z', '9999-12-31T23:59:59.000Z'];
      for (const [i, when] of times.entries()) {
        const start = Date.now();
        const body = decided(await verify(token, r, { qr_data: people[i]!.qr, scanned_at: when }));
        assert.equal(body.status, 'granted', JSON.stringify(body));
        const rows: { scanned_at: Date; device_scanned_at: Date }[] = await t.db.query(
          'SELECT scanned_at, device_scanned_at FROM room_access_logs WHERE id = $1',
          [body.access_id],
        );
        assert.equal(rows[0]?.device_scanned_at.getTime(), new Date(when).getTime(), 'device time kept');
        assert.ok(Math.abs((rows[0] as { scanned_at: Date }).scanned_at.getTime() - start) < 60_000, 'server time');
      }
      assert.equal(await occupancy(r), 2);
    });

    it('wrong types, case variants, client-chosen server fields and prototype keys: 400, nothing written', async () => {
      const token = w.tokens.controlleur_des_badges;
      const before = await doorState(w.event.id);
      const cases: [unknown, string][] = [
        [{ qr_data: [m.qr] }, 'qr_data'],
        [{ qr_data: { text: m.qr } }, 'qr_data'],
        [{ qr_data: true }, 'qr_data'],
        [{ qr_data: null }, 'qr_data'],
        [{ qr_data: m.qr, direction: 'IN' }, 'direction'],
        [{ qr_data: m.qr, direction: ' in' }, 'direction'],
        [{ qr_data: m.qr, direction: '' }, 'direction'],
        [{ qr_data: m.qr, direction: ['in'] }, 'direction'],
        [{ qr_data: m.qr, direction: 0 }, 'direction'],
        [{ qr_data: m.qr, device_id: 5, nonce: 'n1' }, 'device_id'],
        [{ qr_data: m.qr, device_id: 'd1', nonce: 7 }, 'nonce'],
        [{ qr_data: m.qr, device_id: '', nonce: 'n1' }, 'device_id'],
        [{ qr_data: m.qr, device_id: 'd1', nonce: '' }, 'nonce'],
        [{ qr_data: m.qr, device_id: 'd'.repeat(101), nonce: 'n1' }, 'device_id'],
        [{ qr_data: m.qr, device_id: 'tablette-é', nonce: 'n1' }, 'device_id'],
        [{ qr_data: m.qr, scanned_at: null }, 'scanned_at'],
        [{ qr_data: m.qr, scanned_at: '' }, 'scanned_at'],
        [{ qr_data: m.qr, scanned_at: '2026-02-30T10:00:00Z' }, 'scanned_at'],
        [{ qr_data: m.qr, source: 'offline' }, 'source'],
        [{ qr_data: m.qr, local_decision: 'granted' }, 'local_decision'],
        [{ qr_data: m.qr, participant_id: m.participant.id }, 'participant_id'],
        [{ qr_data: m.qr, access_id: m.participant.id }, 'access_id'],
        [{ qr_data: m.qr, duplicate: false }, 'duplicate'],
      ];
      for (const [body, field] of cases) {
        expectValidation(await verify(token, room, body), field);
      }
      // JSON that would reach the prototype: refused before anything runs.
      for (const raw of [
        `{"qr_data": ${JSON.stringify(m.qr)}, "__proto__": {"status": "granted"}}`,
        `{"qr_data": ${JSON.stringify(m.qr)}, "constructor": {"prototype": {"status": "granted"}}}`,
      ]) {
        const res = await fire(
          t.http
            .post(`/api/rooms/${room}/verify_access/`)
            .set(bearer(token))
            .set('Content-Type', 'application/json')
            .send(raw),
        );
        expectError(res, 400, res.body.code as string);
      }
      assert.deepEqual(await doorState(w.event.id), before);
      // Boundaries accepted: a 512-character QR text (unknown badge) and a 100-character device id.
      const long = decided(
        await verify(token, room, { qr_data: 'Q'.repeat(512), device_id: 'd'.repeat(100), nonce: 'n' }),
      );
      assert.equal(long.reason_code, 'BADGE_UNKNOWN');
    });

    it('a body over the size limit: 413 PAYLOAD_TOO_LARGE on verify and sync, nothing written', async () => {
      const token = w.tokens.controlleur_des_badges;
      const before = await doorState(w.event.id);
      const huge = 'x'.repeat(t.config.maxBodyKb * 1024 + 10);
      expectError(await verify(token, room, { qr_data: huge }), 413, 'PAYLOAD_TOO_LARGE');
      expectError(
        await sync(token, { device_id: 'big', scans: [offline({ qr: huge }, room, ago(MIN))] }),
        413,
        'PAYLOAD_TOO_LARGE',
      );
      assert.deepEqual(await doorState(w.event.id), before);
    });

    it("a client device_id cannot name another scanner's key space for nonce-only requests (user:…): 400, nothing written", async () => {
      // A nonce without device_id is idempotent per calling user, under the device key `user:<id>`.
      const other = await createMember(t, w.event.id, 'controlleur_des_badges');
      const r = await createRoom(t, w.event.id, { capacity: 10 });
      const [x, y] = [await createMember(t, w.event.id), await createMember(t, w.event.id)];
      const before = await doorState(w.event.id);
      for (const nonce of ['k1', 'k2']) {
        const res = await verify(w.tokens.controlleur_des_badges, r, {
          qr_data: x.qr,
          device_id: `user:${other.user.id}`,
          nonce,
        });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.code, 'VALIDATION_FAILED');
        assert.ok(res.body.errors?.device_id, JSON.stringify(res.body));
      }
      assert.deepEqual(await doorState(w.event.id), before);
      // Control: a device id with user elsewhere than at the start is an ordinary device id.
      assert.equal(
        decided(
          await verify(w.tokens.controlleur_des_badges, r, { qr_data: x.qr, device_id: 'tab-user:1', nonce: 'k1' }),
        ).status,
        'granted',
      );
      // The other controller's own nonce-only scans with k1 and k2 are new decisions, its own.
      const sameBadge = decided(await verify(other.token, r, { qr_data: x.qr, nonce: 'k1' }));
      const otherBadge = decided(await verify(other.token, r, { qr_data: y.qr, nonce: 'k2' }));
      assert.deepEqual([sameBadge.status, otherBadge.status, otherBadge.reason_code], ['granted', 'granted', 'OK']);
      assert.equal(await whereIs(y.participant.id), r);
    });

    it('40 parallel requests with one (device, nonce) and two contents: one decision, the rest replays or 409', async () => {
      const r = await createRoom(t, w.event.id, { capacity: 10 });
      const [a, b] = [await createMember(t, w.event.id), await createMember(t, w.event.id)];
      const device = uniq('race');
      const bodyA = { qr_data: a.qr, device_id: device, nonce: 'same' };
      const bodyB = { qr_data: b.qr, device_id: device, nonce: 'same' };
      const token = w.tokens.controlleur_des_badges;
      const requests = Array.from({ length: 40 }, (_, i) => (i % 8 < 5 ? bodyA : bodyB));
      const responses = await Promise.all(requests.map((body) => verify(token, r, body)));
      assert.equal(await logsOfDevice(w.event.id, device), 1, 'one decision stored');
      const groups = [bodyA, bodyB].map((body) => responses.filter((_, i) => requests[i] === body));
      const winner = groups.findIndex((g) => g[0]?.status === 200);
      assert.ok(winner >= 0, `one content was decided: ${JSON.stringify(countBy(responses.map((x) => x.status)))}`);
      for (const res of groups[winner]!) assert.deepEqual(res.body, groups[winner]![0]!.body, 'the same answer');
      for (const res of groups[1 - winner]!) expectError(res, 409, 'NONCE_REUSED');
      assert.equal(await occupancy(r), 1);
      await assertDoorInvariants(w.event.id);
    });
  });

  describe('input of offline sync', () => {
    let room: string;
    before(async () => {
      room = await createRoom(t, w.event.id, { capacity: 500 });
    });

    it('one nonce twice in one upload, same scan: stored once, both answered alike, neither "already synced"', async () => {
      const m = await createMember(t, w.event.id);
      const device = uniq('dup');
      const s = offline(m, room, ago(5 * MIN), { nonce: 'twice' });
      const res = await sync(w.tokens.controlleur_des_badges, { device_id: device, scans: [s, { ...s }] });
      assert.equal(res.status, 200, res.text);
      assert.equal(await logsOfDevice(w.event.id, device), 1);
      const [r0, r1] = res.body.results as SyncResult[];
      assert.equal(r0?.status, 'granted');
      assert.deepEqual([r1?.status, r1?.reason_code], [r0?.status, r0?.reason_code]);
      // API.md: already_synced is true when this (device, nonce) was stored by an earlier upload.
      assert.deepEqual(
        [r0?.already_synced, r1?.already_synced],
        [false, false],
        `no earlier upload stored it: ${JSON.stringify(res.body.results)}`,
      );
    });

    it('one nonce twice in one upload for two badges: the earlier by device time is stored, the other NONCE_REUSED', async () => {
      const [a, b] = [await createMember(t, w.event.id), await createMember(t, w.event.id)];
      const device = uniq('dup2');
      const res = await sync(w.tokens.controlleur_des_badges, {
        device_id: device,
        scans: [offline(a, room, ago(5 * MIN), { nonce: 'n' }), offline(b, room, ago(10 * MIN), { nonce: 'n' })],
      });
      assert.equal(res.status, 200, res.text);
      const [ra, rb] = res.body.results as SyncResult[];
      assert.deepEqual(
        [rb?.status, rb?.reason_code, rb?.already_synced],
        ['granted', 'OK', false],
        'the earlier scan by device time',
      );
      assert.deepEqual([ra?.status, ra?.reason_code, ra?.conflict], ['denied', 'NONCE_REUSED', true]);
      assert.equal(await logsOfDevice(w.event.id, device), 1);
      assert.equal(await whereIs(a.participant.id), null, 'the refused scan moved nobody');
      assert.equal(await whereIs(b.participant.id), room);
    });

    it('a device time the database cannot store in a 40-scan upload: 400 VALIDATION_FAILED naming it, nothing stored', async () => {
      const people = await Promise.all(Array.from({ length: 40 }, () => createMember(t, w.event.id)));
      const device = uniq('clock');
      const scans = people.map((p, i) => offline(p, room, ago((50 - i) * MIN)));
      // Valid ISO 8601, valid JS Date (year 10000 in UTC): sorted last by device time.
      scans[5] = { ...(scans[5] as OfflineScan), scanned_at: '9999-12-31T23:59:59-14:00' };
      const before = await doorState(w.event.id);
      const res = await sync(w.tokens.controlleur_des_badges, { device_id: device, scans });
      assert.notEqual(res.status, 500, res.text);
      const stored = await logsOfDevice(w.event.id, device);
      assert.equal(stored, 0, `a refused upload stored ${stored} of its scans (answered ${res.status})`);
      expectValidation(res, 'scans.5.scanned_at');
      assert.deepEqual(await doorState(w.event.id), before);
    });

    it('malformed uploads (null items, wrong containers, wrong types, unknown fields): 400, nothing stored', async () => {
      const m = await createMember(t, w.event.id);
      const good = offline(m, room, ago(MIN));
      const token = w.tokens.controlleur_des_badges;
      const before = await doorState(w.event.id);
      const odd: unknown[] = [
        { device_id: 'd', scans: [null] },
        { device_id: 'd', scans: ['x'] },
        { device_id: 'd', scans: [[good]] },
        { device_id: 'd', scans: [[]] },
        { device_id: 'd', scans: [good, [good, good]] },
        { device_id: 'd', scans: [42] },
        { device_id: 'd', scans: { 0: good } },
        { device_id: 'd', scans: 'abc' },
        { device_id: 'd', scans: [good, null] },
      ];
      const answers: string[] = [];
      for (const body of odd) {
        const res = await sync(token, body);
        answers.push(
          `${JSON.stringify((body as { scans: unknown }).scans).slice(0, 40)} -> ${res.status} ${res.body.code}`,
        );
        if (res.status === 400) expectError(res, 400, 'VALIDATION_FAILED');
      }
      assert.deepEqual(
        answers.filter((a) => !a.endsWith('-> 400 VALIDATION_FAILED')),
        [],
        'every malformed container is a 400',
      );
      const named: [unknown, string][] = [
        [{ device_id: 5, scans: [good] }, 'device_id'],
        [{ device_id: null, scans: [good] }, 'device_id'],
        [{ device_id: 'd', scans: [good], event_id: w.event.id }, 'event_id'],
        [{ device_id: 'd', scans: [good], source: 'online' }, 'source'],
        [{ device_id: 'd', scans: [{ ...good, nonce: '' }] }, 'scans.0.nonce'],
        [{ device_id: 'd', scans: [{ ...good, qr_data: '' }] }, 'scans.0.qr_data'],
        [{ device_id: 'd', scans: [{ ...good, qr_data: 'q'.repeat(513) }] }, 'scans.0.qr_data'],
        [{ device_id: 'd', scans: [{ ...good, room_id: 'room-1' }] }, 'scans.0.room_id'],
        [{ device_id: 'd', scans: [{ ...good, direction: 'OUT' }] }, 'scans.0.direction'],
        [{ device_id: 'd', scans: [{ ...good, scanned_at: undefined }] }, 'scans.0.scanned_at'],
        [{ device_id: 'd', scans: [{ ...good, scanned_at: 1718870400000 }] }, 'scans.0.scanned_at'],
        [{ device_id: 'd', scans: [{ ...good, local_decision: undefined }] }, 'scans.0.local_decision'],
        [{ device_id: 'd', scans: [{ ...good, participant_id: m.participant.id }] }, 'scans.0.participant_id'],
      ];
      for (const [body, field] of named) expectValidation(await sync(token, body), field);
      assert.deepEqual(await doorState(w.event.id), before);
    });

    it('exactly 500 scans, every field at its maximum length: accepted and stored once each', async () => {
      const device = 'D'.repeat(100);
      const scans = Array.from({ length: 500 }, (_, i) =>
        offline({ qr: `MP1.${String(i).padStart(508, 'z')}` }, room, ago(40 * MIN - i * 1000), {
          nonce: `${String(i).padStart(3, '0')}${'n'.repeat(97)}`,
          local_decision: 'denied',
        }),
      );
      const res = await sync(w.tokens.controlleur_des_badges, { device_id: device, scans });
      assert.equal(res.status, 200, res.text.slice(0, 500));
      assert.equal(res.body.results.length, 500);
      assert.deepEqual(countBy((res.body.results as SyncResult[]).map((r) => r.reason_code)), { BADGE_UNKNOWN: 500 });
      assert.equal(await logsOfDevice(w.event.id, device), 500);
    });
  });

  // ---- scope and roles --------------------------------------------------------------------------------------------

  describe('scope and roles', () => {
    it('offline: a scanner outside its shift at the device time is refused SCANNER_NOT_ASSIGNED, kept and flagged', async () => {
      const world = await createWorld(t, { startDate: ago(4 * HOUR) });
      const [roomA, roomB] = [await createRoom(t, world.event.id), await createRoom(t, world.event.id)];
      const ctrl = world.users.controlleur_des_badges;
      await t.db.query(
        `INSERT INTO room_assignments (event_id, room_id, user_id, role, start_time, end_time, is_active)
         VALUES ($1, $2, $3, 'controlleur_des_badges', $4, $5, true)`,
        [world.event.id, roomA, ctrl.id, ago(150 * MIN), ago(60 * MIN)],
      );
      const people = await Promise.all([1, 2, 3].map(() => createMember(t, world.event.id)));
      // The shift is over now: online, this controller may scan nowhere.
      expectError(
        await verify(world.tokens.controlleur_des_badges, roomA, { qr_data: people[0]!.qr }),
        403,
        'FORBIDDEN',
      );
      const device = uniq('shift');
      const res = await sync(world.tokens.controlleur_des_badges, {
        device_id: device,
        scans: [
          offline(people[0]!, roomA, ago(120 * MIN)), // during the shift, at its room
          offline(people[1]!, roomA, ago(30 * MIN)), // after the shift
          offline(people[2]!, roomB, ago(100 * MIN)), // during the shift, at another room
        ],
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(
        (res.body.results as SyncResult[]).map((r) => [r.status, r.reason_code, r.conflict]),
        [
          ['granted', 'OK', false],
          ['denied', 'SCANNER_NOT_ASSIGNED', true],
          ['denied', 'SCANNER_NOT_ASSIGNED', true],
        ],
      );
      assert.equal(await logsOfDevice(world.event.id, device), 3, 'every scan is kept');
      assert.deepEqual(
        [
          await whereIs(people[0]!.participant.id),
          await whereIs(people[1]!.participant.id),
          await whereIs(people[2]!.participant.id),
        ],
        [roomA, null, null],
      );
      const flagged = await conflicts(world.tokens.organisateur, { kind: 'decision_mismatch' });
      assert.equal(flagged.status, 200, flagged.text);
      assert.equal(flagged.body.count, 2);
      await assertDoorInvariants(world.event.id);
    });

    it('offline: a badge of another event is BADGE_UNKNOWN (no leak), a rotated QR is BADGE_REVOKED; both flagged', async () => {
      const other = await createWorld(t);
      const stranger = await createMember(t, other.event.id);
      const room = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      const oldQr = m.qr;
      const rotated = await fire(
        t.http.post(`/api/participants/${m.participant.id}/rotate-qr/`).set(bearer(w.tokens.organisateur)),
      );
      assert.ok([200, 201].includes(rotated.status), rotated.text);
      const theirs = await doorState(other.event.id);
      const device = uniq('foreign');
      const res = await sync(w.tokens.controlleur_des_badges, {
        device_id: device,
        scans: [offline(stranger, room, ago(3 * MIN)), offline({ qr: oldQr }, room, ago(2 * MIN))],
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(
        (res.body.results as SyncResult[]).map((r) => [r.status, r.reason_code, r.conflict]),
        [
          ['denied', 'BADGE_UNKNOWN', true],
          ['denied', 'BADGE_REVOKED', true],
        ],
      );
      const rows: { participant_id: string | null }[] = await t.db.query(
        'SELECT participant_id FROM room_access_logs WHERE event_id = $1 AND device_id = $2 ORDER BY scanned_at',
        [w.event.id, device],
      );
      assert.equal(rows[0]?.participant_id, null, "the other event's badge is not named in this event's log");
      assert.deepEqual(await doorState(other.event.id), theirs, 'nothing written in the other event');
      assert.equal(await whereIs(m.participant.id), null);
    });

    it('roles are per event: a controller of A who is a participant of B cannot scan in B, and B is 404 from A', async () => {
      const a = await createWorld(t);
      const b = await createWorld(t);
      const user = await createUser(t);
      await assign(t, a.event.id, user.id, 'controlleur_des_badges');
      await assign(t, b.event.id, user.id, 'participant');
      const tokenA = (await openSession(t, user.id, a.event.id)).access;
      const tokenB = (await openSession(t, user.id, b.event.id)).access;
      const roomB = await createRoom(t, b.event.id);
      const roomA = await createRoom(t, a.event.id);
      const inB = await createMember(t, b.event.id);
      const [stateA, stateB] = [await doorState(a.event.id), await doorState(b.event.id)];
      expectError(await verify(tokenB, roomB, { qr_data: inB.qr }), 403, 'FORBIDDEN');
      expectError(await qrVerify(tokenB, { room_id: roomB, qr_data: inB.qr }), 403, 'FORBIDDEN');
      expectError(await sync(tokenB, { device_id: 'x', scans: [offline(inB, roomB, ago(MIN))] }), 403, 'FORBIDDEN');
      expectError(await list(tokenB), 403, 'FORBIDDEN');
      expectError(await fire(t.http.get('/api/scans/manifest/').set(bearer(tokenB))), 403, 'FORBIDDEN');
      expectError(await verify(tokenA, roomB, { qr_data: inB.qr }), 404, 'NOT_FOUND');
      expectValidation(await sync(tokenA, { device_id: 'x', scans: [offline(inB, roomB, ago(MIN))] }), 'scans.room_id');
      // From A, B's badge at A's room is an unknown badge (that one decision is written in A only).
      const unknown = decided(await verify(tokenA, roomA, { qr_data: inB.qr }));
      assert.deepEqual([unknown.reason_code, unknown.participant], ['BADGE_UNKNOWN', null]);
      assert.deepEqual(await doorState(b.event.id), stateB, 'nothing written in B');
      assert.equal(((await doorState(a.event.id)) as { logs: number }).logs, (stateA as { logs: number }).logs + 1);
    });

    it('a cancelled registration: the badge stops opening doors, its place is freed; a new registration gets a new QR', async () => {
      const world = await createWorld(t, { registrationOpen: true, capacity: 50 });
      const room = await createRoom(t, world.event.id, { capacity: 5 });
      const user = await createUser(t);
      const token = (await openSession(t, user.id, null)).access;
      const register = () => fire(t.http.post(`/api/events/${world.event.id}/register/`).set(bearer(token)));
      const qrOf = async (): Promise<{ id: string; qr: string }> => {
        const p = await t.db.getRepository(Participant).findOneByOrFail({ eventId: world.event.id, userId: user.id });
        return { id: p.id, qr: t.app.get(BadgeIssuer, { strict: false }).qrCodeData(p) };
      };
      assert.equal((await register()).status, 201);
      const first = await qrOf();
      const ctrl = world.tokens.controlleur_des_badges;
      assert.equal(decided(await verify(ctrl, room, { qr_data: first.qr })).status, 'granted');
      assert.equal(await occupancy(room), 1);
      const cancelled = await fire(t.http.delete(`/api/events/${world.event.id}/register/`).set(bearer(token)));
      assert.ok(cancelled.status >= 200 && cancelled.status < 300, cancelled.text);
      assert.equal(await occupancy(room), 0, 'the place of a badge that is gone is freed');
      const refused = decided(await verify(ctrl, room, { qr_data: first.qr }));
      assert.equal(refused.status, 'denied');
      assert.ok(['BADGE_REVOKED', 'BADGE_UNKNOWN'].includes(refused.reason_code), refused.reason_code);
      const offlineRes = await sync(ctrl, { device_id: uniq('reg'), scans: [offline(first, room, ago(MIN))] });
      assert.equal((offlineRes.body.results as SyncResult[])[0]?.status, 'denied');
      assert.equal(await occupancy(room), 0);
      assert.equal((await register()).status, 201);
      const second = await qrOf();
      assert.notEqual(second.qr, first.qr, 'a new badge, a new QR');
      assert.equal(decided(await verify(ctrl, room, { qr_data: first.qr })).status, 'denied', 'the old QR stays dead');
      assert.equal(decided(await verify(ctrl, room, { qr_data: second.qr })).status, 'granted');
      await assertDoorInvariants(world.event.id);
    });
  });

  // ---- concurrency and interleaving -------------------------------------------------------------------------------

  describe('invariants under concurrency', () => {
    it('one 100-scan upload sent twice at once: each scan stored once, both answers agree, one says new', async () => {
      const world = await createWorld(t);
      const rooms = [
        await createRoom(t, world.event.id, { capacity: 6 }),
        await createRoom(t, world.event.id, { capacity: 6 }),
      ];
      const people = await Promise.all(Array.from({ length: 25 }, () => createMember(t, world.event.id)));
      const rnd = prng(7);
      const device = uniq('twice');
      const scans = Array.from({ length: 100 }, (_, i) =>
        offline(people[Math.floor(rnd() * people.length)]!, rooms[Math.floor(rnd() * 2)]!, ago(40 * MIN - i * 10_000), {
          nonce: `t${i}`,
          direction: rnd() < 0.7 ? 'in' : 'out',
          local_decision: rnd() < 0.9 ? 'granted' : 'denied',
        }),
      );
      const token = world.tokens.controlleur_des_badges;
      const [a, b] = await Promise.all([
        sync(token, { device_id: device, scans }),
        sync(token, { device_id: device, scans }),
      ]);
      assert.equal(a.status, 200, a.text);
      assert.equal(b.status, 200, b.text);
      assert.equal(await logsOfDevice(world.event.id, device), 100);
      const ra = a.body.results as SyncResult[];
      const rb = b.body.results as SyncResult[];
      for (let i = 0; i < 100; i++) {
        const [x, y] = [ra[i]!, rb[i]!];
        assert.deepEqual(
          [y.nonce, y.status, y.reason_code, y.conflict],
          [x.nonce, x.status, x.reason_code, x.conflict],
          `scan ${i}`,
        );
        assert.equal(Number(x.already_synced) + Number(y.already_synced), 1, `scan ${i}: exactly one upload stored it`);
      }
      await assertDoorInvariants(world.event.id);
    });

    it('online scans at two doors and three offline uploads of the same badges at once: every invariant holds', async () => {
      const world = await createWorld(t);
      const rooms = [
        await createRoom(t, world.event.id, { capacity: 3 }),
        await createRoom(t, world.event.id, { capacity: 3 }),
      ];
      const people = await Promise.all(Array.from({ length: 12 }, () => createMember(t, world.event.id)));
      const rnd = prng(42);
      const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
      const online = Array.from({ length: 120 }, () => ({
        token: rnd() < 0.5 ? world.tokens.controlleur_des_badges : world.tokens.gestionnaire_des_salles,
        room: pick(rooms),
        body: { qr_data: pick(people).qr, direction: rnd() < 0.7 ? 'in' : 'out' },
      }));
      const uploads = [0, 1, 2].map((d) => ({
        device_id: uniq(`mix${d}-`),
        scans: Array.from({ length: 30 }, (_, i) =>
          offline(pick(people), pick(rooms), ago(30 * MIN - i * 20_000 - d * 3_000), {
            direction: rnd() < 0.7 ? 'in' : 'out',
          }),
        ),
      }));
      const responses = await Promise.all([
        ...online.map((o) => verify(o.token, o.room, o.body)),
        ...uploads.map((u) => sync(world.tokens.organisateur, u)),
      ]);
      assert.deepEqual(countBy(responses.map((r) => r.status)), { 200: 123 });
      assert.equal(await countRows(t, 'room_access_logs', 'event_id = $1', [world.event.id]), 120 + 90);
      for (const r of responses.slice(0, 120)) {
        const body = r.body as ScanBody;
        assert.ok(
          body.room.current_participants >= 0 && body.room.current_participants <= 3,
          JSON.stringify(body.room),
        );
      }
      await assertDoorInvariants(world.event.id);
    });

    it('parallel exits: 60 exits of the 3 people inside and 40 of people never inside; occupancy ends at 0, 3 real exits', async () => {
      const r = await createRoom(t, w.event.id, { capacity: 10 });
      const inside = await Promise.all([1, 2, 3].map(() => createMember(t, w.event.id)));
      const outside = await Promise.all(Array.from({ length: 10 }, () => createMember(t, w.event.id)));
      for (const p of inside)
        assert.equal(decided(await verify(w.tokens.organisateur, r, { qr_data: p.qr })).status, 'granted');
      assert.equal(await occupancy(r), 3);
      const exits = [
        ...Array.from({ length: 60 }, (_, i) => inside[i % 3]!),
        ...Array.from({ length: 40 }, (_, i) => outside[i % 10]!),
      ];
      const responses = await Promise.all(
        exits.map((p, i) =>
          verify(i % 2 ? w.tokens.controlleur_des_badges : w.tokens.gestionnaire_des_salles, r, {
            qr_data: p.qr,
            direction: 'out',
          }),
        ),
      );
      assert.deepEqual(countBy(responses.map((x) => String(x.body.status))), { granted: 100 });
      assert.equal(responses.filter((x) => !x.body.duplicate).length, 3, 'exactly the 3 people inside left');
      assert.ok(responses.every((x) => x.body.room.current_participants >= 0));
      assert.equal(await occupancy(r), 0);
      const real = await countRows(
        t,
        'room_access_logs',
        `room_id = $1 AND direction = 'out' AND status = 'granted' AND NOT duplicate`,
        [r],
      );
      assert.equal(real, 3);
      await assertDoorInvariants(w.event.id);
    });

    it('negative control: the invariant check catches occupancy or a check-in that disagrees with the scans', async () => {
      const world = await createWorld(t);
      const r = await createRoom(t, world.event.id, { capacity: 5 });
      const m = await createMember(t, world.event.id);
      assert.equal(decided(await verify(world.tokens.organisateur, r, { qr_data: m.qr })).status, 'granted');
      await assertDoorInvariants(world.event.id);
      await t.db.query('UPDATE rooms SET current_participants = 2 WHERE id = $1', [r]);
      await assert.rejects(assertDoorInvariants(world.event.id), /occupancy 2 but 1 badges inside/);
      await t.db.query('UPDATE rooms SET current_participants = 1 WHERE id = $1', [r]);
      await t.db.query(`UPDATE participants SET checked_in_at = checked_in_at + interval '1 second' WHERE id = $1`, [
        m.participant.id,
      ]);
      await assert.rejects(assertDoorInvariants(world.event.id), /checked_in_at/);
    });

    it('an offline scan uploaded late, older than the badge’s latest online scan, does not move the badge', async () => {
      const [roomA, roomB] = [await createRoom(t, w.event.id), await createRoom(t, w.event.id)];
      const [p1, p2, p3] = [
        await createMember(t, w.event.id),
        await createMember(t, w.event.id),
        await createMember(t, w.event.id),
      ];
      // Ten minutes ago, a door without network let p1 into B and p2 out of A (p2 had been let in earlier), and p3
      // into B. Now p1 and p2 walk into A past an online door. Then the offline door uploads.
      const ctrl = w.tokens.controlleur_des_badges;
      assert.equal(decided(await verify(ctrl, roomA, { qr_data: p1.qr })).status, 'granted');
      assert.equal(decided(await verify(ctrl, roomA, { qr_data: p2.qr })).status, 'granted');
      assert.equal(await occupancy(roomA), 2);
      const res = await sync(ctrl, {
        device_id: uniq('late'),
        scans: [
          offline(p1, roomB, ago(10 * MIN)),
          offline(p2, roomA, ago(10 * MIN), { direction: 'out' }),
          offline(p3, roomB, ago(10 * MIN)),
        ],
      });
      assert.equal(res.status, 200, res.text);
      // Logged and granted at their time…
      assert.deepEqual(
        (res.body.results as { status: string }[]).map((r) => r.status),
        ['granted', 'granted', 'granted'],
      );
      assert.equal(await whereIs(p1.participant.id), roomA, 'p1 entered A after it entered B: it is in A');
      assert.equal(await whereIs(p2.participant.id), roomA, 'p2 entered A after it left A: it is in A');
      // …and a scan with nothing later (control) still moves its badge.
      assert.equal(await whereIs(p3.participant.id), roomB, 'p3 has no later scan: it is in B');
      assert.deepEqual([await occupancy(roomA), await occupancy(roomB)], [2, 1]);
      // p1's check-in is its earliest granted entry, the offline one.
      const [{ checked_in_at }] = (await t.db.query('SELECT checked_in_at FROM participants WHERE id = $1', [
        p1.participant.id,
      ])) as { checked_in_at: Date }[];
      assert.ok(Date.now() - checked_in_at.getTime() > 9 * MIN, `checked in at ${checked_in_at.toISOString()}`);
    });
  });

  // ---- the access log ---------------------------------------------------------------------------------------------

  describe('access log listing', () => {
    let world: World;
    let room: string;
    let people: Member[];
    let ids: string[];
    before(async () => {
      world = await createWorld(t);
      room = await createRoom(t, world.event.id, { capacity: 50 });
      people = await Promise.all(
        ['Zoé', 'Ana_Maria', 'Bob%'].map((firstName) => createMember(t, world.event.id, 'participant', { firstName })),
      );
      // Fired at once: decided in one batch, so many rows share one scanned_at (the tie-break must hold pages).
      const burst = await Promise.all(
        Array.from({ length: 9 }, (_, i) =>
          verify(world.tokens.gestionnaire_des_salles, room, {
            qr_data: people[i % 3]!.qr,
            direction: i < 6 ? 'in' : 'out',
          }),
        ),
      );
      const mine = decided(
        await verify(world.tokens.controlleur_des_badges, room, { qr_data: 'forged-by-controller' }),
      );
      ids = [...burst.map((r) => decided(r).access_id), mine.access_id];
    });

    it('every page of every ordering, walked with page_size 3: each row exactly once, in order, count stable', async () => {
      for (const ordering of ['-scanned_at', 'scanned_at', 'received_at', '-received_at']) {
        const seen: string[] = [];
        let page = 1;
        let next: string | null = 'start';
        while (next) {
          const res = await list(world.tokens.organisateur, { ordering, page_size: '3', page: String(page), room });
          assert.equal(res.status, 200, res.text);
          assert.equal(res.body.count, ids.length, `${ordering} page ${page}: count`);
          const rows = res.body.results as { id: string; scanned_at: string; received_at: string }[];
          seen.push(...rows.map((r) => r.id));
          next = res.body.next as string | null;
          if (next) {
            const url = new URL(next);
            assert.equal(url.searchParams.get('room'), room, 'the next link keeps the filters');
            assert.equal(url.searchParams.get('ordering'), ordering);
          }
          page += 1;
          assert.ok(page < 10, 'the pages end');
        }
        assert.equal(new Set(seen).size, seen.length, `${ordering}: no row twice`);
        assert.deepEqual([...seen].sort(), [...ids].sort(), `${ordering}: every row`);
      }
      const beyond = await list(world.tokens.organisateur, { page: '99', page_size: '3' });
      assert.equal(beyond.status, 200, beyond.text);
      assert.deepEqual(beyond.body.results, []);
      const clamped = await list(world.tokens.organisateur, { page_size: '100000' });
      assert.equal(clamped.status, 200, clamped.text);
      assert.equal(clamped.body.results.length, ids.length);
    });

    it('search matches badge id and name literally (%, _ are not wildcards) and never widens a controller’s scope', async () => {
      const org = world.tokens.organisateur;
      const count = async (token: string, search: string): Promise<number> => {
        const res = await list(token, { search });
        assert.equal(res.status, 200, res.text);
        return res.body.count as number;
      };
      assert.equal(await count(org, people[0]!.participant.badgeId), 3);
      assert.equal(await count(org, 'zoé'), 3, 'case-insensitive');
      assert.equal(await count(org, 'Ana_Maria'), 3);
      assert.equal(await count(org, 'Ana%Maria'), 0, '% is literal');
      assert.equal(await count(org, 'Bob%'), 3);
      assert.equal(await count(org, '_'), 3, '_ is literal: only Ana_Maria');
      assert.equal(await count(org, '%'), 3, '% is literal: only Bob%');
      // The controller scanned none of these badges: searching for them finds nothing of theirs.
      assert.equal(await count(world.tokens.controlleur_des_badges, people[0]!.participant.badgeId), 0);
      assert.equal(await count(world.tokens.controlleur_des_badges, ''), 1);
    });

    it('bad list parameters: 400 VALIDATION_FAILED naming the parameter, never a 500', async () => {
      const token = world.tokens.organisateur;
      const cases: [Record<string, string | string[]>, string][] = [
        [{ page: '0' }, 'page'],
        [{ page: '-1' }, 'page'],
        [{ page: 'abc' }, 'page'],
        [{ page: '1.5' }, 'page'],
        [{ page: '1e20' }, 'page'],
        [{ page_size: '0' }, 'page_size'],
        [{ page_size: '-3' }, 'page_size'],
        [{ page_size: 'ten' }, 'page_size'],
        [{ ordering: 'participant_name' }, 'ordering'],
        [{ ordering: '--scanned_at' }, 'ordering'],
        [{ ordering: 'scanned_at;DROP TABLE rooms' }, 'ordering'],
        [{ source: 'bogus' }, 'source'],
        [{ status: 'GRANTED' }, 'status'],
        [{ status: ['granted', 'denied'] }, 'status'],
        [{ direction: 'IN' }, 'direction'],
        [{ participant: 'abc' }, 'participant'],
        [{ reason_code: 'ok' }, 'reason_code'],
        [{ from: 'yesterday' }, 'from'],
        [{ to: '2030-13-01T00:00:00Z' }, 'to'],
        [{ search: 's'.repeat(201) }, 'search'],
        [{ event: 'not-a-uuid' }, 'event'],
        [{ foo: '1' }, 'foo'],
      ];
      for (const [query, field] of cases) {
        const res = await list(token, query);
        assert.notEqual(res.status, 500, `${JSON.stringify(query)}: ${res.text}`);
        expectValidation(res, field);
      }
      // Odd but well-formed: an inverted window is empty, not an error.
      const inverted = await list(token, { from: '2030-01-01T00:00:00Z', to: '2020-01-01T00:00:00Z' });
      assert.equal(inverted.status, 200, inverted.text);
      assert.equal(inverted.body.count, 0);
      // A NUL byte in the search text is refused as input, not a server error.
      const nul = await list(token, { search: 'a\u0000b' });
      assert.notEqual(nul.status, 500, nul.text);
      expectError(nul, 400, nul.body.code as string);
    });

    it('conflicts/: ?event= naming the token’s event is accepted like on every event list (API.md Scope); another event is a 400', async () => {
      const org = world.tokens.organisateur;
      const own = await conflicts(org, { event: world.event.id });
      assert.equal(own.status, 200, own.text);
      expectValidation(await conflicts(org, { event: w.event.id }), 'event');
    });

    it('conflicts/: bad kind, room, page or ordering is a 400 (an ordering it cannot apply is not silently ignored)', async () => {
      const org = world.tokens.organisateur;
      expectValidation(await conflicts(org, { kind: 'bogus' }), 'kind');
      expectValidation(await conflicts(org, { room: 'abc' }), 'room');
      expectValidation(await conflicts(org, { page: '0' }), 'page');
      expectValidation(await conflicts(org, { ordering: 'bogus' }), 'ordering');
    });

    it('a manual decision whose note holds a NUL byte: 400, nothing written', async () => {
      const before = await doorState(world.event.id);
      const res = await fire(
        t.http.post('/api/room-access/').set(bearer(world.tokens.organisateur)).send({
          participant_id: people[0]!.participant.id,
          room_id: room,
          status: 'denied',
          denial_reason: 'bad\u0000note',
        }),
      );
      assert.notEqual(res.status, 500, res.text);
      expectError(res, 400, res.body.code as string);
      assert.deepEqual(await doorState(world.event.id), before);
    });
  });
});
