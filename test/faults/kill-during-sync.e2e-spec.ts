/**
 * The app killed (SIGKILL) while it stores an offline batch of 500 scans: the device never got an answer, so it
 * uploads the same batch again, to another instance. Killed three times at different moments (just after sending,
 * and after about 100 and 300 scans were stored), the final upload must leave exactly the state of one uninterrupted
 * upload of the same batch into a twin event: each scan once, the same per-item results, the same occupancy,
 * check-ins, event attendances and conflicts. Every instance here is its own process, so that it can be killed.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { bearer, countRows, createMember, createRoom, createWorld } from '../helpers/factories';
import { badgeStates, type OfflineScan } from '../helpers/doors';
import { startInstance, type Instance } from '../helpers/instance';
import { bootTestApp, type TestApp } from '../helpers/test-app';

const MINUTE = 60_000;
const SCANS = 500;
const PEOPLE = 120;
const DEVICE = 'door-offline-kill';

interface Twin {
  eventId: string;
  token: string;
  rooms: string[];
  people: { id: string; qr: string }[];
}

describe('app killed during an offline batch upload', () => {
  let t: TestApp;
  let reference: Twin;
  let killed: Twin;
  const instances: Instance[] = [];
  const start = Date.now() - 50 * MINUTE;

  /** An event with two small rooms (so that some entries find them full) and 120 badges. */
  async function twin(): Promise<Twin> {
    const w = await createWorld(t);
    const rooms = [
      await createRoom(t, w.event.id, { capacity: 40 }),
      await createRoom(t, w.event.id, { capacity: 40 }),
    ];
    const members = await Promise.all(Array.from({ length: PEOPLE }, () => createMember(t, w.event.id)));
    return {
      eventId: w.event.id,
      token: w.tokens.controlleur_des_badges,
      rooms,
      people: members.map((m) => ({ id: m.participant.id, qr: m.qr })),
    };
  }

  /** The same batch for either twin: entries and exits of 120 people, unknown badges, local decisions that differ. */
  function batch(x: Twin): OfflineScan[] {
    return Array.from({ length: SCANS }, (_, i) => {
      const unknown = i % 25 === 0;
      return {
        nonce: `n${i}`,
        qr_data: unknown ? `MP1.not-a-badge-${i}` : x.people[(i * 7) % PEOPLE]!.qr,
        room_id: x.rooms[i % 2]!,
        direction: i % 7 === 3 ? 'out' : 'in',
        // Not in request order: the server decides in device-time order.
        scanned_at: new Date(start + ((i * 37) % SCANS) * 5_000).toISOString(),
        local_decision: unknown && i % 50 !== 0 ? 'denied' : 'granted',
      };
    });
  }

  function upload(port: number, x: Twin): Promise<Response> {
    return fetch(`http://127.0.0.1:${port}/api/scans/sync/`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${x.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ device_id: DEVICE, scans: batch(x) }),
    });
  }

  const stored = (x: Twin) => countRows(t, 'room_access_logs', 'event_id = $1 AND device_id = $2', [x.eventId, DEVICE]);

  /** Everything the batch changed, with ids replaced by positions, so that the twins compare. */
  async function state(x: Twin): Promise<unknown> {
    const room = (id: string | null) => (id === null ? null : x.rooms.indexOf(id));
    const rooms: { id: string; n: number }[] = await t.db.query(
      'SELECT id, current_participants AS n FROM rooms WHERE event_id = $1',
      [x.eventId],
    );
    const badges = await badgeStates(t, x.eventId);
    const log: { nonce: string; status: string; reason_code: string; duplicate: boolean; scanned_at: Date }[] =
      await t.db.query(
        `SELECT nonce, status, reason_code, duplicate, scanned_at FROM room_access_logs
          WHERE event_id = $1 AND device_id = $2 ORDER BY nonce`,
        [x.eventId, DEVICE],
      );
    const conflicts: { nonce: string; kind: string }[] = await t.db.query(
      `SELECT l.nonce, c.kind FROM access_conflicts c JOIN room_access_logs l ON l.id = c.access_id
        WHERE c.event_id = $1 ORDER BY l.nonce, c.kind`,
      [x.eventId],
    );
    const person = new Map(x.people.map((p, i) => [p.id, i]));
    return {
      occupancy: rooms.map((r) => [room(r.id), r.n]).sort(),
      badges: badges
        .filter((b) => person.has(b.id))
        .map((b) => ({
          person: person.get(b.id),
          room: room(b.current_room_id),
          checkedIn: b.is_checked_in,
          at: b.checked_in_at?.toISOString() ?? null,
          attendance: b.attended_at?.toISOString() ?? null,
        }))
        .sort((a, b) => (a.person as number) - (b.person as number)),
      log: log.map((l) => ({ ...l, scanned_at: l.scanned_at.toISOString() })),
      conflicts,
    };
  }

  before(async () => {
    t = await bootTestApp();
    reference = await twin();
    killed = await twin();
  });
  after(async () => {
    for (const i of instances) i.process.kill('SIGKILL');
    await t?.close();
  });

  it('the retried batch gives exactly the state of one uninterrupted upload', async () => {
    // The reference: the same batch uploaded once, never interrupted (by the in-process app: the same code).
    const whole = await t.http
      .post('/api/scans/sync/')
      .set(bearer(reference.token))
      .send({
        device_id: DEVICE,
        scans: batch(reference),
      });
    assert.equal(whole.status, 200);
    const expected = whole.body.results as Record<string, unknown>[];
    assert.equal(await stored(reference), SCANS);
    // One instance per kill and one for the final upload, started together.
    instances.push(...(await Promise.all([1, 2, 3, 4].map(() => startInstance({})))));
    let used = 0;
    const next = (): Instance => instances[used++]!;

    // Killed three times while storing the batch into the twin: right after sending, then after ~100 and ~300 scans.
    const kills: { when: string; stored: number }[] = [];
    for (const kill of [{ afterMs: 30 }, { stored: 100 }, { stored: 300 }]) {
      const instance = next();
      const before = await stored(killed);
      let settled = false;
      const answer = upload(instance.port, killed).then(
        (res) => res.status,
        () => 'no answer' as const,
      );
      void answer.then(() => (settled = true));
      if ('afterMs' in kill) {
        await sleep(kill.afterMs);
      } else {
        while ((await stored(killed)) < kill.stored) {
          assert.ok(!settled, 'the upload ended before it could be killed');
          await sleep(5);
        }
      }
      instance.process.kill('SIGKILL');
      assert.equal(await answer, 'no answer', 'the device got no answer: it was killed mid-request');
      const after = await stored(killed);
      assert.ok(after >= before && after < SCANS, `killed with ${after} of ${SCANS} stored`);
      kills.push({
        when: 'afterMs' in kill ? `${kill.afterMs} ms after sending` : `≥ ${kill.stored} stored`,
        stored: after,
      });
    }

    // The device uploads the same batch again: it completes it.
    const instance = next();
    const already = await stored(killed);
    const retry = await upload(instance.port, killed);
    assert.equal(retry.status, 200);
    const results = ((await retry.json()) as { results: Record<string, unknown>[] }).results;
    process.stdout.write(
      `# kills: ${kills.map((k) => `${k.when} → ${k.stored} stored`).join('; ')}; retry replayed ${already}\n`,
    );

    assert.equal(await stored(killed), SCANS, 'each scan stored once');
    assert.equal(results.filter((r) => r.already_synced).length, already, 'what was stored before is replayed');
    const strip = (rs: Record<string, unknown>[]) => rs.map(({ already_synced: _ignored, ...rest }) => rest);
    assert.deepEqual(strip(results), strip(expected), 'the same per-item results as one uninterrupted upload');
    assert.deepEqual(await state(killed), await state(reference), 'the same final state');
    assert.ok(
      expected.some((r) => r.reason_code === 'ROOM_FULL') && expected.some((r) => r.conflict),
      'the batch exercises capacity and conflicts',
    );
  });
});
