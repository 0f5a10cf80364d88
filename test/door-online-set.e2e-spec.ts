import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { BadgeIssuer } from '../src/modules/participants/badge-issuer';
import { createMember, createRoom, createSession, createWorld, type World } from './helpers/factories';
import { bootTestApp, testDatabaseUrl, type TestApp } from './helpers/test-app';

interface Item {
  event: string;
  room: string;
  qr_hash: string;
  direction: 'in' | 'out';
  scanner: string;
  scanner_role: string;
  device: string | null;
  nonce: string | null;
  device_time: string | null;
  source: 'online';
}

type Answer = Record<string, unknown> & { access_id?: string };

const HOUR = 3_600_000;

/**
 * `door_decide_batch` decides a batch made only of online scans at room doors as a set (`door_decide_online`: one read,
 * the decisions in memory, one write per table). It must answer and store exactly what `door_decide` does one scan
 * at a time. Here both run the same random batches from the same state (a savepoint between them, so that both see
 * the same `now()`): badges of every kind (allowed everywhere or in one room, deactivated, rotated, unknown), rooms
 * of every kind (large, of 2 seats, closed, of another event, with a paid atelier or a conference running), two
 * events (one cancelled), a controller with a shift in one room, repeated badges and moves within a batch. The
 * answers, the rooms, the badges, the log rows and the attendances must be the same.
 */
