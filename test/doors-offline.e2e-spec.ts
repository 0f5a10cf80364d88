import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, countRows, createMember, createRoom, createWorld, type World } from './helpers/factories';
import { type OfflineScan } from './helpers/doors';
import { fire } from './helpers/requests';
import { bootTestApp, type TestApp } from './helpers/test-app';

const MINUTE = 60_000;

describe('offline doors', () => {
  let t: TestApp;
  let w: World;

  const sync = (device: string, scans: OfflineScan[], token = w.tokens.controlleur_des_badges) =>
    fire(t.http.post('/api/scans/sync/').set(bearer(token)).send({ device_id: device, scans }));

  const logsOf = (device: string) =>
    countRows(t, 'room_access_logs', 'event_id = $1 AND device_id = $2', [w.event.id, device]);

  before(async () => {
    t = await bootTestApp();
    w = await createWorld(t);
  });
  after(() => t.close());

  describe('the same 500-scan batch uploaded three times', () => {
    it('stores each scan once and answers the same per-item results', async () => {
      const rooms = [
        await createRoom(t, w.event.id, { capacity: 1000 }),
        await createRoom(t, w.event.id, { capacity: 1000 }),
      ];
      const people = await Promise.all(Array.from({ length: 120 }, () => createMember(t, w.event.id)));
      const device = `dev-${w.event.id.slice(0, 8)}-batch`;
      const start = Date.now() - 50 * MINUTE;
      // Entries and exits of 120 people across two rooms, plus unknown badges the app refused (or wrongly admitted).
      const scans: OfflineScan[] = Array.from({ length: 500 }, (_, i) => {
        const unknown = i % 25 === 0;
        return {
          nonce: `n${i}`,
          qr_data: unknown ? `MP1.not-a-badge-${i}` : (people[i % people.length]!.qr as string),
          room_id: rooms[i % 2] as string,
          direction: i % 7 === 3 ? 'out' : 'in',
          scanned_at: new Date(start + i * 5_000).toISOString(),
          local_decision: unknown && i % 50 !== 0 ? 'denied' : 'granted',
        };
      });
      const first = await sync(device, scans);
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.results.length, 500);
      assert.ok(first.body.results.every((r: { already_synced: boolean }) => !r.already_synced));
      assert.deepEqual(
        first.body.results.map((r: { nonce: string }) => r.nonce),
        scans.map((s) => s.nonce),
        'results follow the request order',
      );
      assert.equal(await logsOf(device), 500);
      const occupancyAfterFirst: unknown[] = await t.db.query(
        'SELECT id, current_participants FROM rooms WHERE id = ANY($1::uuid[]) ORDER BY id',
        [rooms],
      );
      const strip = (results: Record<string, unknown>[]) =>
        results.map(({ already_synced: _ignored, ...rest }) => rest);

      for (const round of [2, 3]) {
        const again = await sync(device, scans);
        assert.equal(again.status, 200);
        assert.ok(
          again.body.results.every((r: { already_synced: boolean }) => r.already_synced),
          `round ${round}: every scan was already stored`,
        );
        assert.deepEqual(strip(again.body.results), strip(first.body.results), `round ${round}: same results`);
        assert.equal(await logsOf(device), 500, `round ${round}: still 500 rows`);
      }
      const occupancyAfterAll: unknown[] = await t.db.query(
        'SELECT id, current_participants FROM rooms WHERE id = ANY($1::uuid[]) ORDER BY id',
        [rooms],
      );
      assert.deepEqual(occupancyAfterAll, occupancyAfterFirst, 'replays change no occupancy');
      const mismatches = first.body.results.filter(
        (r: { reason_code: string; conflict: boolean }, i: number) =>
          scans[i]!.local_decision === 'granted' && r.reason_code === 'BADGE_UNKNOWN',
      );
      assert.ok(mismatches.length > 0 && mismatches.every((r: { conflict: boolean }) => r.conflict));
    });

    it('two uploads of one batch at the same moment still store each scan once', async () => {
      const room = await createRoom(t, w.event.id, { capacity: 1000 });
      const people = await Promise.all(Array.from({ length: 30 }, () => createMember(t, w.event.id)));
      const device = `dev-${w.event.id.slice(0, 8)}-twice`;
      const scans: OfflineScan[] = people.map((p, i) => ({
        nonce: `p${i}`,
        qr_data: p.qr,
        room_id: room,
        direction: 'in',
        scanned_at: new Date(Date.now() - 20 * MINUTE + i * 1000).toISOString(),
        local_decision: 'granted',
      }));
      const [a, b] = await Promise.all([sync(device, scans), sync(device, scans)]);
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.equal(await logsOf(device), 30);
      const occ: { n: number }[] = await t.db.query('SELECT current_participants AS n FROM rooms WHERE id = $1', [
        room,
      ]);
      assert.equal(occ[0]?.n, 30, 'each entry counted once');
    });
  });

  describe('a long upload is decided in device-time order, across the batches the server cuts it into', () => {
    /** 200 entries of one badge by device time, alternating between two rooms; sent in the reverse order. */
    async function upload(timeOf: (i: number) => number) {
      const rooms = [
        await createRoom(t, w.event.id, { capacity: 1 }),
        await createRoom(t, w.event.id, { capacity: 1 }),
      ];
      const person = await createMember(t, w.event.id);
      const device = `door-order-${rooms[0]!.slice(0, 8)}`;
      const start = Date.now() - 60 * MINUTE;
      const scans: OfflineScan[] = Array.from({ length: 200 }, (_, i) => ({
        nonce: `o${i}`,
        qr_data: person.qr,
        room_id: rooms[i % 2] as string,
        direction: 'in' as const,
        scanned_at: new Date(start + timeOf(i) * 1_000).toISOString(),
        local_decision: 'granted' as const,
      })).reverse();
      const res = await sync(device, scans);
      assert.equal(res.status, 200, res.text);
      const duplicates = await countRows(t, 'room_access_logs', 'device_id = $1 AND duplicate', [device]);
      const where: { current_room_id: string | null }[] = await t.db.query(
        'SELECT current_room_id FROM participants WHERE id = $1',
        [person.participant.id],
      );
      return { res, duplicates, rooms, where: where[0]?.current_room_id };
    }

    it('every entry moves the badge to the other room: no duplicate, it ends where the last scan was', async () => {
      const { res, duplicates, rooms, where } = await upload((i) => i);
      assert.ok(res.body.results.every((r: { status: string }) => r.status === 'granted'));
      assert.equal(duplicates, 0);
      assert.equal(where, rooms[1], 'the last scan by device time (#199, second room)');
      const occ: { n: number }[] = await t.db.query(
        'SELECT current_participants AS n FROM rooms WHERE id = ANY($1::uuid[]) ORDER BY array_position($1::uuid[], id)',
        [rooms],
      );
      assert.deepEqual(
        occ.map((r) => r.n),
        [0, 1],
      );
    });

    it('negative control: device times that put two entries to one room in a row show as duplicates', async () => {
      // Scans 0 and 2 (first room), then 1 and 3 (second room), and so on: every other entry is a duplicate.
      const { duplicates } = await upload((i) => (i % 4 === 1 ? i + 1 : i % 4 === 2 ? i - 1 : i));
      assert.equal(duplicates, 100);
    });
  });

  it('a nonce the device already used for another scan is reported NONCE_REUSED and not stored', async () => {
    const room = await createRoom(t, w.event.id, { capacity: 100 });
    const [a, b] = [await createMember(t, w.event.id), await createMember(t, w.event.id)];
    const device = `door-reuse-${room.slice(0, 6)}`;
    const at = new Date(Date.now() - 5 * MINUTE).toISOString();
    const scanOf = (qr: string): OfflineScan => ({
      nonce: 'same',
      qr_data: qr,
      room_id: room,
      direction: 'in',
      scanned_at: at,
      local_decision: 'granted',
    });
    assert.equal((await sync(device, [scanOf(a.qr)])).body.results[0].status, 'granted');
    const reused = await sync(device, [scanOf(b.qr)]);
    assert.equal(reused.status, 200);
    assert.deepEqual(reused.body.results[0], {
      nonce: 'same',
      status: 'denied',
      reason_code: 'NONCE_REUSED',
      conflict: true,
      already_synced: false,
    });
    assert.equal(await logsOf(device), 1);
    const inside: { current_room_id: string | null }[] = await t.db.query(
      'SELECT current_room_id FROM participants WHERE id = $1',
      [b.participant.id],
    );
    assert.equal(inside[0]?.current_room_id, null);
  });

  describe('two devices admitting the same badge offline', () => {
    for (const order of ['earlier device first', 'later device first'] as const) {
      it(`${order}: one canonical check-in at the earliest time, one flagged conflict`, async () => {
        const room = await createRoom(t, w.event.id, { capacity: 100 });
        const m = await createMember(t, w.event.id);
        const t1 = new Date(Date.now() - 10 * MINUTE);
        const t2 = new Date(Date.now() - 6 * MINUTE);
        const scanAt = (when: Date, nonce: string): OfflineScan => ({
          nonce,
          qr_data: m.qr,
          room_id: room,
          direction: 'in',
          scanned_at: when.toISOString(),
          local_decision: 'granted',
        });
        const uploads = [
          () => sync(`door-a-${m.participant.id.slice(0, 6)}`, [scanAt(t1, 'a1')]),
          () => sync(`door-b-${m.participant.id.slice(0, 6)}`, [scanAt(t2, 'b1')]),
        ];
        if (order === 'later device first') uploads.reverse();
        for (const upload of uploads) assert.equal((await upload()).status, 200);

        const badge: { checked_in_at: Date; current_room_id: string }[] = await t.db.query(
          'SELECT checked_in_at, current_room_id FROM participants WHERE id = $1',
          [m.participant.id],
        );
        assert.equal(badge[0]?.checked_in_at.getTime(), t1.getTime(), 'the earliest device time is the check-in');
        assert.equal(badge[0]?.current_room_id, room);
        const ledger: { attended_at: Date }[] = await t.db.query(
          'SELECT attended_at FROM attendances WHERE participant_id = $1 AND session_id IS NULL',
          [m.participant.id],
        );
        assert.equal(ledger.length, 1);
        assert.equal(ledger[0]?.attended_at.getTime(), t1.getTime());
        const occ: { n: number }[] = await t.db.query('SELECT current_participants AS n FROM rooms WHERE id = $1', [
          room,
        ]);
        assert.equal(occ[0]?.n, 1, 'one person inside');

        const conflicts: { kind: string; flagged_at: Date; other_at: Date }[] = await t.db.query(
          `SELECT c.kind, a.scanned_at AS flagged_at, o.scanned_at AS other_at FROM access_conflicts c
             JOIN room_access_logs a ON a.id = c.access_id JOIN room_access_logs o ON o.id = c.other_access_id
            WHERE a.participant_id = $1`,
          [m.participant.id],
        );
        assert.equal(conflicts.length, 1, 'one flagged conflict');
        assert.equal(conflicts[0]?.kind, 'double_entry');
        assert.equal(conflicts[0]?.flagged_at.getTime(), t2.getTime(), 'the later scan is the flagged one');
        assert.equal(conflicts[0]?.other_at.getTime(), t1.getTime());
        assert.equal(await countRows(t, 'room_access_logs', 'participant_id = $1', [m.participant.id]), 2, 'both kept');

        const listed = await t.http
          .get('/api/room-access/conflicts/')
          .query({ room })
          .set(bearer(w.tokens.gestionnaire_des_salles))
          .expect(200);
        assert.equal(listed.body.count, 1);
        assert.equal(listed.body.results[0].kind, 'double_entry');
        assert.equal(listed.body.results[0].access.conflict, true);
        assert.equal(new Date(listed.body.results[0].other_access.scanned_at).getTime(), t1.getTime());
      });
    }

    it('negative control: the same two scans from one device (a re-scan) are no conflict', async () => {
      const room = await createRoom(t, w.event.id, { capacity: 100 });
      const m = await createMember(t, w.event.id);
      const device = `door-solo-${m.participant.id.slice(0, 6)}`;
      const res = await sync(device, [
        {
          nonce: 's1',
          qr_data: m.qr,
          room_id: room,
          direction: 'in',
          scanned_at: new Date(Date.now() - 9 * MINUTE).toISOString(),
          local_decision: 'granted',
        },
        {
          nonce: 's2',
          qr_data: m.qr,
          room_id: room,
          direction: 'in',
          scanned_at: new Date(Date.now() - 8 * MINUTE).toISOString(),
          local_decision: 'granted',
        },
      ]);
      assert.deepEqual(
        res.body.results.map((r: { conflict: boolean }) => r.conflict),
        [false, false],
      );
      assert.equal(
        await countRows(
          t,
          'access_conflicts c JOIN room_access_logs l ON l.id = c.access_id',
          'l.participant_id = $1',
          [m.participant.id],
        ),
        0,
      );
    });

    it('an exit between the two entries makes the second one legitimate', async () => {
      const room = await createRoom(t, w.event.id, { capacity: 100 });
      const m = await createMember(t, w.event.id);
      const at = (min: number) => new Date(Date.now() - min * MINUTE).toISOString();
      await sync(`door-x-${m.participant.id.slice(0, 6)}`, [
        { nonce: 'x1', qr_data: m.qr, room_id: room, direction: 'in', scanned_at: at(12), local_decision: 'granted' },
        { nonce: 'x2', qr_data: m.qr, room_id: room, direction: 'out', scanned_at: at(11), local_decision: 'granted' },
      ]);
      const second = await sync(`door-y-${m.participant.id.slice(0, 6)}`, [
        { nonce: 'y1', qr_data: m.qr, room_id: room, direction: 'in', scanned_at: at(10), local_decision: 'granted' },
      ]);
      assert.equal(second.body.results[0].conflict, false);
      assert.equal(second.body.results[0].status, 'granted');
    });
  });

  describe('device clocks', () => {
    it('keeps the device time, decides at it, and clamps and flags absurd ones', async () => {
      const room = await createRoom(t, w.event.id, { capacity: 100 });
      const people = await Promise.all([1, 2, 3].map(() => createMember(t, w.event.id)));
      const device = `door-clock-${room.slice(0, 6)}`;
      const sane = new Date(Date.now() - 15 * MINUTE);
      const future = new Date(Date.now() + 3 * 86_400_000);
      const ancient = new Date('2001-01-01T00:00:00.000Z');
      const before = Date.now();
      const res = await sync(
        device,
        [sane, future, ancient].map((when, i) => ({
          nonce: `c${i}`,
          qr_data: people[i]!.qr,
          room_id: room,
          direction: 'in' as const,
          scanned_at: when.toISOString(),
          local_decision: 'granted' as const,
        })),
      );
      assert.equal(res.status, 200);
      const rows: { nonce: string; scanned_at: Date; device_scanned_at: Date; device_time_adjusted: boolean }[] =
        await t.db.query(
          `SELECT nonce, scanned_at, device_scanned_at, device_time_adjusted FROM room_access_logs
            WHERE event_id = $1 AND device_id = $2 ORDER BY nonce`,
          [w.event.id, device],
        );
      assert.deepEqual(
        rows.map((r) => [r.nonce, r.device_time_adjusted]),
        [
          ['c0', false],
          ['c1', true],
          ['c2', true],
        ],
      );
      assert.equal(rows[0]?.scanned_at.getTime(), sane.getTime(), 'a sane device time is the decision time');
      for (const r of rows.slice(1)) assert.ok(r.scanned_at.getTime() >= before - 1000, 'absurd: the upload time');
      assert.equal(rows[1]?.device_scanned_at.getTime(), future.getTime(), 'the device time is kept');
      assert.equal(rows[2]?.device_scanned_at.getTime(), ancient.getTime());
      assert.deepEqual(
        res.body.results.map((r: { status: string }) => r.status),
        ['granted', 'granted', 'granted'],
      );
    });

    it('decides at the device time: a scan from before the event started is refused, and flagged if admitted', async () => {
      const room = await createRoom(t, w.event.id, { capacity: 100 });
      const m = await createMember(t, w.event.id);
      // The event of the world started an hour ago; this device says two hours ago (within the sane range).
      const res = await sync(`door-early-${room.slice(0, 6)}`, [
        {
          nonce: 'e1',
          qr_data: m.qr,
          room_id: room,
          direction: 'in',
          scanned_at: new Date(Date.now() - 120 * MINUTE).toISOString(),
          local_decision: 'granted',
        },
      ]);
      assert.deepEqual(res.body.results[0], {
        nonce: 'e1',
        status: 'denied',
        reason_code: 'EVENT_NOT_ACTIVE',
        conflict: true,
        already_synced: false,
      });
    });
  });
});
