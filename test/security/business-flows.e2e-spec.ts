/**
 * OWASP API Security Top 10 2023 — API6 Unrestricted Access to Sensitive Business Flows.
 *
 * The flows worth abusing at a venue: replaying a door scan to let several people in on one entry (same device and
 * nonce → the first answer again, on every door route and through the offline upload), using a badge whose QR was
 * rotated (revoked everywhere: doors, entrance, offline, leads, manifest), using an exhibitor's lead scanning to open
 * doors or check people in, and guessing a session's attendance code (5 guesses per person and session, shared by
 * HTTP and sockets, so alternating channels gains nothing; a code is bound to its session). Rate limits themselves
 * have their own suite.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { codeFor, windowAt } from '../../src/modules/attendance/attendance-code';
import { expectError } from '../helpers/assertions';
import {
  bearer,
  countRows,
  createMember,
  createRoom,
  createSession,
  createWorld,
  type World,
} from '../helpers/factories';
import { fire } from '../helpers/requests';
import { closeAllClients, connect, request } from '../helpers/sockets';
import { bootTestApp, type TestApp } from '../helpers/test-app';

const HOUR = 3600_000;

describe('API6 sensitive business flows', () => {
  let t: TestApp;
  let w: World;
  before(async () => {
    t = await bootTestApp();
    w = await createWorld(t);
  });
  after(async () => {
    closeAllClients();
    await t.close();
  });

  const occupancy = async (room: string): Promise<number> =>
    ((await t.db.query('SELECT current_participants AS n FROM rooms WHERE id = $1', [room])) as { n: number }[])[0]
      ?.n ?? -1;
  const logRows = (room: string) => countRows(t, 'room_access_logs', 'room_id = $1', [room]);

  describe('QR replay', () => {
    it('one (device, nonce) is one entry: replays on the same door, another door route and in parallel', async () => {
      const room = await createRoom(t, w.event.id, { capacity: 10 });
      const m = await createMember(t, w.event.id);
      const token = bearer(w.tokens.controlleur_des_badges);
      const body = { qr_data: m.qr, device_id: 'gate-1', nonce: 'scan-0001' };
      const first = await t.http.post(`/api/rooms/${room}/verify_access`).set(token).send(body);
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.status, 'granted');

      const replays = await Promise.all([
        ...Array.from({ length: 10 }, () =>
          fire(t.http.post(`/api/rooms/${room}/verify_access`).set(token).send(body)),
        ),
        fire(
          t.http
            .post('/api/qr/verify')
            .set(token)
            .send({ ...body, room_id: room }),
        ),
      ]);
      for (const res of replays) {
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.access_id, first.body.access_id, 'the first answer, not a new decision');
      }
      assert.equal(await occupancy(room), 1);
      assert.equal(await logRows(room), 1);
    });

    it('an offline upload of an already scanned (device, nonce) is the stored answer, not a second entry', async () => {
      const room = await createRoom(t, w.event.id, { capacity: 10 });
      const m = await createMember(t, w.event.id);
      const token = bearer(w.tokens.controlleur_des_badges);
      await t.http
        .post(`/api/rooms/${room}/verify_access`)
        .set(token)
        .send({ qr_data: m.qr, device_id: 'gate-2', nonce: 'n-1' })
        .expect(200);
      const sync = await t.http
        .post('/api/scans/sync')
        .set(token)
        .send({
          device_id: 'gate-2',
          scans: [
            {
              nonce: 'n-1',
              qr_data: m.qr,
              room_id: room,
              direction: 'in',
              scanned_at: new Date().toISOString(),
              local_decision: 'granted',
            },
          ],
        });
      assert.equal(sync.status, 200, sync.text);
      assert.equal(sync.body.results[0].already_synced, true);
      assert.equal(await occupancy(room), 1);
      assert.equal(await logRows(room), 1);
    });

    it('a new nonce for someone already inside: granted as a duplicate, occupancy unchanged', async () => {
      const room = await createRoom(t, w.event.id, { capacity: 10 });
      const m = await createMember(t, w.event.id);
      const token = bearer(w.tokens.controlleur_des_badges);
      for (const nonce of ['a', 'b', 'c']) {
        const res = await t.http
          .post(`/api/rooms/${room}/verify_access`)
          .set(token)
          .send({ qr_data: m.qr, device_id: 'gate-3', nonce });
        assert.equal(res.body.status, 'granted');
        assert.equal(res.body.duplicate, nonce !== 'a');
      }
      assert.equal(await occupancy(room), 1);
    });
  });

  describe('revoked badge (rotated QR)', () => {
    it('the old QR is refused at doors, the entrance, offline and by exhibitors; the manifest lists it revoked', async () => {
      const room = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      const rotated = await t.http
        .post(`/api/participants/${m.participant.id}/rotate-qr`)
        .set(bearer(w.tokens.organisateur))
        .expect(200);
      const fresh = rotated.body.qr_code_data as string;
      assert.notEqual(fresh, m.qr);
      const ctl = bearer(w.tokens.controlleur_des_badges);

      const door = await t.http.post(`/api/rooms/${room}/verify_access`).set(ctl).send({ qr_data: m.qr });
      assert.deepEqual([door.body.status, door.body.reason_code], ['denied', 'BADGE_REVOKED']);
      const entrance = await t.http.post('/api/participants/scan').set(ctl).send({ qr_data: m.qr });
      assert.deepEqual([entrance.body.status, entrance.body.reason_code], ['denied', 'BADGE_REVOKED']);
      const offline = await t.http
        .post('/api/scans/sync')
        .set(ctl)
        .send({
          device_id: 'gate-9',
          scans: [
            {
              nonce: 'old-qr',
              qr_data: m.qr,
              room_id: room,
              direction: 'in',
              scanned_at: new Date().toISOString(),
              local_decision: 'granted',
            },
          ],
        })
        .expect(200);
      assert.deepEqual(
        [offline.body.results[0].status, offline.body.results[0].reason_code],
        ['denied', 'BADGE_REVOKED'],
      );
      expectError(
        await t.http.post('/api/exposant/scan').set(bearer(w.tokens.exposant)).send({ qr_data: m.qr }),
        409,
        'BADGE_REVOKED',
      );
      const manifest = await t.http.get('/api/scans/manifest').set(ctl).expect(200);
      const { createHash } = await import('node:crypto');
      const oldHash = createHash('sha256').update(m.qr).digest('hex');
      assert.ok((manifest.body.revoked as string[]).includes(oldHash));
      assert.ok(!(manifest.body.badges as { qr_hash: string }[]).some((b) => b.qr_hash === oldHash));
      assert.equal(await occupancy(room), 0);
      assert.equal(await countRows(t, 'participants', 'id = $1 AND is_checked_in', [m.participant.id]), 0);

      // Control: the new QR opens the door.
      const ok = await t.http.post(`/api/rooms/${room}/verify_access`).set(ctl).send({ qr_data: fresh });
      assert.equal(ok.body.status, 'granted');
    });
  });

  describe('exhibitor lead scanning is not a door', () => {
    it('an exposant cannot call any door route; a lead scan admits no one and checks no one in', async () => {
      const room = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      const ex = bearer(w.tokens.exposant);
      expectError(
        await t.http.post(`/api/rooms/${room}/verify_access`).set(ex).send({ qr_data: m.qr }),
        403,
        'FORBIDDEN',
      );
      expectError(await t.http.post('/api/qr/verify').set(ex).send({ qr_data: m.qr, room_id: room }), 403, 'FORBIDDEN');
      expectError(await t.http.post('/api/participants/scan').set(ex).send({ qr_data: m.qr }), 403, 'FORBIDDEN');
      expectError(await t.http.post('/api/scans/sync').set(ex).send({ device_id: 'x', scans: [] }), 403, 'FORBIDDEN');
      const lead = await t.http.post('/api/exposant/scan').set(ex).send({ qr_data: m.qr });
      assert.equal(lead.status, 201, lead.text);
      assert.equal(await occupancy(room), 0);
      assert.equal(await countRows(t, 'room_access_logs', 'participant_id = $1', [m.participant.id]), 0);
      assert.equal(await countRows(t, 'attendances', 'participant_id = $1', [m.participant.id]), 0);
      assert.equal(await countRows(t, 'participants', 'id = $1 AND is_checked_in', [m.participant.id]), 0);
    });

    it("an exhibitor's own badge at a door obeys its allowed rooms like any badge", async () => {
      const stand = await createRoom(t, w.event.id);
      const keynote = await createRoom(t, w.event.id);
      const ex = await createMember(t, w.event.id, 'exposant');
      await t.http
        .patch(`/api/participants/${ex.participant.id}`)
        .set(bearer(w.tokens.organisateur))
        .send({ allowed_rooms: [stand] })
        .expect(200);
      const ctl = bearer(w.tokens.controlleur_des_badges);
      const refused = await t.http.post(`/api/rooms/${keynote}/verify_access`).set(ctl).send({ qr_data: ex.qr });
      assert.deepEqual([refused.body.status, refused.body.reason_code], ['denied', 'ROOM_NOT_ALLOWED']);
      const admitted = await t.http.post(`/api/rooms/${stand}/verify_access`).set(ctl).send({ qr_data: ex.qr });
      assert.equal(admitted.body.status, 'granted');
    });
  });

  describe('attendance code brute force', () => {
    async function codeSession(): Promise<{ session: string; secret: string }> {
      const session = await createSession(t, w.event.id, await createRoom(t, w.event.id), {
        start: new Date(Date.now() - HOUR / 2),
        end: new Date(Date.now() + HOUR),
      });
      await t.http
        .post(`/api/sessions/${session}/attendance-code`)
        .set(bearer(w.tokens.organisateur))
        .send({ rotates_every: 60 })
        .expect(201);
      const rows: { secret: string }[] = await t.db.query('SELECT secret FROM attendance_codes WHERE session_id = $1', [
        session,
      ]);
      return { session, secret: (rows[0] as { secret: string }).secret };
    }
    const current = (secret: string, session: string) => codeFor(secret, session, windowAt(new Date(), 60));

    it('HTTP and socket guesses share one budget of 5: alternating channels gains nothing', async () => {
      const { session, secret } = await codeSession();
      const m = await createMember(t, w.event.id);
      const socket = await connect(t, m.token);
      for (let i = 0; i < 3; i++) {
        expectError(
          await t.http.post(`/api/sessions/${session}/attend`).set(bearer(m.token)).send({ code: 'ZZZZZ2' }),
          400,
          'CODE_INVALID',
        );
      }
      for (let i = 0; i < 2; i++) {
        const ack = await request(socket, 'markAttendance', { session_id: session, code: 'ZZZZZ3' });
        assert.equal(ack.ok, false);
        assert.equal((ack as { error: { code: string } }).error.code, 'CODE_INVALID');
      }
      const right = current(secret, session);
      const viaSocket = await request(socket, 'markAttendance', { session_id: session, code: right });
      assert.equal((viaSocket as { error?: { code: string } }).error?.code, 'RATE_LIMITED');
      expectError(
        await t.http.post(`/api/sessions/${session}/attend`).set(bearer(m.token)).send({ code: right }),
        429,
        'RATE_LIMITED',
      );
      assert.equal(
        await countRows(t, 'attendances', 'session_id = $1 AND participant_id = $2', [session, m.participant.id]),
        0,
      );
    });

    it('a code is bound to its session: the current code of another session is refused; control: its own works', async () => {
      const a = await codeSession();
      const b = await codeSession();
      const m = await createMember(t, w.event.id);
      expectError(
        await t.http
          .post(`/api/sessions/${b.session}/attend`)
          .set(bearer(m.token))
          .send({ code: current(a.secret, a.session) }),
        400,
        'CODE_INVALID',
      );
      const ok = await t.http
        .post(`/api/sessions/${b.session}/attend`)
        .set(bearer(m.token))
        .send({ code: current(b.secret, b.session) });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.method, 'code');
    });

    it('opening the code again does not give a locked-out guesser a new budget', async () => {
      const { session } = await codeSession();
      const m = await createMember(t, w.event.id);
      for (let i = 0; i < 5; i++) {
        await t.http.post(`/api/sessions/${session}/attend`).set(bearer(m.token)).send({ code: 'ZZZZZ4' });
      }
      await t.http
        .post(`/api/sessions/${session}/attendance-code`)
        .set(bearer(w.tokens.organisateur))
        .send({})
        .expect(201);
      const rows: { secret: string }[] = await t.db.query('SELECT secret FROM attendance_codes WHERE session_id = $1', [
        session,
      ]);
      const right = codeFor((rows[0] as { secret: string }).secret, session, windowAt(new Date(), 45));
      expectError(
        await t.http.post(`/api/sessions/${session}/attend`).set(bearer(m.token)).send({ code: right }),
        429,
        'RATE_LIMITED',
      );
    });
  });
});