describe('online door scans decided as a set: the same as one by one', () => {
  let t: TestApp;
  let w: World;
  let db: Client;
  const items: Omit<Item, 'direction' | 'device' | 'nonce' | 'device_time' | 'scanner' | 'scanner_role'>[] = [];
  let rooms: string[] = [];
  let scanners: { id: string; role: string }[] = [];

  before(async () => {
    t = await bootTestApp();
    w = await createWorld(t);
    const cancelled = await createWorld(t, { isCancelled: true });
    db = new Client({ connectionString: testDatabaseUrl() });
    await db.connect();

    const big = await createRoom(t, w.event.id, { capacity: 1000 });
    const small = await createRoom(t, w.event.id, { capacity: 2 });
    const closed = await createRoom(t, w.event.id, { isActive: false });
    const atelierRoom = await createRoom(t, w.event.id, { capacity: 50 });
    const talkRoom = await createRoom(t, w.event.id, { capacity: 3 });
    const elsewhere = await createRoom(t, cancelled.event.id);
    rooms = [big, small, closed, atelierRoom, talkRoom, elsewhere];
    const atelier = await createSession(t, w.event.id, atelierRoom, {
      type: 'atelier',
      isPaid: true,
      price: '20.00',
      start: new Date(Date.now() - HOUR / 2),
    });
    // A talk ending soon, and the next one already within the grace period: the running one is resolved.
    await createSession(t, w.event.id, talkRoom, {
      start: new Date(Date.now() - HOUR / 4),
      end: new Date(Date.now() + 4 * 60_000),
    });
    await createSession(t, w.event.id, talkRoom, { start: new Date(Date.now() + 5 * 60_000) });

    const members = await Promise.all(Array.from({ length: 10 }, () => createMember(t, w.event.id)));
    const ids = members.map((m) => m.participant.id);
    const [restricted, inactive, rotated, paid] = ids;
    await t.db.query('UPDATE participants SET allowed_rooms = $2 WHERE id = $1', [restricted, [big, talkRoom]]);
    await t.db.query(
      `UPDATE user_event_assignments SET is_active = false
        WHERE event_id = $1 AND user_id = (SELECT user_id FROM participants WHERE id = $2)`,
      [w.event.id, inactive],
    );
    await t.db.query(
      `INSERT INTO session_access (event_id, participant_id, session_id, payment_status) VALUES ($1, $2, $3, 'paid')`,
      [w.event.id, paid, atelier],
    );
    const oldHash: { qr_hash: string }[] = await t.db.query('SELECT qr_hash FROM participants WHERE id = $1', [
      rotated,
    ]);
    await t.app.get(BadgeIssuer, { strict: false }).rotate(t.db.manager, w.event.id, rotated as string);
    const others = await Promise.all([1, 2].map(() => createMember(t, cancelled.event.id)));
    const hashes: { event_id: string; qr_hash: string }[] = await t.db.query(
      'SELECT event_id, qr_hash FROM participants WHERE id = ANY($1::uuid[])',
      [[...ids, ...others.map((m) => m.participant.id)]],
    );
    for (const h of hashes) items.push({ event: h.event_id, room: '', qr_hash: h.qr_hash, source: 'online' });
    items.push({ event: w.event.id, room: '', qr_hash: oldHash[0]!.qr_hash, source: 'online' });
    items.push({ event: w.event.id, room: '', qr_hash: 'no-such-badge', source: 'online' });

    const controller = w.users.controlleur_des_badges.id;
    await t.db.query(
      `INSERT INTO room_assignments (event_id, room_id, user_id, role, start_time, end_time)
       VALUES ($1, $2, $3, 'controlleur_des_badges', now() - interval '1 hour', now() + interval '1 hour')`,
      [w.event.id, big, controller],
    );
    scanners = [
      { id: w.users.organisateur.id, role: 'organisateur' },
      { id: controller, role: 'controlleur_des_badges' },
    ];
  });
  after(async () => {
    await db.end();
    await t.close();
  });

  let nonces = 0;
  const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
  const randomItem = (): Item => {
    const badge = pick(items);
    const scanner = Math.random() < 0.85 ? scanners[0]! : scanners[1]!;
    const keyed = Math.random() < 0.3;
    return {
      ...badge,
      room: pick(rooms),
      direction: Math.random() < 0.75 ? 'in' : 'out',
      scanner: scanner.id,
      scanner_role: scanner.role,
      device: keyed ? 'tablet-1' : null,
      nonce: keyed ? `n-${(nonces += 1)}` : null,
      device_time: keyed ? new Date().toISOString() : null,
    };
  };

  const alone = async (item: Item): Promise<Answer> => {
    const rows = await db.query(
      `SELECT door_decide($1, $2, $3, NULL, $4, $5, $6, $7, $8, $9, 'online', NULL, NULL, NULL,
                          '900 seconds'::interval, '1800 seconds'::interval) AS r`,
      [
        item.event,
        item.room,
        item.qr_hash,
        item.direction,
        item.scanner,
        item.scanner_role,
        item.device,
        item.nonce,
        item.device_time,
      ],
    );
    return rows.rows[0].r as Answer;
  };
  const asSet = async (batch: Item[]): Promise<Answer[]> =>
    (await db.query(`SELECT door_decide_batch($1::jsonb, '900 seconds', '1800 seconds') AS r`, [JSON.stringify(batch)]))
      .rows[0].r as Answer[];
  const onlineCalls = async (): Promise<number> =>
    Number(
      (await db.query(`SELECT coalesce(pg_stat_get_xact_function_calls('door_decide_online'::regproc), 0) AS n`))
        .rows[0].n,
    );

  /** Everything a decision can change, the new log rows and attendances in the order of `answers`. */
  const state = async (answers: Answer[]) => {
    const ids = answers.map((a) => a.access_id).filter((id): id is string => typeof id === 'string');
    const events = [...new Set(items.map((i) => i.event))];
    // One after another: one client runs one query at a time (pg@9 refuses a query queued on a busy client).
    const roomRows = await db.query(
      'SELECT id, current_participants FROM rooms WHERE id = ANY($1::uuid[]) ORDER BY id',
      [rooms],
    );
    const badges = await db.query(
      `SELECT id, current_room_id, is_checked_in, checked_in_at, updated_at FROM participants
          WHERE event_id IN (SELECT event FROM unnest($1::uuid[]) event) ORDER BY id`,
      [events],
    );
    const logs = await db.query(
      `SELECT l.*, l.response - 'access_id' AS response FROM unnest($1::uuid[]) WITH ORDINALITY AS a(id, n)
           JOIN room_access_logs l ON l.id = a.id ORDER BY a.n`,
      [ids],
    );
    const attendances = await db.query(
      `SELECT event_id, participant_id, session_id, method, marked_by_id, attended_at FROM attendances
          WHERE event_id IN (SELECT event FROM unnest($1::uuid[]) event)
          ORDER BY participant_id, session_id NULLS FIRST`,
      [events],
    );
    return {
      rooms: roomRows.rows,
      badges: badges.rows,
      logs: logs.rows.map(({ id: _id, ...row }: Record<string, unknown>) => row),
      attendances: attendances.rows,
    };
  };
  const withoutIds = (answers: Answer[]) => answers.map(({ access_id: _id, ...rest }) => rest);

  it('300 random batches of 1 to 24 scans: the same answers and the same stored state', async () => {
    await db.query('BEGIN');
    try {
      // Counts calls of door_decide_online in this transaction (a superuser setting: the suite's user is one).
      await db.query(`SET LOCAL track_functions = 'pl'`);
      let scans = 0;
      const reasons = new Set<string>();
      for (let round = 0; round < 300; round += 1) {
        const batch = Array.from({ length: 1 + Math.floor(Math.random() * 24) }, randomItem);
        if (round % 10 === 5) {
          // A check-in stamped later than this transaction's now() (made by a transaction that started after this
          // one and committed first): the earlier scan moves it back, both ways.
          await db.query(
            `UPDATE participants SET is_checked_in = true, checked_in_at = now() + interval '1 second'
              WHERE event_id = $1 AND qr_hash = $2`,
            [batch[0]!.event, batch[0]!.qr_hash],
          );
        }
        await db.query('SAVEPOINT one_by_one');
        const expected: Answer[] = [];
        for (const item of batch) expected.push(await alone(item));
        const expectedState = await state(expected);
        await db.query('ROLLBACK TO SAVEPOINT one_by_one');

        const calls = await onlineCalls();
        const got = await asSet(batch);
        assert.equal(await onlineCalls(), calls + 1, 'the batch was decided as a set');
        // On a failure, the batch is printed: deciding it again from the same state reproduces it.
        const which = () => `round ${round}, batch ${JSON.stringify(batch)}`;
        assert.deepEqual(withoutIds(got), withoutIds(expected), `answers differ in ${which()}`);
        assert.deepEqual(await state(got), expectedState, `stored state differs in ${which()}`);
        await db.query('RELEASE SAVEPOINT one_by_one');
        scans += batch.length;
        for (const a of got) reasons.add(String(a.reason_code ?? a._error));
      }
      // The batches covered every outcome an online scan at a room can have.
      for (const reason of [
        'OK',
        'ROOM_FULL',
        'ROOM_INACTIVE',
        'ROOM_NOT_ALLOWED',
        'PAYMENT_REQUIRED',
        'BADGE_REVOKED',
        'BADGE_UNKNOWN',
        'EVENT_NOT_ACTIVE',
        'ROOM_NOT_FOUND',
        'FORBIDDEN',
      ]) {
        assert.ok(reasons.has(reason), `${reason} occurred in ${scans} scans`);
      }
    } finally {
      await db.query('ROLLBACK');
    }
  });

  it('a batch with another kind of scan (offline, with a local decision, entrance), or with a device and nonce repeated or already stored, goes one by one', async () => {
    await db.query('BEGIN');
    try {
      await db.query(`SET LOCAL track_functions = 'pl'`);
      // Scans that are always stored: a badge of the running event at its large room, by the organizer.
      const scan = (over: Partial<Item> = {}): Item => ({
        ...randomItem(),
        ...items[0]!,
        room: rooms[0]!,
        scanner: scanners[0]!.id,
        scanner_role: scanners[0]!.role,
        ...over,
      });
      const keyed = scan({ device: 'tablet-2', nonce: 'replayed' });
      await asSet([keyed]);
      const calls = await onlineCalls();
      const replay = await asSet([scan(), keyed]);
      assert.equal(replay[1]?._replayed, true);
      const offline = await asSet([scan(), { ...scan(), source: 'offline' } as unknown as Item]);
      assert.equal(offline.length, 2);
      const local = await asSet([scan(), { ...scan(), local: 'granted' } as unknown as Item]);
      assert.equal(local.length, 2);
      const twice = scan({ device: 'tablet-2', nonce: 'twice' });
      const both = await asSet([twice, twice]);
      assert.deepEqual([both[0]?._replayed, both[1]?._replayed], [false, true]);
      const entrance = await asSet([scan(), { ...scan(), room: null } as unknown as Item]);
      assert.equal(entrance[1]?.first_check_in !== undefined, true, 'the entrance answer');
      assert.equal(await onlineCalls(), calls, 'none went as a set');
    } finally {
      await db.query('ROLLBACK');
    }
  });
});
