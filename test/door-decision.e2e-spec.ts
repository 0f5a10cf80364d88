import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthContext } from '../src/common/auth/auth-context';
import { DomainEvents, type DoorDecided } from '../src/common/events/domain-events';
import { DoorService, type DoorCall } from '../src/modules/access/door.service';
import { BadgeIssuer } from '../src/modules/participants/badge-issuer';
import { Participant } from '../src/modules/participants/entities/participant.entity';
import { createMember, createRoom, createSession, createWorld, issueBadge, type World } from './helpers/factories';
import { bootTestApp, type TestApp } from './helpers/test-app';

/**
 * The order of the door rules (PRODUCT.md, "The door decision"), on the SQL function itself: start from a scan that
 * breaks every rule at once, then repair one rule at a time; each answer must name the next rule in the order.
 */
describe('door decision order', () => {
  let t: TestApp;
  let door: DoorService;
  let w: World;
  let organizer: AuthContext;

  const decide = (call: Partial<DoorCall> & Pick<DoorCall, 'roomId'>) =>
    door.decide({ eventId: w.event.id, direction: 'in', caller: organizer, source: 'online', ...call });

  before(async () => {
    t = await bootTestApp();
    door = t.app.get(DoorService, { strict: false });
    w = await createWorld(t);
    organizer = {
      userId: w.users.organisateur.id,
      isStaff: false,
      sessionId: null,
      eventId: w.event.id,
      role: 'organisateur',
    };
  });
  after(() => t.close());

  it('applies the rules in order: badge, event, room, allowed rooms, payment, already inside, capacity', async () => {
    const room = await createRoom(t, w.event.id, { capacity: 1 });
    const other = await createRoom(t, w.event.id);
    const atelier = await createSession(t, w.event.id, room, {
      type: 'atelier',
      isPaid: true,
      price: '100.00',
      start: new Date(Date.now() - 10 * 60_000),
    });
    const m = await createMember(t, w.event.id);
    const oldQr = m.qr;
    // Everything wrong at once: a rotated QR, the event cancelled, the room closed and full, the badge only for
    // another room, an unpaid atelier running.
    const issuer = t.app.get(BadgeIssuer, { strict: false });
    await issuer.rotate(t.db.manager, w.event.id, m.participant.id);
    const newQr = issuer.qrCodeData(await t.db.getRepository(Participant).findOneByOrFail({ id: m.participant.id }));
    await t.db.query('UPDATE events SET is_cancelled = true WHERE id = $1', [w.event.id]);
    await t.db.query('UPDATE rooms SET is_active = false, current_participants = 1 WHERE id = $1', [room]);
    await t.db.query('UPDATE participants SET allowed_rooms = $2 WHERE id = $1', [m.participant.id, [other]]);

    const steps: [string, () => Promise<unknown>, string][] = [
      ['a revoked QR', async () => undefined, 'BADGE_REVOKED'],
      ['the current QR', async () => undefined, 'EVENT_NOT_ACTIVE'],
      [
        'the event running',
        () => t.db.query('UPDATE events SET is_cancelled = false WHERE id = $1', [w.event.id]),
        'ROOM_INACTIVE',
      ],
      [
        'the room open',
        () => t.db.query('UPDATE rooms SET is_active = true WHERE id = $1', [room]),
        'ROOM_NOT_ALLOWED',
      ],
      [
        'every room allowed',
        () => t.db.query(`UPDATE participants SET allowed_rooms = '{}' WHERE id = $1`, [m.participant.id]),
        'PAYMENT_REQUIRED',
      ],
      [
        'the atelier paid',
        () =>
          t.db.query(
            `INSERT INTO session_access (event_id, participant_id, session_id, payment_status) VALUES ($1, $2, $3, 'paid')`,
            [w.event.id, m.participant.id, atelier],
          ),
        'ROOM_FULL',
      ],
      ['a second seat', () => t.db.query('UPDATE rooms SET capacity = 2 WHERE id = $1', [room]), 'OK'],
    ];
    for (const [i, [what, repair, expected]] of steps.entries()) {
      await repair();
      const answer = await decide({ roomId: room, qrData: i === 0 ? oldQr : newQr });
      assert.equal(answer.reason_code, expected, `with ${what}`);
      assert.equal(answer.status, expected === 'OK' ? 'granted' : 'denied');
    }
    // Rule 7 comes before rule 8: now inside a room that is full again, a repeated entry is a duplicate, not ROOM_FULL.
    const again = await decide({ roomId: room, qrData: newQr });
    assert.equal(again.reason_code, 'OK');
    assert.equal(again.duplicate, true);
    assert.deepEqual(
      { ...(again.room as object) },
      { id: room, name: (again.room as { name: string }).name, current_participants: 2, capacity: 2 },
    );
    assert.equal((again.session as { id: string }).id, atelier, 'the running atelier is resolved');
  });

  it('an unknown text and a badge of another event are both BADGE_UNKNOWN, with no participant', async () => {
    const room = await createRoom(t, w.event.id);
    const elsewhere = await createWorld(t);
    const stranger = await issueBadge(t, elsewhere.event.id, elsewhere.users.participant.id);
    for (const qrData of ['MP1.no-such-badge', stranger.qr, '']) {
      const answer = await decide({ roomId: room, qrData });
      assert.equal(answer.reason_code, 'BADGE_UNKNOWN');
      assert.equal(answer.participant, null);
    }
  });

  it('an exit only needs a valid badge: it is let through even from a closed room of a cancelled event', async () => {
    const room = await createRoom(t, w.event.id, { capacity: 5 });
    const m = await createMember(t, w.event.id);
    assert.equal((await decide({ roomId: room, qrData: m.qr })).reason_code, 'OK');
    await t.db.query('UPDATE rooms SET is_active = false WHERE id = $1', [room]);
    const out = await decide({ roomId: room, qrData: m.qr, direction: 'out' });
    assert.deepEqual([out.status, out.reason_code, out.duplicate], ['granted', 'OK', false]);
    assert.equal((out.room as { current_participants: number }).current_participants, 0);
    const unknown = await decide({ roomId: room, qrData: 'MP1.nobody', direction: 'out' });
    assert.equal(unknown.reason_code, 'BADGE_UNKNOWN');
  });

  it('offline, in order: a room gone mid-upload stops it with 404, and the rest of its batch is stored and published', async () => {
    // The upload checks its rooms first; this is a room deleted after that check (door_decide answers ROOM_NOT_FOUND
    // for it alone, the other scans of the same batch are decided and stored in the same transaction).
    const room = await createRoom(t, w.event.id, { capacity: 10 });
    const [a, b, c] = [
      await createMember(t, w.event.id),
      await createMember(t, w.event.id),
      await createMember(t, w.event.id),
    ];
    const gone = '6f1c1c2e-2222-4222-8222-222222222222';
    const published: DoorDecided[] = [];
    const stop = t.app.get(DomainEvents, { strict: false }).on('door.decided', (e) => {
      if (e.eventId === w.event.id && e.source === 'offline') published.push(e);
    });
    try {
      const deviceTime = new Date();
      const offline = (roomId: string, qrData: string, nonce: string): DoorCall => ({
        eventId: w.event.id,
        roomId,
        qrData,
        direction: 'in',
        caller: organizer,
        source: 'offline',
        deviceId: 'dev-room-gone',
        nonce,
        deviceTime,
        localDecision: 'granted',
      });
      await assert.rejects(
        door.decideInOrder([offline(room, a.qr, 'n1'), offline(gone, b.qr, 'n2'), offline(room, c.qr, 'n3')]),
        (e: unknown) => (e as { getStatus?: () => number }).getStatus?.() === 404,
      );
      await new Promise((r) => setImmediate(r)); // handlers run on the next turn
      const stored: { participant_id: string }[] = await t.db.query(
        "SELECT participant_id FROM room_access_logs WHERE event_id = $1 AND device_id = 'dev-room-gone'",
        [w.event.id],
      );
      const ids = [a.participant.id, c.participant.id].sort();
      assert.deepEqual(stored.map((r) => r.participant_id).sort(), ids, 'the scans around the missing room are stored');
      assert.deepEqual(published.map((e) => e.participant?.id).sort(), ids, 'and each is published (live occupancy)');
    } finally {
      stop();
    }
  });

  it('the answer is kept only for a scan that can be repeated (device and nonce), and a repeat gets it back', async () => {
    const room = await createRoom(t, w.event.id, { capacity: 10 });
    const [a, b] = [await createMember(t, w.event.id), await createMember(t, w.event.id)];
    const plain = await decide({ roomId: room, qrData: a.qr });
    const keyed = await decide({ roomId: room, qrData: b.qr, deviceId: 'dev-kept', nonce: 'n-kept' });
    const stored: { id: string; response: Record<string, unknown> | null }[] = await t.db.query(
      'SELECT id, response FROM room_access_logs WHERE id = ANY($1::uuid[])',
      [[plain.access_id, keyed.access_id]],
    );
    const byId = new Map(stored.map((r) => [r.id, r.response]));
    assert.equal(byId.get(plain.access_id), null, 'no device and nonce: nothing to replay, nothing kept');
    assert.equal(byId.get(keyed.access_id)?.access_id, keyed.access_id, 'kept for the repeat');
    const again = await decide({ roomId: room, qrData: b.qr, deviceId: 'dev-kept', nonce: 'n-kept' });
    assert.equal(again._replayed, true);
    assert.deepEqual(
      { ...again, _replayed: false, _conflict: false, _prev_room: null },
      { ...keyed, _replayed: false, _conflict: false, _prev_room: null },
    );
  });
});
