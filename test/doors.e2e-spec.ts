import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'supertest';
import type { EventRole } from '../src/common/auth/event-role';
import {
  assign,
  bearer,
  countRows,
  createMember,
  createRoom,
  createSession,
  createWorld,
  uniq,
  type World,
} from './helpers/factories';
import { expectError, expectValidation } from './helpers/assertions';
import { doorState as doorStateOf } from './helpers/doors';
import { bootTestApp, forgetCachedSessions, type TestApp } from './helpers/test-app';

/*
 * The door module end to end: door decisions (verify_access, qr/verify, the entrance scan), the access log, manual
 * decisions, conflicts, the offline manifest, the input of offline sync, and the door statistics. Concurrency and the
 * acceptance of offline batches (idempotency, conflicts) have their own files.
 */

const SCANNER_ROLES: EventRole[] = ['organisateur', 'gestionnaire_des_salles', 'controlleur_des_badges'];
const NON_SCANNER_ROLES: EventRole[] = ['participant', 'exposant'];
const SUPERVISOR_ROLES: EventRole[] = ['organisateur', 'gestionnaire_des_salles'];
const NON_SUPERVISOR_ROLES: EventRole[] = ['controlleur_des_badges', 'participant', 'exposant'];

const MIN = 60_000;
const HOUR = 60 * MIN;
/** The app under test runs with DOOR_GRACE=10m (the default is 15m): a session 12 minutes away tells them apart. */
const GRACE = '10m';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const UNKNOWN_ID = '6f1c1c2e-1111-4111-8111-111111111111';

/** API.md, "Scans": the body of every door decision. */
const SCAN_KEYS = [
  'status',
  'reason_code',
  'message',
  'duplicate',
  'participant',
  'room',
  'session',
  'access_id',
  'scanned_at',
].sort();
/** API.md, Participants `POST scan/`. */
const ENTRANCE_DOC_KEYS = [
  'status',
  'reason_code',
  'message',
  'participant',
  'is_checked_in',
  'checked_in_at',
  'first_check_in',
  'paid_items',
];
/** API.md, "Access log rows". */
const LOG_DOC_KEYS = [
  'id',
  'participant',
  'participant_name',
  'room',
  'room_name',
  'session',
  'session_title',
  'direction',
  'status',
  'reason_code',
  'denial_reason',
  'verified_by',
  'verified_by_name',
  'device_id',
  'nonce',
  'scanned_at',
  'received_at',
  'source',
  'conflict',
];
const ROOM_STATS_KEYS = [
  'current_participants',
  'capacity',
  'entries_today',
  'exits_today',
  'denied_today',
  'by_reason',
  'by_hour',
].sort();
const EVENT_STATS_KEYS = [
  'total_rooms',
  'total_sessions',
  'total_participants',
  'checked_in_count',
  'live_sessions',
  'completed_sessions',
  'current_occupancy',
  'scans_today',
  'denied_today',
].sort();
const PAGE_KEYS = ['count', 'next', 'previous', 'results'];
const MANIFEST_KEYS = ['generated_at', 'rooms', 'badges', 'revoked', 'session_access', 'sessions'];

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const ago = (ms: number): Date => new Date(Date.now() - ms);
const fromNow = (ms: number): Date => new Date(Date.now() + ms);
/** The same instant at millisecond precision (the database keeps microseconds, answers show milliseconds). */
const sameInstant = (a: string | Date | null | undefined, b: string | Date | null | undefined): void => {
  assert.ok(a && b, `both instants set: ${String(a)} ${String(b)}`);
  const diff = Math.abs(new Date(a).getTime() - new Date(b).getTime());
  assert.ok(diff <= 1, `${String(a)} vs ${String(b)}`);
};

interface ScanBody {
  status: 'granted' | 'denied';
  reason_code: string;
  message: string;
  duplicate: boolean;
  participant: { id: string; badge_id: string; full_name: string } | null;
  room: { id: string; name: string; current_participants: number; capacity: number };
  session: { id: string; title: string; session_type: string } | null;
  access_id: string;
  scanned_at: string;
}

interface EntranceBody {
  status: 'granted' | 'denied';
  reason_code: string;
  message: string;
  participant: { id: string; badge_id: string; full_name: string } | null;
  is_checked_in: boolean;
  checked_in_at: string | null;
  first_check_in: boolean;
  paid_items: { session_id: string; title: string; payment_status: string; has_access: boolean }[];
  duplicate: boolean;
  access_id: string;
  scanned_at: string;
}

interface LogBody {
  id: string;
  participant: string | null;
  room: string | null;
  session: string | null;
  status: string;
  reason_code: string;
  direction: string;
  source: string;
  verified_by: string | null;
  denial_reason: string;
  conflict: boolean;
  [key: string]: unknown;
}

type Member = Awaited<ReturnType<typeof createMember>>;

interface LogRow {
  event_id: string;
  room_id: string | null;
  participant_id: string | null;
  session_id: string | null;
  verified_by_id: string | null;
  device_id: string | null;
  nonce: string | null;
  direction: string;
  status: string;
  reason_code: string;
  duplicate: boolean;
  source: string;
}

describe('doors', () => {
  let t: TestApp;
  /** components.schemas of the OpenAPI document: the keys Swagger documents for each answer. */
  let schemas: Record<string, { properties?: Record<string, unknown> }>;

  // ---- helpers ------------------------------------------------------------------------------------------------------

  const verify = (token: string, roomId: string, body: object) =>
    t.http.post(`/api/rooms/${roomId}/verify_access/`).set(bearer(token)).send(body);
  const qrVerify = (token: string, body: object) => t.http.post('/api/qr/verify/').set(bearer(token)).send(body);
  const entrance = (token: string, body: object) =>
    t.http.post('/api/participants/scan/').set(bearer(token)).send(body);

  const assertScanShape = (body: ScanBody): void => {
    assert.deepEqual(Object.keys(body).sort(), SCAN_KEYS);
    assert.ok(['granted', 'denied'].includes(body.status), body.status);
    assert.equal(typeof body.message, 'string');
    assert.ok(body.message.length > 0);
    assert.equal(typeof body.duplicate, 'boolean');
    if (body.participant !== null) {
      assert.deepEqual(Object.keys(body.participant).sort(), ['badge_id', 'full_name', 'id']);
    }
    assert.deepEqual(Object.keys(body.room).sort(), ['capacity', 'current_participants', 'id', 'name']);
    assert.equal(typeof body.room.current_participants, 'number');
    assert.equal(typeof body.room.capacity, 'number');
    if (body.session !== null) assert.deepEqual(Object.keys(body.session).sort(), ['id', 'session_type', 'title']);
    assert.match(body.access_id, UUID);
    assert.match(body.scanned_at, ISO_UTC);
  };

  /** A door decision: 200 whatever it decided, with the documented body. */
  const decided = (res: Response): ScanBody => {
    assert.equal(res.status, 200, res.text);
    const body = res.body as ScanBody;
    assertScanShape(body);
    return body;
  };

  const scan = async (token: string, roomId: string, body: object): Promise<ScanBody> =>
    decided(await verify(token, roomId, body));

  const enter = async (token: string, roomId: string, member: { qr: string }, extra: object = {}) =>
    scan(token, roomId, { qr_data: member.qr, ...extra });
  const leave = async (token: string, roomId: string, member: { qr: string }) =>
    scan(token, roomId, { qr_data: member.qr, direction: 'out' });

  const entered = async (res: Response): Promise<EntranceBody> => {
    assert.equal(res.status, 200, res.text);
    return res.body as EntranceBody;
  };

  const expectDecision = (body: ScanBody, status: 'granted' | 'denied', reason: string): void => {
    assert.equal(body.status, status, JSON.stringify(body));
    assert.equal(body.reason_code, reason, JSON.stringify(body));
  };

  const occupancy = async (roomId: string): Promise<number> => {
    const rows: { n: number }[] = await t.db.query('SELECT current_participants AS n FROM rooms WHERE id = $1', [
      roomId,
    ]);
    return (rows[0] as { n: number }).n;
  };

  const badgeState = async (
    participantId: string,
  ): Promise<{ is_checked_in: boolean; checked_in_at: Date | null; current_room_id: string | null }> => {
    const rows: { is_checked_in: boolean; checked_in_at: Date | null; current_room_id: string | null }[] =
      await t.db.query('SELECT is_checked_in, checked_in_at, current_room_id FROM participants WHERE id = $1', [
        participantId,
      ]);
    return rows[0] as { is_checked_in: boolean; checked_in_at: Date | null; current_room_id: string | null };
  };

  const logRow = async (id: string): Promise<LogRow | undefined> => {
    const rows: LogRow[] = await t.db.query(
      `SELECT event_id, room_id, participant_id, session_id, verified_by_id, device_id, nonce, direction, status,
              reason_code, duplicate, source
         FROM room_access_logs WHERE id = $1`,
      [id],
    );
    return rows[0];
  };

  const logCount = (eventId: string): Promise<number> => countRows(t, 'room_access_logs', 'event_id = $1', [eventId]);

  const doorState = (eventId: string) => doorStateOf(t, eventId);

  const addShift = async (
    eventId: string,
    userId: string,
    roomId: string,
    role: 'controlleur_des_badges' | 'gestionnaire_des_salles',
    start: Date,
    end: Date,
    isActive = true,
  ): Promise<void> => {
    await t.db.query(
      `INSERT INTO room_assignments (event_id, room_id, user_id, role, start_time, end_time, is_active)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [eventId, roomId, userId, role, start, end, isActive],
    );
  };

  const addAccess = async (
    eventId: string,
    participantId: string,
    sessionId: string,
    status: 'pending' | 'paid' | 'free' | 'refunded',
  ): Promise<void> => {
    await t.db.query(
      `INSERT INTO session_access (event_id, participant_id, session_id, payment_status, amount_paid, paid_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        eventId,
        participantId,
        sessionId,
        status,
        status === 'paid' ? '500.00' : null,
        status === 'paid' ? new Date() : null,
      ],
    );
  };

  /** A paid atelier running now in the room. */
  const runningAtelier = (eventId: string, roomId: string, title = uniq('Atelier ')): Promise<string> =>
    createSession(t, eventId, roomId, {
      title,
      type: 'atelier',
      isPaid: true,
      price: '500.00',
      start: ago(10 * MIN),
      end: fromNow(50 * MIN),
    });

  /** The properties Swagger documents for the 200/201 answer of a route. */
  const documentedKeys = (schemaName: string): string[] => {
    const schema = schemas[schemaName];
    assert.ok(schema?.properties, `schema ${schemaName} is documented`);
    return Object.keys(schema.properties).sort();
  };

  const pageIds = (res: Response): string[] => (res.body.results as { id: string }[]).map((r) => r.id);

  before(async () => {
    t = await bootTestApp({ DOOR_GRACE: GRACE });
    const docs = await t.http.get('/api/docs-json').expect(200);
    schemas = docs.body.components.schemas;
  });
  after(() => t.close());

  // ---- who may scan -------------------------------------------------------------------------------------------------

  describe('scanning: allowed roles', () => {
    for (const role of SCANNER_ROLES) {
      describe(role, () => {
        let w: World;
        before(async () => {
          w = await createWorld(t);
        });

        it('POST rooms/{id}/verify_access/: 200 with exactly the documented keys; the log names the caller', async () => {
          const roomName = uniq('Door ');
          const roomId = await createRoom(t, w.event.id, { name: roomName, capacity: 7 });
          const m = await createMember(t, w.event.id);
          const body = await scan(w.tokens[role], roomId, { qr_data: m.qr });
          assert.deepEqual(documentedKeys('ScanResultDto'), SCAN_KEYS, 'Swagger documents the same keys');
          expectDecision(body, 'granted', 'OK');
          assert.equal(body.duplicate, false);
          assert.deepEqual(body.participant, {
            id: m.participant.id,
            badge_id: m.participant.badgeId,
            full_name: `${m.user.firstName} ${m.user.lastName}`,
          });
          assert.deepEqual(body.room, { id: roomId, name: roomName, current_participants: 1, capacity: 7 });
          assert.equal(body.session, null);
          assert.ok(Math.abs(new Date(body.scanned_at).getTime() - Date.now()) < MIN, 'scanned_at is the server time');
          const row = await logRow(body.access_id);
          assert.deepEqual(
            { ...row },
            {
              event_id: w.event.id,
              room_id: roomId,
              participant_id: m.participant.id,
              session_id: null,
              verified_by_id: w.users[role].id,
              device_id: null,
              nonce: null,
              direction: 'in',
              status: 'granted',
              reason_code: 'OK',
              duplicate: false,
              source: 'online',
            },
          );
        });

        it('POST qr/verify/ (room_id in the body): the same decision, without trailing slash too', async () => {
          const roomId = await createRoom(t, w.event.id, { capacity: 5 });
          const m = await createMember(t, w.event.id);
          const first = decided(await qrVerify(w.tokens[role], { room_id: roomId, qr_data: m.qr }));
          expectDecision(first, 'granted', 'OK');
          assert.equal(first.room.id, roomId);
          assert.equal(first.room.current_participants, 1);
          assert.equal(first.participant?.id, m.participant.id);
          const again = decided(
            await t.http
              .post('/api/qr/verify')
              .set(bearer(w.tokens[role]))
              .send({ room_id: roomId, qr_data: m.qr, direction: 'in' }),
          );
          expectDecision(again, 'granted', 'OK');
          assert.equal(again.duplicate, true);
          assert.equal((await logRow(first.access_id))?.verified_by_id, w.users[role].id);
          assert.equal(await occupancy(roomId), 1);
        });

        it('POST participants/scan/: 200 with the documented keys (and those Swagger adds)', async () => {
          const m = await createMember(t, w.event.id);
          const res = await entrance(w.tokens[role], { qr_data: m.qr });
          const body = await entered(res);
          const keys = Object.keys(body).sort();
          for (const key of ENTRANCE_DOC_KEYS) assert.ok(keys.includes(key), `${key} in ${keys}`);
          assert.deepEqual(keys, documentedKeys('EntranceScanResultDto'));
          assert.equal(body.status, 'granted');
          assert.equal(body.reason_code, 'OK');
          assert.equal(body.first_check_in, true);
          assert.equal(body.is_checked_in, true);
          assert.match(String(body.checked_in_at), ISO_UTC);
          assert.deepEqual(body.participant, {
            id: m.participant.id,
            badge_id: m.participant.badgeId,
            full_name: `${m.user.firstName} ${m.user.lastName}`,
          });
          assert.deepEqual(body.paid_items, []);
          const row = await logRow(body.access_id);
          assert.equal(row?.room_id, null, 'an entrance scan is logged with no room');
          assert.equal(row?.verified_by_id, w.users[role].id);
          assert.equal(row?.status, 'granted');
        });
      });
    }
  });

  describe('scanning: refused roles', () => {
    for (const role of NON_SCANNER_ROLES) {
      describe(role, () => {
        it('403 FORBIDDEN on the three scan routes, nothing written', async () => {
          const w = await createWorld(t);
          const roomId = await createRoom(t, w.event.id);
          const m = await createMember(t, w.event.id);
          // A member of that role with a badge of their own: it does not help either.
          const own = await createMember(t, w.event.id, role);
          const before = await doorState(w.event.id);
          expectError(await verify(w.tokens[role], roomId, { qr_data: m.qr }), 403, 'FORBIDDEN');
          expectError(await qrVerify(w.tokens[role], { room_id: roomId, qr_data: m.qr }), 403, 'FORBIDDEN');
          expectError(await entrance(w.tokens[role], { qr_data: m.qr }), 403, 'FORBIDDEN');
          expectError(await verify(own.token, roomId, { qr_data: own.qr }), 403, 'FORBIDDEN');
          expectError(await entrance(own.token, { qr_data: own.qr }), 403, 'FORBIDDEN');
          assert.equal(await logCount(w.event.id), 0);
          assert.deepEqual(await doorState(w.event.id), before);
          assert.equal(await occupancy(roomId), 0);
          assert.equal((await badgeState(m.participant.id)).is_checked_in, false);
        });
      });
    }

    it('without a token: 401, nothing written', async () => {
      const w = await createWorld(t);
      const roomId = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      expectError(
        await t.http.post(`/api/rooms/${roomId}/verify_access/`).send({ qr_data: m.qr }),
        401,
        'AUTH_REQUIRED',
      );
      assert.equal(await logCount(w.event.id), 0);
    });
  });

  describe('scanning: bad requests', () => {
    let w: World;
    let roomId: string;
    let m: Member;
    before(async () => {
      w = await createWorld(t);
      roomId = await createRoom(t, w.event.id);
      m = await createMember(t, w.event.id);
    });

    it("another event's room, an unknown room: 404 NOT_FOUND, nothing written in either event", async () => {
      const other = await createWorld(t);
      const otherRoom = await createRoom(t, other.event.id);
      const otherMember = await createMember(t, other.event.id);
      const mine = await doorState(w.event.id);
      const theirs = await doorState(other.event.id);
      for (const token of [w.tokens.organisateur, w.tokens.controlleur_des_badges]) {
        for (const qr of [m.qr, otherMember.qr]) {
          expectError(await verify(token, otherRoom, { qr_data: qr }), 404, 'NOT_FOUND');
          expectError(await qrVerify(token, { room_id: otherRoom, qr_data: qr }), 404, 'NOT_FOUND');
        }
        expectError(await verify(token, UNKNOWN_ID, { qr_data: m.qr }), 404, 'NOT_FOUND');
        expectError(await qrVerify(token, { room_id: UNKNOWN_ID, qr_data: m.qr }), 404, 'NOT_FOUND');
      }
      expectValidation(await verify(w.tokens.organisateur, 'not-a-uuid', { qr_data: m.qr }), 'id');
      assert.deepEqual(await doorState(w.event.id), mine);
      assert.deepEqual(await doorState(other.event.id), theirs);
      assert.equal(await occupancy(otherRoom), 0);
    });

    it('odd but well-formed QR texts (NUL, emoji, SQL, the hash itself) are unknown badges, never a 500', async () => {
      const token = w.tokens.controlleur_des_badges;
      for (const qr of ['\u0000', 'MP1.\u0000abc', '🎫🎫', "' OR 1=1 --", sha256(m.qr), m.qr.toLowerCase()]) {
        const body = await scan(token, roomId, { qr_data: qr });
        expectDecision(body, 'denied', 'BADGE_UNKNOWN');
        assert.equal(body.participant, null);
      }
      const e = await entered(await entrance(token, { qr_data: '\u0000' }));
      assert.equal(e.reason_code, 'BADGE_UNKNOWN');
      expectValidation(await verify(token, roomId, { qr_data: m.qr, device_id: 'a\u0000b', nonce: 'n' }), 'device_id');
      assert.equal(await occupancy(roomId), 0);
    });

    it('whitespace a scanner adds around the QR text is ignored (a QR text never contains any)', async () => {
      const token = w.tokens.controlleur_des_badges;
      const room = await createRoom(t, w.event.id, { capacity: 10 });
      const member = await createMember(t, w.event.id);
      expectDecision(await scan(token, room, { qr_data: ` ${member.qr}\r\n` }), 'granted', 'OK');
    });

    it('malformed bodies: 400 VALIDATION_FAILED naming the field, nothing written', async () => {
      const before = await doorState(w.event.id);
      const token = w.tokens.controlleur_des_badges;
      const cases: [object, string][] = [
        [{}, 'qr_data'],
        [{ direction: 'in' }, 'qr_data'],
        [{ qr_data: '' }, 'qr_data'],
        [{ qr_data: 42 }, 'qr_data'],
        [{ qr_data: 'x'.repeat(513) }, 'qr_data'],
        [{ qr_data: m.qr, direction: 'sideways' }, 'direction'],
        [{ qr_data: m.qr, direction: null }, 'direction'],
        [{ qr_data: m.qr, room: roomId }, 'room'],
        [{ qr_data: m.qr, status: 'granted' }, 'status'],
        [{ qr_data: m.qr, device_id: 'tablet-1', nonce: 'has spaces' }, 'nonce'],
        [{ qr_data: m.qr, device_id: 'tablet 1', nonce: 'n-1' }, 'device_id'],
        [{ qr_data: m.qr, nonce: 'n'.repeat(101) }, 'nonce'],
        [{ qr_data: m.qr, scanned_at: '2030-06-20T10:00:00' }, 'scanned_at'],
        [{ qr_data: m.qr, scanned_at: 'yesterday' }, 'scanned_at'],
        [{ qr_data: m.qr, scanned_at: 1718870400000 }, 'scanned_at'],
      ];
      for (const [body, field] of cases) {
        expectValidation(await verify(token, roomId, body), field);
        expectValidation(await qrVerify(token, { room_id: roomId, ...body }), field);
      }
      expectValidation(await qrVerify(token, { qr_data: m.qr }), 'room_id');
      expectValidation(await qrVerify(token, { qr_data: m.qr, room_id: 'room-1' }), 'room_id');
      const entranceCases: [object, string][] = [
        [{}, 'qr_data'],
        [{ qr_data: '' }, 'qr_data'],
        [{ qr_data: m.qr, direction: 'in' }, 'direction'],
        [{ qr_data: m.qr, room_id: roomId }, 'room_id'],
        [{ qr_data: m.qr, device_id: 'd', nonce: 'two words' }, 'nonce'],
        [{ qr_data: m.qr, is_checked_in: true }, 'is_checked_in'],
      ];
      for (const [body, field] of entranceCases) expectValidation(await entrance(token, body), field);
      for (const raw of ['[]', '"text"', 'null', '42', '{"qr_data": ']) {
        const res = await t.http
          .post(`/api/rooms/${roomId}/verify_access/`)
          .set(bearer(token))
          .set('Content-Type', 'application/json')
          .send(raw);
        expectError(res, 400, res.body.code);
      }
      const notJson = await t.http
        .post(`/api/rooms/${roomId}/verify_access/`)
        .set(bearer(token))
        .set('Content-Type', 'text/plain')
        .send(m.qr);
      expectError(notJson, 415, notJson.body.code);
      assert.deepEqual(await doorState(w.event.id), before);
      // The same badge with a well-formed body is let in: the refusals were about the input only.
      expectDecision(await enter(token, roomId, m), 'granted', 'OK');
    });
  });

  // ---- the decision, reason by reason -------------------------------------------------------------------------------

  describe('reason codes', () => {
    let w: World;
    let token: string;
    before(async () => {
      w = await createWorld(t);
      token = w.tokens.controlleur_des_badges;
    });

    it('OK: granted, occupancy +1, the badge is inside the room', async () => {
      const roomId = await createRoom(t, w.event.id, { capacity: 3 });
      const m = await createMember(t, w.event.id);
      const body = await enter(token, roomId, m);
      expectDecision(body, 'granted', 'OK');
      assert.equal(body.duplicate, false);
      assert.equal(body.room.current_participants, 1);
      assert.equal(await occupancy(roomId), 1);
      assert.equal((await badgeState(m.participant.id)).current_room_id, roomId);
    });

    it('BADGE_UNKNOWN: random text; participant null; logged as denied; nothing else changes', async () => {
      const roomId = await createRoom(t, w.event.id);
      await createSession(t, w.event.id, roomId, { start: ago(5 * MIN), end: fromNow(HOUR) });
      const before = await doorState(w.event.id);
      for (const qr of [randomBytes(24).toString('base64url'), `MP1.${randomBytes(32).toString('base64url')}`]) {
        const body = await scan(token, roomId, { qr_data: qr });
        expectDecision(body, 'denied', 'BADGE_UNKNOWN');
        assert.equal(body.participant, null);
        assert.equal(body.duplicate, false);
        assert.equal(body.room.current_participants, 0);
        const row = await logRow(body.access_id);
        assert.equal(row?.status, 'denied');
        assert.equal(row?.reason_code, 'BADGE_UNKNOWN');
        assert.equal(row?.participant_id, null);
      }
      const after = (await doorState(w.event.id)) as { logs: number };
      assert.equal(after.logs, (before as { logs: number }).logs + 2);
      assert.deepEqual({ ...after, logs: 0 }, { ...(before as object), logs: 0 });
    });

    it('BADGE_REVOKED: the old QR text after rotate-qr; the new one opens the door', async () => {
      const roomId = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      const rotated = await t.http
        .post(`/api/participants/${m.participant.id}/rotate-qr/`)
        .set(bearer(w.tokens.organisateur))
        .expect(200);
      const newQr = rotated.body.qr_code_data as string;
      assert.equal(typeof newQr, 'string');
      assert.notEqual(newQr, m.qr);
      const old = await scan(token, roomId, { qr_data: m.qr });
      expectDecision(old, 'denied', 'BADGE_REVOKED');
      assert.equal(old.participant, null);
      assert.equal(await occupancy(roomId), 0);
      assert.equal((await badgeState(m.participant.id)).is_checked_in, false);
      const fresh = await scan(token, roomId, { qr_data: newQr });
      expectDecision(fresh, 'granted', 'OK');
      assert.equal(fresh.participant?.id, m.participant.id);
      // The old text stays revoked once the badge is inside, and does not let it out either.
      expectDecision(await scan(token, roomId, { qr_data: m.qr, direction: 'out' }), 'denied', 'BADGE_REVOKED');
      assert.equal(await occupancy(roomId), 1);
    });

    it('BADGE_REVOKED: also after POST qr/generate/ (which rotates)', async () => {
      const roomId = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      const res = await t.http
        .post('/api/qr/generate/')
        .set(bearer(w.tokens.organisateur))
        .send({ participant_id: m.participant.id });
      assert.ok([200, 201].includes(res.status), res.text);
      expectDecision(await enter(token, roomId, m), 'denied', 'BADGE_REVOKED');
      expectDecision(await scan(token, roomId, { qr_data: res.body.qr_code_data }), 'granted', 'OK');
    });

    it('BADGE_REVOKED: a badge whose membership was deactivated (and of a deactivated user)', async () => {
      const roomId = await createRoom(t, w.event.id);
      const gone = await createMember(t, w.event.id);
      const bannedUser = await createMember(t, w.event.id);
      await t.db.query('UPDATE user_event_assignments SET is_active = false WHERE event_id = $1 AND user_id = $2', [
        w.event.id,
        gone.user.id,
      ]);
      forgetCachedSessions(t);
      await t.db.query('UPDATE users SET is_active = false WHERE id = $1', [bannedUser.user.id]);
      forgetCachedSessions(t);
      for (const m of [gone, bannedUser]) {
        const body = await enter(token, roomId, m);
        expectDecision(body, 'denied', 'BADGE_REVOKED');
        assert.equal((await badgeState(m.participant.id)).current_room_id, null);
        assert.equal((await badgeState(m.participant.id)).is_checked_in, false);
        const e = await entered(await entrance(token, { qr_data: m.qr }));
        assert.equal(e.status, 'denied');
        assert.equal(e.reason_code, 'BADGE_REVOKED');
        assert.equal(e.is_checked_in, false);
      }
      assert.equal(await occupancy(roomId), 0);
    });

    it('a badge of another event: BADGE_UNKNOWN, nothing about it in the answer', async () => {
      const other = await createWorld(t);
      const stranger = await createMember(t, other.event.id);
      const roomId = await createRoom(t, w.event.id);
      const res = await verify(token, roomId, { qr_data: stranger.qr });
      const body = decided(res);
      expectDecision(body, 'denied', 'BADGE_UNKNOWN');
      assert.equal(body.participant, null);
      assert.ok(!res.text.includes(stranger.participant.badgeId), 'no badge id of the other event');
      assert.ok(!res.text.includes(stranger.participant.id), 'no participant id of the other event');
      assert.ok(!res.text.includes(stranger.user.lastName), 'no name of the other event');
      // Also after it was revoked there: another event's revocations do not leak either.
      await t.http
        .post(`/api/participants/${stranger.participant.id}/rotate-qr/`)
        .set(bearer(other.tokens.organisateur))
        .expect(200);
      expectDecision(await scan(token, roomId, { qr_data: stranger.qr }), 'denied', 'BADGE_UNKNOWN');
      const e = await entered(await entrance(token, { qr_data: stranger.qr }));
      assert.equal(e.reason_code, 'BADGE_UNKNOWN');
      assert.equal(e.participant, null);
      assert.equal((await badgeState(stranger.participant.id)).is_checked_in, false);
      assert.equal(await logCount(other.event.id), 0);
    });

    it('EVENT_NOT_ACTIVE: an event not started yet, one that is over, a cancelled one', async () => {
      const worlds = [
        await createWorld(t, { startDate: fromNow(24 * HOUR), endDate: fromNow(48 * HOUR) }),
        await createWorld(t, { startDate: ago(48 * HOUR), endDate: ago(24 * HOUR) }),
        await createWorld(t, { isCancelled: true }),
      ];
      for (const x of worlds) {
        const roomId = await createRoom(t, x.event.id);
        const m = await createMember(t, x.event.id);
        const body = await enter(x.tokens.controlleur_des_badges, roomId, m);
        expectDecision(body, 'denied', 'EVENT_NOT_ACTIVE');
        assert.equal(body.participant?.id, m.participant.id);
        assert.equal(await occupancy(roomId), 0);
        const e = await entered(await entrance(x.tokens.organisateur, { qr_data: m.qr }));
        assert.equal(e.status, 'denied');
        assert.equal(e.reason_code, 'EVENT_NOT_ACTIVE');
        assert.equal(e.first_check_in, false);
        assert.deepEqual(await badgeState(m.participant.id), {
          is_checked_in: false,
          checked_in_at: null,
          current_room_id: null,
        });
        assert.equal(await countRows(t, 'attendances', 'event_id = $1', [x.event.id]), 0);
        assert.equal(await logCount(x.event.id), 2, 'denials are logged');
      }
    });

    it('ROOM_INACTIVE', async () => {
      const roomId = await createRoom(t, w.event.id, { isActive: false });
      const m = await createMember(t, w.event.id);
      const body = await enter(token, roomId, m);
      expectDecision(body, 'denied', 'ROOM_INACTIVE');
      assert.equal(await occupancy(roomId), 0);
      assert.deepEqual(await badgeState(m.participant.id), {
        is_checked_in: false,
        checked_in_at: null,
        current_room_id: null,
      });
    });

    it('ROOM_NOT_ALLOWED: allowed_rooms names another room; that room opens', async () => {
      const roomA = await createRoom(t, w.event.id);
      const roomB = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      await t.http
        .patch(`/api/participants/${m.participant.id}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ allowed_rooms: [roomB] })
        .expect(200);
      const denied = await enter(token, roomA, m);
      expectDecision(denied, 'denied', 'ROOM_NOT_ALLOWED');
      assert.equal(denied.participant?.id, m.participant.id);
      assert.equal(await occupancy(roomA), 0);
      assert.equal((await badgeState(m.participant.id)).is_checked_in, false, 'a denial does not check in');
      expectDecision(await enter(token, roomB, m), 'granted', 'OK');
      // Inside B, a try at A does not take the badge out of B.
      expectDecision(await enter(token, roomA, m), 'denied', 'ROOM_NOT_ALLOWED');
      assert.equal(await occupancy(roomB), 1);
      assert.equal((await badgeState(m.participant.id)).current_room_id, roomB);
    });

    it('PAYMENT_REQUIRED: a paid atelier running now; pending and refunded do not open; paid and free do', async () => {
      const roomId = await createRoom(t, w.event.id);
      const title = uniq('Paid atelier ');
      const sessionId = await runningAtelier(w.event.id, roomId, title);
      const [none, pending, refunded, paid, free] = await Promise.all(
        [1, 2, 3, 4, 5].map(() => createMember(t, w.event.id)),
      );
      await addAccess(w.event.id, pending.participant.id, sessionId, 'pending');
      await addAccess(w.event.id, refunded.participant.id, sessionId, 'refunded');
      await addAccess(w.event.id, paid.participant.id, sessionId, 'paid');
      await addAccess(w.event.id, free.participant.id, sessionId, 'free');
      for (const m of [none, pending, refunded]) {
        const body = await enter(token, roomId, m);
        expectDecision(body, 'denied', 'PAYMENT_REQUIRED');
        assert.deepEqual(body.session, { id: sessionId, title, session_type: 'atelier' });
        assert.equal((await badgeState(m.participant.id)).current_room_id, null);
      }
      assert.equal(await occupancy(roomId), 0);
      for (const m of [paid, free]) {
        const body = await enter(token, roomId, m);
        expectDecision(body, 'granted', 'OK');
        assert.deepEqual(body.session, { id: sessionId, title, session_type: 'atelier' });
      }
      assert.equal(await occupancy(roomId), 2);
      // The right of `paid` is for this atelier only: another paid atelier elsewhere still asks for payment.
      const otherRoom = await createRoom(t, w.event.id);
      await runningAtelier(w.event.id, otherRoom);
      expectDecision(await enter(token, otherRoom, paid), 'denied', 'PAYMENT_REQUIRED');
      // Once the pending payment is paid, the door opens.
      await t.db.query(
        `UPDATE session_access SET payment_status = 'paid' WHERE session_id = $1 AND participant_id = $2`,
        [sessionId, pending.participant.id],
      );
      expectDecision(await enter(token, roomId, pending), 'granted', 'OK');
      assert.equal(await occupancy(roomId), 3);
    });

    it('an unpaid atelier or a conference needs no session access', async () => {
      const atelierRoom = await createRoom(t, w.event.id);
      const confRoom = await createRoom(t, w.event.id);
      await createSession(t, w.event.id, atelierRoom, { type: 'atelier', start: ago(MIN), end: fromNow(HOUR) });
      await createSession(t, w.event.id, confRoom, { type: 'conference', start: ago(MIN), end: fromNow(HOUR) });
      const m = await createMember(t, w.event.id);
      expectDecision(await enter(token, atelierRoom, m), 'granted', 'OK');
      expectDecision(await enter(token, confRoom, m), 'granted', 'OK');
    });

    it('ROOM_FULL: at capacity the next one is refused; nothing moves', async () => {
      const roomId = await createRoom(t, w.event.id, { capacity: 1 });
      const elsewhere = await createRoom(t, w.event.id);
      const first = await createMember(t, w.event.id);
      const second = await createMember(t, w.event.id);
      expectDecision(await enter(token, roomId, first), 'granted', 'OK');
      expectDecision(await enter(token, elsewhere, second), 'granted', 'OK');
      const full = await enter(token, roomId, second);
      expectDecision(full, 'denied', 'ROOM_FULL');
      assert.equal(full.room.current_participants, 1);
      assert.equal(full.room.capacity, 1);
      assert.equal(await occupancy(roomId), 1);
      assert.equal(await occupancy(elsewhere), 1, 'a refused entry does not imply leaving the previous room');
      assert.equal((await badgeState(second.participant.id)).current_room_id, elsewhere);
      // The one inside is still welcome (a duplicate), and once they leave the next one gets in.
      const dup = await enter(token, roomId, first);
      expectDecision(dup, 'granted', 'OK');
      assert.equal(dup.duplicate, true);
      expectDecision(await leave(token, roomId, first), 'granted', 'OK');
      expectDecision(await enter(token, roomId, second), 'granted', 'OK');
      assert.equal(await occupancy(roomId), 1);
      assert.equal(await occupancy(elsewhere), 0);
    });
  });

  describe('sessions at the door', () => {
    let w: World;
    let token: string;
    before(async () => {
      w = await createWorld(t);
      token = w.tokens.gestionnaire_des_salles;
    });

    it('the session running now is in the answer and in the log', async () => {
      const roomId = await createRoom(t, w.event.id);
      const title = uniq('Keynote ');
      const sessionId = await createSession(t, w.event.id, roomId, { title, start: ago(30 * MIN), end: fromNow(HOUR) });
      const m = await createMember(t, w.event.id);
      const body = await enter(token, roomId, m);
      assert.deepEqual(body.session, { id: sessionId, title, session_type: 'conference' });
      assert.equal((await logRow(body.access_id))?.session_id, sessionId);
    });

    it(`a session starting within DOOR_GRACE (${GRACE}) counts; one starting later does not`, async () => {
      const soonRoom = await createRoom(t, w.event.id);
      const laterRoom = await createRoom(t, w.event.id);
      const soon = await createSession(t, w.event.id, soonRoom, { start: fromNow(5 * MIN), end: fromNow(HOUR) });
      // 12 minutes: inside the default 15m grace, outside the configured 10m.
      await createSession(t, w.event.id, laterRoom, { start: fromNow(12 * MIN), end: fromNow(HOUR) });
      const m = await createMember(t, w.event.id);
      assert.equal((await enter(token, soonRoom, m)).session?.id, soon);
      const later = await enter(token, laterRoom, m);
      expectDecision(later, 'granted', 'OK');
      assert.equal(later.session, null);
      // A paid atelier within the grace already asks for payment; one beyond it does not yet.
      const paidSoon = await createRoom(t, w.event.id);
      const paidLater = await createRoom(t, w.event.id);
      await createSession(t, w.event.id, paidSoon, {
        type: 'atelier',
        isPaid: true,
        price: '100.00',
        start: fromNow(5 * MIN),
        end: fromNow(HOUR),
      });
      await createSession(t, w.event.id, paidLater, {
        type: 'atelier',
        isPaid: true,
        price: '100.00',
        start: fromNow(12 * MIN),
        end: fromNow(HOUR),
      });
      expectDecision(await enter(token, paidSoon, m), 'denied', 'PAYMENT_REQUIRED');
      expectDecision(await enter(token, paidLater, m), 'granted', 'OK');
    });

    it('a cancelled session is ignored (session null, no payment asked); an ended one too', async () => {
      const cancelledRoom = await createRoom(t, w.event.id);
      await createSession(t, w.event.id, cancelledRoom, {
        type: 'atelier',
        isPaid: true,
        price: '100.00',
        status: 'cancelled',
        start: ago(10 * MIN),
        end: fromNow(HOUR),
      });
      const endedRoom = await createRoom(t, w.event.id);
      await createSession(t, w.event.id, endedRoom, { start: ago(50 * MIN), end: ago(MIN) });
      const m = await createMember(t, w.event.id);
      const body = await enter(token, cancelledRoom, m);
      expectDecision(body, 'granted', 'OK');
      assert.equal(body.session, null);
      assert.equal((await logRow(body.access_id))?.session_id, null);
      const ended = await enter(token, endedRoom, m);
      assert.equal(ended.session, null);
    });

    it('a cancelled session beside a running one: the running one is resolved', async () => {
      const roomId = await createRoom(t, w.event.id);
      await createSession(t, w.event.id, roomId, {
        title: 'cancelled',
        status: 'cancelled',
        start: ago(20 * MIN),
        end: fromNow(HOUR),
      });
      const title = uniq('Live ');
      const live = await createSession(t, w.event.id, roomId, { title, start: ago(5 * MIN), end: fromNow(HOUR) });
      const m = await createMember(t, w.event.id);
      assert.deepEqual((await enter(token, roomId, m)).session, { id: live, title, session_type: 'conference' });
    });

    it("another room's session is not this room's", async () => {
      const busy = await createRoom(t, w.event.id);
      const quiet = await createRoom(t, w.event.id);
      await createSession(t, w.event.id, busy, { start: ago(5 * MIN), end: fromNow(HOUR) });
      const m = await createMember(t, w.event.id);
      assert.equal((await enter(token, quiet, m)).session, null);
    });
  });

  // ---- occupancy, presence, check-in, attendance --------------------------------------------------------------------

  describe('occupancy, presence and attendance', () => {
    let w: World;
    let token: string;
    before(async () => {
      w = await createWorld(t);
      token = w.tokens.controlleur_des_badges;
    });

    it('a second entry is a duplicate: granted, duplicate true, occupancy unchanged, still logged', async () => {
      const roomId = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      const first = await enter(token, roomId, m);
      const logs = await logCount(w.event.id);
      const again = await enter(token, roomId, m);
      expectDecision(again, 'granted', 'OK');
      assert.equal(again.duplicate, true);
      assert.equal(again.room.current_participants, 1);
      assert.notEqual(again.access_id, first.access_id);
      assert.equal(await occupancy(roomId), 1);
      assert.equal(await logCount(w.event.id), logs + 1);
      assert.equal((await logRow(again.access_id))?.duplicate, true);
    });

    it('a member deactivated while inside is refused entry but can still leave, and the room follows', async () => {
      const roomId = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      await enter(token, roomId, m);
      await t.db.query('UPDATE user_event_assignments SET is_active = false WHERE event_id = $1 AND user_id = $2', [
        w.event.id,
        m.user.id,
      ]);
      forgetCachedSessions(t);
      expectDecision(await scan(token, await createRoom(t, w.event.id), { qr_data: m.qr }), 'denied', 'BADGE_REVOKED');
      const out = await scan(token, roomId, { qr_data: m.qr, direction: 'out' });
      expectDecision(out, 'granted', 'OK');
      assert.equal(out.duplicate, false);
      assert.equal(await occupancy(roomId), 0);
    });

    it('deleting a badge while its holder is inside frees the place', async () => {
      const roomId = await createRoom(t, w.event.id, { capacity: 1 });
      const m = await createMember(t, w.event.id);
      await enter(token, roomId, m);
      assert.equal(await occupancy(roomId), 1);
      await t.http.delete(`/api/participants/${m.participant.id}/`).set(bearer(w.tokens.organisateur)).expect(204);
      assert.equal(await occupancy(roomId), 0);
      const next = await createMember(t, w.event.id);
      expectDecision(await scan(token, roomId, { qr_data: next.qr }), 'granted', 'OK');
    });

    it('an exit: occupancy -1 and the badge is outside; an exit of someone not inside is a duplicate', async () => {
      const roomId = await createRoom(t, w.event.id);
      const [a, b] = [await createMember(t, w.event.id), await createMember(t, w.event.id)];
      await enter(token, roomId, a);
      await enter(token, roomId, b);
      assert.equal(await occupancy(roomId), 2);
      const out = await leave(token, roomId, a);
      expectDecision(out, 'granted', 'OK');
      assert.equal(out.duplicate, false);
      assert.equal(out.room.current_participants, 1);
      assert.equal(await occupancy(roomId), 1);
      assert.equal((await badgeState(a.participant.id)).current_room_id, null);
      assert.equal((await logRow(out.access_id))?.direction, 'out');
      // Out again: not inside any more.
      const twice = await leave(token, roomId, a);
      expectDecision(twice, 'granted', 'OK');
      assert.equal(twice.duplicate, true);
      assert.equal(await occupancy(roomId), 1);
      // Someone never inside, and someone inside another room: the room and the other room are untouched.
      const stranger = await createMember(t, w.event.id);
      const notInside = await leave(token, roomId, stranger);
      expectDecision(notInside, 'granted', 'OK');
      assert.equal(notInside.duplicate, true);
      const other = await createRoom(t, w.event.id);
      await enter(token, other, a);
      const wrongDoor = await leave(token, roomId, a);
      assert.equal(wrongDoor.duplicate, true);
      assert.equal(await occupancy(roomId), 1);
      assert.equal(await occupancy(other), 1);
      assert.equal((await badgeState(a.participant.id)).current_room_id, other);
    });

    it('an exit never takes occupancy below zero', async () => {
      const roomId = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      await enter(token, roomId, m);
      // The counter was reset meanwhile (e.g. by staff at the end of a session).
      await t.db.query('UPDATE rooms SET current_participants = 0 WHERE id = $1', [roomId]);
      const out = await leave(token, roomId, m);
      expectDecision(out, 'granted', 'OK');
      assert.equal(out.room.current_participants, 0);
      assert.equal(await occupancy(roomId), 0);
      assert.equal((await badgeState(m.participant.id)).current_room_id, null);
      const again = await leave(token, roomId, m);
      assert.equal(again.room.current_participants, 0);
      assert.equal(await occupancy(roomId), 0);
    });

    it('entering another room implies leaving the previous one', async () => {
      const roomA = await createRoom(t, w.event.id);
      const roomB = await createRoom(t, w.event.id);
      const [m, stays] = [await createMember(t, w.event.id), await createMember(t, w.event.id)];
      await enter(token, roomA, m);
      await enter(token, roomA, stays);
      assert.equal(await occupancy(roomA), 2);
      const body = await enter(token, roomB, m);
      expectDecision(body, 'granted', 'OK');
      assert.equal(body.duplicate, false);
      assert.equal(body.room.current_participants, 1);
      assert.equal(await occupancy(roomA), 1);
      assert.equal(await occupancy(roomB), 1);
      assert.equal((await badgeState(m.participant.id)).current_room_id, roomB);
      // Back to A: B is left.
      await enter(token, roomA, m);
      assert.equal(await occupancy(roomA), 2);
      assert.equal(await occupancy(roomB), 0);
      // An exit from A, then an entry to B: nothing implied any more.
      await leave(token, roomA, m);
      await enter(token, roomB, m);
      assert.equal(await occupancy(roomA), 1);
      assert.equal(await occupancy(roomB), 1);
    });

    it('the first granted scan checks the badge in once; later scans do not move checked_in_at', async () => {
      const roomA = await createRoom(t, w.event.id);
      const roomB = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      const first = await enter(token, roomA, m);
      const state = await badgeState(m.participant.id);
      assert.equal(state.is_checked_in, true);
      assert.ok(state.checked_in_at instanceof Date);
      assert.ok(
        Math.abs((state.checked_in_at as Date).getTime() - new Date(first.scanned_at).getTime()) < 1000,
        'checked in at the time of the first scan',
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      await enter(token, roomB, m);
      await leave(token, roomB, m);
      await enter(token, roomA, m);
      const e = await entered(await entrance(token, { qr_data: m.qr }));
      assert.equal(e.first_check_in, false);
      const later = await badgeState(m.participant.id);
      assert.equal(later.is_checked_in, true);
      assert.deepEqual(later.checked_in_at, state.checked_in_at);
      sameInstant(e.checked_in_at, state.checked_in_at);
      const participant = await t.http
        .get(`/api/participants/${m.participant.id}/`)
        .set(bearer(w.tokens.organisateur))
        .expect(200);
      assert.equal(participant.body.is_checked_in, true);
      sameInstant(participant.body.checked_in_at, state.checked_in_at);
    });

    it('attendance: an event row on the first entry, a session row when a session runs; no more on repeats', async () => {
      const plain = await createRoom(t, w.event.id);
      const withSession = await createRoom(t, w.event.id);
      const sessionId = await createSession(t, w.event.id, withSession, { start: ago(10 * MIN), end: fromNow(HOUR) });
      const m = await createMember(t, w.event.id);
      const rowsOf = async () =>
        (await t.db.query(
          `SELECT session_id, method, marked_by_id FROM attendances WHERE event_id = $1 AND participant_id = $2
            ORDER BY session_id NULLS FIRST`,
          [w.event.id, m.participant.id],
        )) as { session_id: string | null; method: string; marked_by_id: string | null }[];
      // A denial and an exit record nothing.
      await t.http
        .patch(`/api/participants/${m.participant.id}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ allowed_rooms: [withSession] })
        .expect(200);
      expectDecision(await enter(token, plain, m), 'denied', 'ROOM_NOT_ALLOWED');
      await leave(token, withSession, m);
      assert.deepEqual(await rowsOf(), []);
      await t.http
        .patch(`/api/participants/${m.participant.id}/`)
        .set(bearer(w.tokens.organisateur))
        .send({ allowed_rooms: [] })
        .expect(200);

      await enter(token, plain, m);
      assert.deepEqual(await rowsOf(), [{ session_id: null, method: 'door_scan', marked_by_id: null }]);
      await enter(token, withSession, m);
      await enter(token, withSession, m);
      await leave(token, withSession, m);
      await enter(token, withSession, m);
      assert.deepEqual(await rowsOf(), [
        { session_id: null, method: 'door_scan', marked_by_id: null },
        { session_id: sessionId, method: 'door_scan', marked_by_id: null },
      ]);
    });
  });

  describe("the device's scanned_at online", () => {
    it('is kept in the log but the decision is taken at the server time', async () => {
      const w = await createWorld(t);
      const roomId = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      const n = await createMember(t, w.event.id);
      // Before the event: still granted (the event runs now); the answer carries the server time.
      const past = await scan(w.tokens.controlleur_des_badges, roomId, {
        qr_data: m.qr,
        scanned_at: '2001-01-01T00:00:00+02:00',
      });
      expectDecision(past, 'granted', 'OK');
      assert.ok(Math.abs(new Date(past.scanned_at).getTime() - Date.now()) < MIN);
      const future = await scan(w.tokens.controlleur_des_badges, roomId, {
        qr_data: n.qr,
        scanned_at: fromNow(72 * HOUR).toISOString(),
      });
      expectDecision(future, 'granted', 'OK');
      const rows: { device_scanned_at: Date; scanned_at: Date }[] = await t.db.query(
        'SELECT device_scanned_at, scanned_at FROM room_access_logs WHERE id = $1',
        [past.access_id],
      );
      assert.equal(rows[0]?.device_scanned_at.toISOString(), '2000-12-31T22:00:00.000Z');
      assert.ok(Math.abs((rows[0]?.scanned_at as Date).getTime() - Date.now()) < MIN);
      // A controller whose shift is over cannot claim a time inside it.
      const c = await createMember(t, w.event.id, 'controlleur_des_badges');
      const shiftStart = ago(3 * HOUR);
      await addShift(w.event.id, c.user.id, roomId, 'controlleur_des_badges', shiftStart, ago(HOUR));
      expectError(
        await verify(c.token, roomId, { qr_data: m.qr, scanned_at: ago(2 * HOUR).toISOString() }),
        403,
        'FORBIDDEN',
      );
    });
  });

  // ---- idempotency --------------------------------------------------------------------------------------------------

  describe('idempotency (device_id, nonce)', () => {
    let w: World;
    let token: string;
    before(async () => {
      w = await createWorld(t);
      token = w.tokens.controlleur_des_badges;
    });

    it('the same device and nonce twice: the identical body, one log row, occupancy changed once', async () => {
      const roomId = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      const body = { qr_data: m.qr, device_id: 'tablet-7', nonce: uniq('n-') };
      const first = await scan(token, roomId, body);
      expectDecision(first, 'granted', 'OK');
      const logs = await logCount(w.event.id);
      const again = await scan(token, roomId, body);
      assert.deepEqual(again, first);
      // Also through qr/verify, and after the person left: still the first answer, and nothing changes.
      const viaQr = decided(await qrVerify(token, { room_id: roomId, ...body }));
      assert.deepEqual(viaQr, first);
      await leave(token, roomId, m);
      const afterExit = await scan(token, roomId, body);
      assert.deepEqual(afterExit, first);
      assert.equal(await occupancy(roomId), 0);
      assert.equal((await badgeState(m.participant.id)).current_room_id, null);
      assert.equal(await logCount(w.event.id), logs + 1, 'only the exit was logged');
      assert.equal(
        await countRows(t, 'room_access_logs', 'event_id = $1 AND device_id = $2 AND nonce = $3', [
          w.event.id,
          body.device_id,
          body.nonce,
        ]),
        1,
      );
    });

    it('a repeated denial is the same denial, logged once', async () => {
      const roomId = await createRoom(t, w.event.id);
      const body = { qr_data: 'not-a-badge', device_id: 'tablet-8', nonce: uniq('n-') };
      const first = await scan(token, roomId, body);
      expectDecision(first, 'denied', 'BADGE_UNKNOWN');
      const logs = await logCount(w.event.id);
      assert.deepEqual(await scan(token, roomId, body), first);
      assert.equal(await logCount(w.event.id), logs);
    });

    it('the same nonce from another device is a new decision', async () => {
      const roomId = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      const nonce = uniq('n-');
      const first = await scan(token, roomId, { qr_data: m.qr, device_id: 'door-a', nonce });
      const second = await scan(token, roomId, { qr_data: m.qr, device_id: 'door-b', nonce });
      assert.notEqual(second.access_id, first.access_id);
      assert.equal(first.duplicate, false);
      assert.equal(second.duplicate, true);
      assert.equal(await occupancy(roomId), 1);
      assert.equal(
        await countRows(t, 'room_access_logs', 'event_id = $1 AND nonce = $2', [w.event.id, nonce]),
        2,
        'both decisions are logged',
      );
    });

    it('a nonce without device_id is idempotent per caller; another caller with it gets a new decision', async () => {
      const roomId = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      const nonce = uniq('n-');
      const first = await scan(token, roomId, { qr_data: m.qr, nonce });
      assert.deepEqual(await scan(token, roomId, { qr_data: m.qr, nonce }), first);
      const other = await scan(w.tokens.organisateur, roomId, { qr_data: m.qr, nonce });
      assert.notEqual(other.access_id, first.access_id);
      assert.equal(other.duplicate, true);
      assert.equal(await occupancy(roomId), 1);
    });

    it('the entrance scan: a repeated nonce answers the first answer again', async () => {
      const m = await createMember(t, w.event.id);
      const body = { qr_data: m.qr, device_id: 'gate-1', nonce: uniq('n-') };
      const first = await entered(await entrance(token, body));
      assert.equal(first.first_check_in, true);
      const logs = await logCount(w.event.id);
      assert.deepEqual(await entered(await entrance(token, body)), first);
      assert.equal(await logCount(w.event.id), logs);
      const fresh = await entered(await entrance(token, { ...body, nonce: uniq('n-') }));
      assert.equal(fresh.first_check_in, false);
      assert.equal(fresh.duplicate, true);
    });

    it('the same device and nonce for another badge, room or direction is a 409 NONCE_REUSED, nothing written', async () => {
      const roomId = await createRoom(t, w.event.id);
      const otherRoom = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      const n = await createMember(t, w.event.id);
      const body = { qr_data: m.qr, device_id: 'tablet-9', nonce: uniq('n-') };
      const first = await scan(token, roomId, body);
      expectDecision(first, 'granted', 'OK');
      const logs = await logCount(w.event.id);
      for (const [room, other] of [
        [roomId, { ...body, qr_data: n.qr }],
        [otherRoom, body],
        [roomId, { ...body, direction: 'out' }],
      ] as const) {
        expectError(await verify(token, room, other), 409, 'NONCE_REUSED');
      }
      expectError(await entrance(token, body), 409, 'NONCE_REUSED');
      assert.equal(await logCount(w.event.id), logs);
      assert.equal(await occupancy(roomId), 1);
      assert.equal((await badgeState(n.participant.id)).current_room_id, null);
      assert.deepEqual(await scan(token, roomId, body), first, 'the original request still replays');
    });

    it('the same device and nonce in another event is another scan', async () => {
      const other = await createWorld(t);
      const roomHere = await createRoom(t, w.event.id);
      const roomThere = await createRoom(t, other.event.id);
      const here = await createMember(t, w.event.id);
      const there = await createMember(t, other.event.id);
      const nonce = uniq('n-');
      const a = await scan(token, roomHere, { qr_data: here.qr, device_id: 'shared', nonce });
      const b = await scan(other.tokens.controlleur_des_badges, roomThere, {
        qr_data: there.qr,
        device_id: 'shared',
        nonce,
      });
      assert.notEqual(a.access_id, b.access_id);
      assert.equal(b.participant?.id, there.participant.id);
      assert.equal(await occupancy(roomThere), 1);
    });
  });

  // ---- rule 1 -------------------------------------------------------------------------------------------------------

  describe('rule 1: staff with room shifts', () => {
    it('a controller with a shift on A now: 403 at B (no log row), 200 at A', async () => {
      const w = await createWorld(t);
      const [roomA, roomB] = [await createRoom(t, w.event.id), await createRoom(t, w.event.id)];
      const m = await createMember(t, w.event.id);
      await addShift(
        w.event.id,
        w.users.controlleur_des_badges.id,
        roomA,
        'controlleur_des_badges',
        ago(HOUR),
        fromNow(HOUR),
      );
      const token = w.tokens.controlleur_des_badges;
      const before = await doorState(w.event.id);
      expectError(await verify(token, roomB, { qr_data: m.qr }), 403, 'FORBIDDEN');
      expectError(await qrVerify(token, { room_id: roomB, qr_data: m.qr }), 403, 'FORBIDDEN');
      expectError(await verify(token, roomB, { qr_data: 'garbage' }), 403, 'FORBIDDEN');
      expectError(await verify(token, roomB, { qr_data: m.qr, direction: 'out' }), 403, 'FORBIDDEN');
      expectError(await verify(token, roomB, { qr_data: m.qr, device_id: 'd1', nonce: uniq('n-') }), 403, 'FORBIDDEN');
      assert.deepEqual(await doorState(w.event.id), before);
      expectDecision(await enter(token, roomA, m), 'granted', 'OK');
      expectDecision(decided(await qrVerify(token, { room_id: roomA, qr_data: m.qr })), 'granted', 'OK');
    });

    it('a room manager with a shift is held to it the same way', async () => {
      const w = await createWorld(t);
      const [roomA, roomB] = [await createRoom(t, w.event.id), await createRoom(t, w.event.id)];
      const m = await createMember(t, w.event.id);
      await addShift(
        w.event.id,
        w.users.gestionnaire_des_salles.id,
        roomA,
        'gestionnaire_des_salles',
        ago(HOUR),
        fromNow(HOUR),
      );
      expectError(await verify(w.tokens.gestionnaire_des_salles, roomB, { qr_data: m.qr }), 403, 'FORBIDDEN');
      assert.equal(await logCount(w.event.id), 0);
      expectDecision(await enter(w.tokens.gestionnaire_des_salles, roomA, m), 'granted', 'OK');
    });

    it('a controller whose only shift is over, or not begun: 403 everywhere, even at that room', async () => {
      const w = await createWorld(t);
      const roomA = await createRoom(t, w.event.id);
      const roomB = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      const over = w.users.controlleur_des_badges;
      await addShift(w.event.id, over.id, roomA, 'controlleur_des_badges', ago(3 * HOUR), ago(MIN));
      for (const room of [roomA, roomB]) {
        expectError(await verify(w.tokens.controlleur_des_badges, room, { qr_data: m.qr }), 403, 'FORBIDDEN');
      }
      const later = await createMember(t, w.event.id, 'controlleur_des_badges');
      await addShift(w.event.id, later.user.id, roomA, 'controlleur_des_badges', fromNow(MIN), fromNow(HOUR));
      expectError(await verify(later.token, roomA, { qr_data: m.qr }), 403, 'FORBIDDEN');
      assert.equal(await logCount(w.event.id), 0);
      assert.equal(await occupancy(roomA), 0);
    });

    it('a controller without any shift (or only a deactivated one) may scan anywhere', async () => {
      const w = await createWorld(t);
      const [roomA, roomB] = [await createRoom(t, w.event.id), await createRoom(t, w.event.id)];
      const m = await createMember(t, w.event.id);
      expectDecision(await enter(w.tokens.controlleur_des_badges, roomA, m), 'granted', 'OK');
      expectDecision(await enter(w.tokens.controlleur_des_badges, roomB, m), 'granted', 'OK');
      const c = await createMember(t, w.event.id, 'controlleur_des_badges');
      await addShift(w.event.id, c.user.id, roomA, 'controlleur_des_badges', ago(HOUR), fromNow(HOUR), false);
      expectDecision(await enter(c.token, roomB, m), 'granted', 'OK');
    });

    it('the organisateur scans anywhere, even where staff shifts are', async () => {
      const w = await createWorld(t);
      const [roomA, roomB] = [await createRoom(t, w.event.id), await createRoom(t, w.event.id)];
      await addShift(
        w.event.id,
        w.users.controlleur_des_badges.id,
        roomA,
        'controlleur_des_badges',
        ago(HOUR),
        fromNow(HOUR),
      );
      const m = await createMember(t, w.event.id);
      expectDecision(await enter(w.tokens.organisateur, roomB, m), 'granted', 'OK');
      expectDecision(await enter(w.tokens.organisateur, roomA, m), 'granted', 'OK');
    });

    it('a shift in another event does not restrict (nor allow) anything here', async () => {
      const w = await createWorld(t);
      const other = await createWorld(t);
      const roomHere = await createRoom(t, w.event.id);
      const roomThere = await createRoom(t, other.event.id);
      const c = w.users.controlleur_des_badges;
      // The same person is also a controller there, with a shift there.
      await assign(t, other.event.id, c.id, 'controlleur_des_badges');
      await addShift(other.event.id, c.id, roomThere, 'controlleur_des_badges', ago(HOUR), fromNow(HOUR));
      const m = await createMember(t, w.event.id);
      expectDecision(await enter(w.tokens.controlleur_des_badges, roomHere, m), 'granted', 'OK');
      expectError(await verify(w.tokens.controlleur_des_badges, roomThere, { qr_data: m.qr }), 404, 'NOT_FOUND');
    });
  });

  // ---- entrance -----------------------------------------------------------------------------------------------------

  describe('entrance check-in (POST participants/scan/)', () => {
    let w: World;
    before(async () => {
      w = await createWorld(t);
    });

    it('first_check_in true, then false; is_checked_in and checked_in_at stay', async () => {
      const m = await createMember(t, w.event.id);
      const first = await entered(await entrance(w.tokens.controlleur_des_badges, { qr_data: m.qr }));
      assert.equal(first.status, 'granted');
      assert.equal(first.reason_code, 'OK');
      assert.equal(first.first_check_in, true);
      assert.equal(first.duplicate, false);
      assert.equal(first.is_checked_in, true);
      const state = await badgeState(m.participant.id);
      assert.equal(state.is_checked_in, true);
      sameInstant(first.checked_in_at, state.checked_in_at);
      assert.equal(state.current_room_id, null, 'the entrance is no room');
      const second = await entered(await entrance(w.tokens.organisateur, { qr_data: m.qr }));
      assert.equal(second.status, 'granted');
      assert.equal(second.first_check_in, false);
      assert.equal(second.duplicate, true);
      assert.equal(second.is_checked_in, true);
      assert.equal(second.checked_in_at, first.checked_in_at);
      assert.deepEqual(await badgeState(m.participant.id), state);
      assert.equal(
        await countRows(t, 'attendances', 'event_id = $1 AND participant_id = $2', [w.event.id, m.participant.id]),
        1,
        'one event attendance',
      );
      assert.equal(
        await countRows(t, 'room_access_logs', 'event_id = $1 AND participant_id = $2 AND room_id IS NULL', [
          w.event.id,
          m.participant.id,
        ]),
        2,
      );
    });

    it("paid_items lists the participant's session_access rows, and only theirs", async () => {
      const roomA = await createRoom(t, w.event.id);
      const roomB = await createRoom(t, w.event.id);
      const early = await createSession(t, w.event.id, roomA, {
        title: 'Early atelier',
        type: 'atelier',
        isPaid: true,
        price: '100.00',
        start: fromNow(2 * HOUR),
      });
      const late = await createSession(t, w.event.id, roomB, {
        title: 'Late atelier',
        type: 'atelier',
        isPaid: true,
        price: '100.00',
        start: fromNow(5 * HOUR),
      });
      const m = await createMember(t, w.event.id);
      const someoneElse = await createMember(t, w.event.id);
      await addAccess(w.event.id, m.participant.id, late, 'pending');
      await addAccess(w.event.id, m.participant.id, early, 'paid');
      await addAccess(w.event.id, someoneElse.participant.id, early, 'free');
      const body = await entered(await entrance(w.tokens.gestionnaire_des_salles, { qr_data: m.qr }));
      assert.deepEqual(body.paid_items, [
        { session_id: early, title: 'Early atelier', payment_status: 'paid', has_access: true },
        { session_id: late, title: 'Late atelier', payment_status: 'pending', has_access: false },
      ]);
      const other = await entered(await entrance(w.tokens.gestionnaire_des_salles, { qr_data: someoneElse.qr }));
      assert.deepEqual(other.paid_items, [
        { session_id: early, title: 'Early atelier', payment_status: 'free', has_access: true },
      ]);
    });

    it('an unknown badge: denied BADGE_UNKNOWN, participant null, not checked in, paid_items empty', async () => {
      const body = await entered(await entrance(w.tokens.controlleur_des_badges, { qr_data: uniq('nope') }));
      assert.equal(body.status, 'denied');
      assert.equal(body.reason_code, 'BADGE_UNKNOWN');
      assert.equal(body.participant, null);
      assert.equal(body.is_checked_in, false);
      assert.equal(body.checked_in_at, null);
      assert.equal(body.first_check_in, false);
      assert.deepEqual(body.paid_items, []);
      assert.equal((await logRow(body.access_id))?.status, 'denied');
    });

    it('a controller held to a room shift may still check badges in at the entrance (no room)', async () => {
      const roomA = await createRoom(t, w.event.id);
      const c = await createMember(t, w.event.id, 'controlleur_des_badges');
      await addShift(w.event.id, c.user.id, roomA, 'controlleur_des_badges', ago(HOUR), fromNow(HOUR));
      const m = await createMember(t, w.event.id);
      const body = await entered(await entrance(c.token, { qr_data: m.qr }));
      assert.equal(body.first_check_in, true);
    });
  });

  // ---- the access log -----------------------------------------------------------------------------------------------

  describe('access log (GET room-access/)', () => {
    let w: World;
    let other: World;
    let roomA: string;
    let roomB: string;
    let alice: Member;
    let bob: Member;
    /** Scans by the controller, in order. */
    const byController: ScanBody[] = [];
    /** Scans by the room manager, in order. */
    const byManager: ScanBody[] = [];
    let theirLog: ScanBody;
    let managerSession: string;

    before(async () => {
      w = await createWorld(t);
      other = await createWorld(t);
      roomA = await createRoom(t, w.event.id, { name: uniq('Log A ') });
      roomB = await createRoom(t, w.event.id, { name: uniq('Log B ') });
      managerSession = await createSession(t, w.event.id, roomB, { start: ago(MIN), end: fromNow(HOUR) });
      alice = await createMember(t, w.event.id, 'participant', { firstName: 'Alice' });
      bob = await createMember(t, w.event.id, 'participant', { firstName: 'Bob' });
      const c = w.tokens.controlleur_des_badges;
      byController.push(await enter(c, roomA, alice, { device_id: 'door-a', nonce: 'n-1' }));
      byController.push(await scan(c, roomA, { qr_data: 'forged' }));
      byController.push(await leave(c, roomA, alice));
      byManager.push(await enter(w.tokens.gestionnaire_des_salles, roomB, bob));
      byManager.push(await enter(w.tokens.gestionnaire_des_salles, roomB, alice));
      const stranger = await createMember(t, other.event.id);
      const theirRoom = await createRoom(t, other.event.id);
      theirLog = await enter(other.tokens.organisateur, theirRoom, stranger);
    });

    const list = (token: string, query: Record<string, string> = {}) =>
      t.http.get('/api/room-access/').set(bearer(token)).query(query);

    for (const role of SUPERVISOR_ROLES) {
      describe(role, () => {
        it('lists every scan of the event, newest first, in the page envelope with the documented keys', async () => {
          const res = await list(w.tokens[role]).expect(200);
          assert.deepEqual(Object.keys(res.body).sort(), PAGE_KEYS);
          const expected = [...byController, ...byManager].map((s) => s.access_id).reverse();
          assert.deepEqual(pageIds(res), expected);
          assert.equal(res.body.count, 5);
          for (const row of res.body.results as LogBody[]) {
            const keys = Object.keys(row).sort();
            for (const key of LOG_DOC_KEYS) assert.ok(keys.includes(key), `${key} in ${keys}`);
            assert.deepEqual(keys, documentedKeys('AccessLogDto'));
            assert.match(String(row.scanned_at), ISO_UTC);
            assert.match(String(row.received_at), ISO_UTC);
          }
          const first = (res.body.results as LogBody[]).at(-1) as LogBody;
          assert.equal(first.participant, alice.participant.id);
          assert.equal(first.participant_name, `Alice ${alice.user.lastName}`);
          assert.equal(first.room, roomA);
          assert.equal(first.status, 'granted');
          assert.equal(first.reason_code, 'OK');
          assert.equal(first.direction, 'in');
          assert.equal(first.source, 'online');
          assert.equal(first.device_id, 'door-a');
          assert.equal(first.nonce, 'n-1');
          assert.equal(first.verified_by, w.users.controlleur_des_badges.id);
          assert.equal(first.verified_by_name, `controlleur_des_badges ${w.users.controlleur_des_badges.lastName}`);
          assert.equal(first.conflict, false);
          const managed = (res.body.results as LogBody[])[1] as LogBody;
          assert.equal(managed.session, managerSession);
          assert.equal(typeof managed.session_title, 'string');
          assert.ok(!res.text.includes(alice.qr), 'no QR text in the log');
          assert.ok(!res.text.includes(theirLog.access_id), 'no row of another event');
        });

        it('GET room-access/{id}/ of any scan of the event; of another event 404', async () => {
          const res = await t.http
            .get(`/api/room-access/${byController[1]?.access_id}/`)
            .set(bearer(w.tokens[role]))
            .expect(200);
          assert.equal(res.body.id, byController[1]?.access_id);
          assert.equal(res.body.reason_code, 'BADGE_UNKNOWN');
          assert.equal(res.body.participant, null);
          assert.equal(res.body.status, 'denied');
          expectError(
            await t.http.get(`/api/room-access/${theirLog.access_id}/`).set(bearer(w.tokens[role])),
            404,
            'NOT_FOUND',
          );
          expectError(
            await t.http.get(`/api/room-access/${UNKNOWN_ID}/`).set(bearer(w.tokens[role])),
            404,
            'NOT_FOUND',
          );
          expectValidation(await t.http.get('/api/room-access/42/').set(bearer(w.tokens[role])), 'id');
        });

        it('filters: room, participant, status, reason_code, direction, from/to', async () => {
          const token = w.tokens[role];
          const ids = async (query: Record<string, string>): Promise<string[]> =>
            pageIds(await list(token, query).expect(200)).sort();
          const sorted = (scans: (ScanBody | undefined)[]) => scans.map((s) => s?.access_id as string).sort();
          const [aIn, forged, aOut] = byController;
          const [bIn, aInB] = byManager;
          assert.deepEqual(await ids({ room: roomA }), sorted([aIn, forged, aOut]));
          assert.deepEqual(await ids({ room: roomB }), sorted([bIn, aInB]));
          assert.deepEqual(await ids({ participant: alice.participant.id }), sorted([aIn, aOut, aInB]));
          assert.deepEqual(await ids({ participant: bob.participant.id }), sorted([bIn]));
          assert.deepEqual(await ids({ status: 'denied' }), sorted([forged]));
          assert.deepEqual(await ids({ status: 'granted' }), sorted([aIn, aOut, bIn, aInB]));
          assert.deepEqual(await ids({ reason_code: 'BADGE_UNKNOWN' }), sorted([forged]));
          assert.deepEqual(await ids({ reason_code: 'ROOM_FULL' }), []);
          assert.deepEqual(await ids({ direction: 'out' }), sorted([aOut]));
          assert.deepEqual(await ids({ direction: 'in', room: roomA }), sorted([aIn, forged]));
          const pivot = (aOut as ScanBody).scanned_at;
          assert.deepEqual(await ids({ from: pivot }), sorted([aOut, bIn, aInB]));
          assert.deepEqual(await ids({ to: pivot }), sorted([aIn, forged]));
          assert.deepEqual(await ids({ from: (aIn as ScanBody).scanned_at, to: (bIn as ScanBody).scanned_at }), [
            ...sorted([aIn, forged, aOut]),
          ]);
          assert.deepEqual(await ids({ from: new Date(Date.now() + HOUR).toISOString() }), []);
          // Another event's room or badge as a filter: nothing (never their rows).
          assert.deepEqual(await ids({ room: theirLog.room.id }), []);
          assert.deepEqual(await ids({ participant: theirLog.participant?.id as string }), []);
          assert.deepEqual(await ids({ event: w.event.id }), sorted([aIn, forged, aOut, bIn, aInB]));
          expectValidation(await list(token, { event: other.event.id }), 'event');
          expectValidation(await list(token, { status: 'maybe' }), 'status');
          expectValidation(await list(token, { direction: 'sideways' }), 'direction');
          expectValidation(await list(token, { room: 'nope' }), 'room');
          expectValidation(await list(token, { from: '2030-01-01T10:00:00' }), 'from');
          expectValidation(await list(token, { reason_code: "OK' OR 1=1" }), 'reason_code');
        });

        it('paginates', async () => {
          const res = await list(w.tokens[role], { page_size: '2' }).expect(200);
          assert.equal(res.body.count, 5);
          assert.equal(res.body.results.length, 2);
          assert.ok(res.body.next);
          assert.equal(res.body.previous, null);
          const last = await list(w.tokens[role], { page_size: '2', page: '3' }).expect(200);
          assert.equal(last.body.results.length, 1);
          assert.equal(last.body.next, null);
        });
      });
    }

    describe('controlleur_des_badges', () => {
      it('sees only their own scans; filters apply within them', async () => {
        const token = w.tokens.controlleur_des_badges;
        const res = await list(token).expect(200);
        assert.equal(res.body.count, 3);
        assert.deepEqual(pageIds(res), byController.map((s) => s.access_id).reverse());
        const mine = await list(token, { participant: alice.participant.id }).expect(200);
        assert.deepEqual(pageIds(mine).sort(), [byController[0]?.access_id, byController[2]?.access_id].sort());
        assert.deepEqual(pageIds(await list(token, { room: roomB }).expect(200)), []);
      });

      it("GET room-access/{id}/ of another controller's (or manager's) scan: 404", async () => {
        const token = w.tokens.controlleur_des_badges;
        await t.http.get(`/api/room-access/${byController[0]?.access_id}/`).set(bearer(token)).expect(200);
        expectError(
          await t.http.get(`/api/room-access/${byManager[0]?.access_id}/`).set(bearer(token)),
          404,
          'NOT_FOUND',
        );
        const colleague = await createMember(t, w.event.id, 'controlleur_des_badges');
        const theirs = await enter(colleague.token, roomA, bob);
        expectError(await t.http.get(`/api/room-access/${theirs.access_id}/`).set(bearer(token)), 404, 'NOT_FOUND');
        const colleagueList = await list(colleague.token).expect(200);
        assert.deepEqual(pageIds(colleagueList), [theirs.access_id]);
        await t.http.get(`/api/room-access/${theirs.access_id}/`).set(bearer(colleague.token)).expect(200);
      });
    });

    for (const role of NON_SCANNER_ROLES) {
      describe(role, () => {
        it('403 on the list and on a row', async () => {
          expectError(await list(w.tokens[role]), 403, 'FORBIDDEN');
          expectError(
            await t.http.get(`/api/room-access/${byController[0]?.access_id}/`).set(bearer(w.tokens[role])),
            403,
            'FORBIDDEN',
          );
        });
      });
    }
  });

  describe('manual decisions (POST room-access/)', () => {
    const manual = (token: string, body: object) => t.http.post('/api/room-access/').set(bearer(token)).send(body);

    for (const role of SUPERVISOR_ROLES) {
      describe(role, () => {
        let w: World;
        before(async () => {
          w = await createWorld(t);
        });

        it('granted: applies to occupancy like a scan, logged as manual with the note', async () => {
          const roomId = await createRoom(t, w.event.id);
          const previous = await createRoom(t, w.event.id);
          const m = await createMember(t, w.event.id);
          await enter(w.tokens.organisateur, previous, m);
          const res = await manual(w.tokens[role], {
            participant_id: m.participant.id,
            room_id: roomId,
            status: 'granted',
            denial_reason: '  Badge printer broken, ID checked  ',
          });
          assert.equal(res.status, 201, res.text);
          const keys = Object.keys(res.body).sort();
          for (const key of LOG_DOC_KEYS) assert.ok(keys.includes(key), key);
          assert.equal(res.body.status, 'granted');
          assert.equal(res.body.reason_code, 'OK');
          assert.equal(res.body.source, 'manual');
          assert.equal(res.body.direction, 'in');
          assert.equal(res.body.participant, m.participant.id);
          assert.equal(res.body.room, roomId);
          assert.equal(res.body.verified_by, w.users[role].id);
          assert.equal(res.body.denial_reason, 'Badge printer broken, ID checked');
          assert.equal(await occupancy(roomId), 1);
          assert.equal(await occupancy(previous), 0);
          assert.equal((await badgeState(m.participant.id)).current_room_id, roomId);
          // It waives allowed rooms and payment, never capacity.
          const restricted = await createRoom(t, w.event.id, { capacity: 1 });
          const n = await createMember(t, w.event.id);
          await t.db.query('UPDATE participants SET allowed_rooms = $2 WHERE id = $1', [n.participant.id, [roomId]]);
          const waived = await manual(w.tokens[role], {
            participant_id: n.participant.id,
            room_id: restricted,
            status: 'granted',
            denial_reason: 'Speaker guest',
          });
          assert.equal(waived.status, 201, waived.text);
          assert.equal(waived.body.status, 'granted');
          const o = await createMember(t, w.event.id);
          const full = await manual(w.tokens[role], {
            participant_id: o.participant.id,
            room_id: restricted,
            status: 'granted',
            denial_reason: 'One more please',
          });
          assert.equal(full.status, 201, full.text);
          assert.equal(full.body.status, 'denied');
          assert.equal(full.body.reason_code, 'ROOM_FULL');
          assert.equal(await occupancy(restricted), 1);
        });

        it('denied: logged with the note, occupancy untouched', async () => {
          const roomId = await createRoom(t, w.event.id);
          const m = await createMember(t, w.event.id);
          const before = await logCount(w.event.id);
          const res = await manual(w.tokens[role], {
            participant_id: m.participant.id,
            room_id: roomId,
            status: 'denied',
            denial_reason: 'Aggressive behaviour',
          });
          assert.equal(res.status, 201, res.text);
          assert.equal(res.body.status, 'denied');
          assert.equal(res.body.source, 'manual');
          assert.equal(res.body.denial_reason, 'Aggressive behaviour');
          assert.equal(await occupancy(roomId), 0);
          assert.deepEqual(await badgeState(m.participant.id), {
            is_checked_in: false,
            checked_in_at: null,
            current_room_id: null,
          });
          assert.equal(await logCount(w.event.id), before + 1);
          // Someone inside refused at the same door stays counted where they are.
          await enter(w.tokens.organisateur, roomId, m);
          await manual(w.tokens[role], {
            participant_id: m.participant.id,
            room_id: roomId,
            status: 'denied',
            denial_reason: 'Not again',
          }).expect(201);
          assert.equal(await occupancy(roomId), 1);
        });

        it('denial_reason missing, blank or too short; bad status; unknown field: 400, nothing written', async () => {
          const roomId = await createRoom(t, w.event.id);
          const m = await createMember(t, w.event.id);
          const base = { participant_id: m.participant.id, room_id: roomId, status: 'granted' };
          const before = await doorState(w.event.id);
          const cases: [object, string][] = [
            [base, 'denial_reason'],
            [{ ...base, denial_reason: '' }, 'denial_reason'],
            [{ ...base, denial_reason: '      ' }, 'denial_reason'],
            [{ ...base, denial_reason: 'ok' }, 'denial_reason'],
            [{ ...base, denial_reason: 42 }, 'denial_reason'],
            [{ ...base, denial_reason: 'x'.repeat(501) }, 'denial_reason'],
            [{ ...base, status: 'maybe', denial_reason: 'Because' }, 'status'],
            [{ ...base, status: undefined, denial_reason: 'Because' }, 'status'],
            [{ ...base, direction: 'up', denial_reason: 'Because' }, 'direction'],
            [{ ...base, source: 'online', denial_reason: 'Because' }, 'source'],
            [{ ...base, participant_id: 'x', denial_reason: 'Because' }, 'participant_id'],
            [{ ...base, room_id: undefined, denial_reason: 'Because' }, 'room_id'],
          ];
          for (const [body, field] of cases) expectValidation(await manual(w.tokens[role], body), field);
          assert.deepEqual(await doorState(w.event.id), before);
        });

        it('a participant or room of another event: 400, nothing written in either event', async () => {
          const other = await createWorld(t);
          const theirRoom = await createRoom(t, other.event.id);
          const theirBadge = await createMember(t, other.event.id);
          const roomId = await createRoom(t, w.event.id);
          const m = await createMember(t, w.event.id);
          const mine = await doorState(w.event.id);
          const theirs = await doorState(other.event.id);
          expectValidation(
            await manual(w.tokens[role], {
              participant_id: theirBadge.participant.id,
              room_id: roomId,
              status: 'granted',
              denial_reason: 'Let them in',
            }),
            'participant_id',
          );
          expectValidation(
            await manual(w.tokens[role], {
              participant_id: m.participant.id,
              room_id: theirRoom,
              status: 'granted',
              denial_reason: 'Let them in',
            }),
            'room_id',
          );
          expectValidation(
            await manual(w.tokens[role], {
              participant_id: UNKNOWN_ID,
              room_id: roomId,
              status: 'denied',
              denial_reason: 'Who is this',
            }),
            'participant_id',
          );
          assert.deepEqual(await doorState(w.event.id), mine);
          assert.deepEqual(await doorState(other.event.id), theirs);
        });
      });
    }

    for (const role of NON_SUPERVISOR_ROLES) {
      describe(role, () => {
        it('403, nothing written', async () => {
          const w = await createWorld(t);
          const roomId = await createRoom(t, w.event.id);
          const m = await createMember(t, w.event.id);
          const before = await doorState(w.event.id);
          expectError(
            await manual(w.tokens[role], {
              participant_id: m.participant.id,
              room_id: roomId,
              status: 'granted',
              denial_reason: 'Please',
            }),
            403,
            'FORBIDDEN',
          );
          assert.deepEqual(await doorState(w.event.id), before);
        });
      });
    }

    it('a room manager held to a shift may not record decisions at other rooms (403)', async () => {
      const w = await createWorld(t);
      const [roomA, roomB] = [await createRoom(t, w.event.id), await createRoom(t, w.event.id)];
      await addShift(
        w.event.id,
        w.users.gestionnaire_des_salles.id,
        roomA,
        'gestionnaire_des_salles',
        ago(HOUR),
        fromNow(HOUR),
      );
      const m = await createMember(t, w.event.id);
      const body = { participant_id: m.participant.id, status: 'granted', denial_reason: 'Lost badge' };
      expectError(await manual(w.tokens.gestionnaire_des_salles, { ...body, room_id: roomB }), 403, 'FORBIDDEN');
      assert.equal(await logCount(w.event.id), 0);
      await manual(w.tokens.gestionnaire_des_salles, { ...body, room_id: roomA }).expect(201);
    });
  });

  describe('the access log is append-only', () => {
    it('UPDATE and DELETE run directly in SQL both fail; the row is unchanged', async () => {
      const w = await createWorld(t);
      const roomId = await createRoom(t, w.event.id);
      const body = await scan(w.tokens.organisateur, roomId, { qr_data: 'forged-badge' });
      const before: unknown[] = await t.db.query('SELECT to_jsonb(l) AS row FROM room_access_logs l WHERE id = $1', [
        body.access_id,
      ]);
      await assert.rejects(
        t.db.query(`UPDATE room_access_logs SET status = 'granted' WHERE id = $1`, [body.access_id]),
        /append-only/,
      );
      await assert.rejects(
        t.db.query(`UPDATE room_access_logs SET reason_code = 'OK', status = 'granted' WHERE event_id = $1`, [
          w.event.id,
        ]),
        /append-only/,
      );
      await assert.rejects(t.db.query('DELETE FROM room_access_logs WHERE id = $1', [body.access_id]), /append-only/);
      await assert.rejects(t.db.query('DELETE FROM room_access_logs WHERE event_id = $1', [w.event.id]), /append-only/);
      const after: unknown[] = await t.db.query('SELECT to_jsonb(l) AS row FROM room_access_logs l WHERE id = $1', [
        body.access_id,
      ]);
      assert.deepEqual(after, before);
      assert.equal(after.length, 1);
    });
  });

  describe('the log outlives what it names', () => {
    it('a badge, a session and then the event with scans can be deleted; the log keeps its rows until the event goes', async () => {
      const w = await createWorld(t);
      const roomId = await createRoom(t, w.event.id);
      const sessionId = await createSession(t, w.event.id, roomId, { start: ago(5 * MIN), end: fromNow(HOUR) });
      const m = await createMember(t, w.event.id);
      const stays = await createMember(t, w.event.id);
      const a = await enter(w.tokens.organisateur, roomId, m);
      await leave(w.tokens.organisateur, roomId, m);
      const b = await enter(w.tokens.organisateur, roomId, stays);
      assert.equal((await logRow(a.access_id))?.session_id, sessionId);
      await t.http.delete(`/api/participants/${m.participant.id}/`).set(bearer(w.tokens.organisateur)).expect(204);
      const kept = await logRow(a.access_id);
      assert.equal(kept?.participant_id, null, 'the row stays, without the badge');
      assert.equal(kept?.status, 'granted');
      assert.equal(await logCount(w.event.id), 3);
      await t.http.delete(`/api/sessions/${sessionId}/`).set(bearer(w.tokens.organisateur)).expect(204);
      const afterSession = await t.http
        .get(`/api/room-access/${b.access_id}/`)
        .set(bearer(w.tokens.organisateur))
        .expect(200);
      assert.equal(afterSession.body.session, null, 'a deleted session shows as none');
      assert.equal(afterSession.body.session_title, null);
      assert.equal((await logRow(b.access_id))?.participant_id, stays.participant.id);
      assert.equal(
        await countRows(t, 'attendances', 'session_id = $1', [sessionId]),
        0,
        "the session's attendance went with it",
      );
      const log = await t.http.get(`/api/room-access/${a.access_id}/`).set(bearer(w.tokens.organisateur)).expect(200);
      assert.equal(log.body.participant, null);
      await t.http.delete(`/api/events/${w.event.id}/`).set(bearer(w.tokens.organisateur)).expect(204);
      assert.equal(await logCount(w.event.id), 0);
      assert.equal(await countRows(t, 'rooms', 'id = $1', [roomId]), 0);
    });
  });

  // ---- conflicts ----------------------------------------------------------------------------------------------------

  describe('conflicts (GET room-access/conflicts/)', () => {
    let w: World;
    let other: World;
    let roomId: string;
    let m: Member;

    /** Two devices let the same badge into the same room offline: a double entry. */
    const doubleEntry = async (x: World, room: string, member: Member): Promise<void> => {
      const scanAt = (minutesAgo: number) => ago(minutesAgo * MIN).toISOString();
      for (const [device, minutesAgo] of [
        ['door-1', 5],
        ['door-2', 3],
      ] as const) {
        const res = await t.http
          .post('/api/scans/sync/')
          .set(bearer(x.tokens.controlleur_des_badges))
          .send({
            device_id: device,
            scans: [
              {
                nonce: uniq('s-'),
                qr_data: member.qr,
                room_id: room,
                direction: 'in',
                scanned_at: scanAt(minutesAgo),
                local_decision: 'granted',
              },
            ],
          });
        assert.equal(res.status, 200, res.text);
      }
    };

    before(async () => {
      w = await createWorld(t);
      other = await createWorld(t);
      roomId = await createRoom(t, w.event.id);
      m = await createMember(t, w.event.id);
      await doubleEntry(w, roomId, m);
      await doubleEntry(other, await createRoom(t, other.event.id), await createMember(t, other.event.id));
    });

    for (const role of SUPERVISOR_ROLES) {
      describe(role, () => {
        it("200: the event's conflicts only, each with both scans", async () => {
          const res = await t.http.get('/api/room-access/conflicts/').set(bearer(w.tokens[role])).expect(200);
          assert.deepEqual(Object.keys(res.body).sort(), PAGE_KEYS);
          assert.equal(res.body.count, 1);
          const [c] = res.body.results as {
            id: string;
            kind: string;
            detected_at: string;
            access: LogBody;
            other_access: LogBody | null;
          }[];
          assert.ok(c);
          assert.deepEqual(Object.keys(c).sort(), ['access', 'detected_at', 'id', 'kind', 'other_access']);
          assert.match(c.id, UUID);
          assert.equal(c.kind, 'double_entry');
          assert.match(c.detected_at, ISO_UTC);
          assert.equal(c.access.participant, m.participant.id);
          assert.equal(c.access.room, roomId);
          assert.equal(c.access.device_id, 'door-2', 'the later scan by device time is flagged');
          assert.equal(c.access.source, 'offline');
          assert.equal(c.access.conflict, true);
          assert.equal(c.other_access?.device_id, 'door-1');
          assert.equal(c.other_access?.participant, m.participant.id);
          assert.deepEqual(Object.keys(c.access).sort(), documentedKeys('AccessLogDto'));
          const room = await t.http
            .get('/api/room-access/conflicts/')
            .query({ room: roomId })
            .set(bearer(w.tokens[role]))
            .expect(200);
          assert.equal(room.body.count, 1);
          const none = await t.http
            .get('/api/room-access/conflicts/')
            .query({ kind: 'decision_mismatch' })
            .set(bearer(w.tokens[role]))
            .expect(200);
          assert.equal(none.body.count, 0);
          // The flagged row shows `conflict` in the log as well.
          const log = await t.http
            .get('/api/room-access/')
            .query({ participant: m.participant.id, source: 'offline' })
            .set(bearer(w.tokens[role]))
            .expect(200);
          assert.deepEqual((log.body.results as LogBody[]).map((r) => [r.device_id, r.conflict]).sort(), [
            ['door-1', false],
            ['door-2', true],
          ]);
        });
      });
    }

    for (const role of NON_SUPERVISOR_ROLES) {
      describe(role, () => {
        it('403', async () => {
          expectError(await t.http.get('/api/room-access/conflicts/').set(bearer(w.tokens[role])), 403, 'FORBIDDEN');
        });
      });
    }
  });

  // ---- offline manifest ---------------------------------------------------------------------------------------------

  describe('offline manifest (GET scans/manifest/)', () => {
    let w: World;
    let other: World;
    let roomA: string;
    let roomB: string;
    let atelier: string;
    let free: Member;
    let onlyA: Member;
    let onlyB: Member;
    let rotated: Member;
    let newQr: string;
    let gone: Member;
    let theirs: Member;
    let theirRoom: string;
    let theirOldQr: string;

    interface Manifest {
      generated_at: string;
      rooms: { id: string; name: string; capacity: number; current_participants: number; is_active: boolean }[];
      badges: {
        qr_hash: string;
        participant_id: string;
        badge_id: string;
        full_name: string;
        allowed_rooms: string[];
      }[];
      revoked: string[];
      session_access: { participant_id: string; session_id: string; has_access: boolean }[];
      sessions: { id: string; room_id: string; title: string; is_paid: boolean; status: string }[];
    }

    const manifest = async (token: string): Promise<{ body: Manifest; text: string }> => {
      const res = await t.http.get('/api/scans/manifest/').set(bearer(token));
      assert.equal(res.status, 200, res.text);
      return { body: res.body as Manifest, text: res.text };
    };

    /** No QR text of any badge (old or current) in the answer, whatever the encoding. */
    const assertNoSecrets = (text: string, qrs: string[]): void => {
      for (const qr of qrs) {
        assert.ok(!text.includes(qr), 'no QR text');
        assert.ok(!text.includes(qr.slice(4)), 'no QR secret without its prefix');
      }
    };

    before(async () => {
      w = await createWorld(t);
      other = await createWorld(t);
      roomA = await createRoom(t, w.event.id, { name: uniq('M-A ') });
      roomB = await createRoom(t, w.event.id, { name: uniq('M-B ') });
      atelier = await runningAtelier(w.event.id, roomA);
      free = await createMember(t, w.event.id);
      onlyA = await createMember(t, w.event.id);
      onlyB = await createMember(t, w.event.id);
      rotated = await createMember(t, w.event.id);
      gone = await createMember(t, w.event.id);
      await t.db.query('UPDATE participants SET allowed_rooms = $2 WHERE id = $1', [onlyA.participant.id, [roomA]]);
      await t.db.query('UPDATE participants SET allowed_rooms = $2 WHERE id = $1', [onlyB.participant.id, [roomB]]);
      const res = await t.http
        .post(`/api/participants/${rotated.participant.id}/rotate-qr/`)
        .set(bearer(w.tokens.organisateur))
        .expect(200);
      newQr = res.body.qr_code_data;
      await t.db.query('UPDATE user_event_assignments SET is_active = false WHERE event_id = $1 AND user_id = $2', [
        w.event.id,
        gone.user.id,
      ]);
      forgetCachedSessions(t);
      await addAccess(w.event.id, onlyA.participant.id, atelier, 'paid');
      await addAccess(w.event.id, free.participant.id, atelier, 'pending');
      theirRoom = await createRoom(t, other.event.id);
      theirs = await createMember(t, other.event.id);
      theirOldQr = theirs.qr;
      await t.http
        .post(`/api/participants/${theirs.participant.id}/rotate-qr/`)
        .set(bearer(other.tokens.organisateur))
        .expect(200);
    });

    for (const role of SCANNER_ROLES) {
      describe(role, () => {
        it('every room, the valid badges by hash, revoked hashes, atelier rights, sessions; no QR text', async () => {
          const { body, text } = await manifest(w.tokens[role]);
          for (const key of MANIFEST_KEYS) assert.ok(key in body, key);
          assert.match(body.generated_at, ISO_UTC);
          assert.deepEqual(body.rooms.map((r) => r.id).sort(), [roomA, roomB].sort());
          for (const r of body.rooms) {
            assert.deepEqual(Object.keys(r).sort(), ['capacity', 'current_participants', 'id', 'is_active', 'name']);
          }
          const byParticipant = new Map(body.badges.map((b) => [b.participant_id, b]));
          for (const x of [free, onlyA, onlyB]) {
            const b = byParticipant.get(x.participant.id);
            assert.ok(b, 'valid badge listed');
            assert.match(b.qr_hash, SHA256_HEX);
            assert.equal(b.qr_hash, sha256(x.qr));
            assert.equal(b.badge_id, x.participant.badgeId);
            assert.equal(b.full_name, `${x.user.firstName} ${x.user.lastName}`);
            assert.deepEqual(
              Object.keys(b).sort(),
              ['allowed_rooms', 'badge_id', 'full_name', 'participant_id', 'qr_hash'].sort(),
            );
          }
          assert.deepEqual(byParticipant.get(onlyA.participant.id)?.allowed_rooms, [roomA]);
          assert.deepEqual(byParticipant.get(free.participant.id)?.allowed_rooms, []);
          assert.equal(byParticipant.get(rotated.participant.id)?.qr_hash, sha256(newQr), 'the new QR hash');
          assert.ok(!byParticipant.has(gone.participant.id), 'a removed member is not a valid badge');
          assert.ok(!byParticipant.has(theirs.participant.id), 'no badge of another event');
          assert.ok(body.revoked.includes(sha256(rotated.qr)), 'the rotated QR hash is revoked');
          assert.ok(body.revoked.includes(sha256(gone.qr)), "a removed member's hash is revoked");
          assert.ok(!body.revoked.includes(sha256(newQr)));
          assert.ok(!body.revoked.includes(sha256(theirOldQr)), 'no revoked hash of another event');
          for (const h of body.revoked) assert.match(h, SHA256_HEX);
          assert.deepEqual(
            body.session_access
              .filter((a) => a.session_id === atelier)
              .sort((a, b) => a.participant_id.localeCompare(b.participant_id)),
            [
              { participant_id: onlyA.participant.id, session_id: atelier, has_access: true },
              { participant_id: free.participant.id, session_id: atelier, has_access: false },
            ].sort((a, b) => a.participant_id.localeCompare(b.participant_id)),
          );
          assert.ok(body.sessions.some((s) => s.id === atelier && s.room_id === roomA && s.is_paid));
          assert.ok(!text.includes(theirRoom));
          assertNoSecrets(text, [free.qr, onlyA.qr, onlyB.qr, rotated.qr, newQr, gone.qr, theirs.qr]);
          assert.ok(!/qr_code_data|qr_salt|qr_data/.test(text), 'no QR field of any kind');
        });
      });
    }

    it('a controller with shifts gets the rooms of their shifts only, and the badges allowed there', async () => {
      const c = await createMember(t, w.event.id, 'controlleur_des_badges');
      await addShift(w.event.id, c.user.id, roomA, 'controlleur_des_badges', ago(HOUR), fromNow(HOUR));
      const { body, text } = await manifest(c.token);
      assert.deepEqual(
        body.rooms.map((r) => r.id),
        [roomA],
      );
      const ids = body.badges.map((b) => b.participant_id);
      assert.ok(ids.includes(free.participant.id), 'a badge open everywhere');
      assert.ok(ids.includes(onlyA.participant.id), 'a badge for A');
      assert.ok(!ids.includes(onlyB.participant.id), 'not a badge for B only');
      assert.ok(body.sessions.every((s) => s.room_id === roomA));
      assertNoSecrets(text, [free.qr, onlyA.qr, onlyB.qr, c.qr]);
      // A room manager with a later shift on B gets B (shifts not yet over), not A.
      const g = await createMember(t, w.event.id, 'gestionnaire_des_salles');
      await addShift(w.event.id, g.user.id, roomB, 'gestionnaire_des_salles', fromNow(HOUR), fromNow(2 * HOUR));
      await addShift(w.event.id, g.user.id, roomA, 'gestionnaire_des_salles', ago(3 * HOUR), ago(2 * HOUR));
      const mg = await manifest(g.token);
      assert.deepEqual(
        mg.body.rooms.map((r) => r.id),
        [roomB],
      );
      assert.ok(!mg.body.badges.some((b) => b.participant_id === onlyA.participant.id));
      assert.ok(!mg.body.session_access.some((a) => a.session_id === atelier));
    });

    it('a controller whose shifts are all over: no rooms, hence no badges, rights or sessions', async () => {
      const c = await createMember(t, w.event.id, 'controlleur_des_badges');
      await addShift(w.event.id, c.user.id, roomA, 'controlleur_des_badges', ago(3 * HOUR), ago(HOUR));
      const { body, text } = await manifest(c.token);
      assert.deepEqual(body.rooms, []);
      assert.deepEqual(body.badges, [], 'no badge may enter a room the controller does not have');
      assert.deepEqual(body.session_access, []);
      assert.deepEqual(body.sessions, []);
      assert.ok(!text.includes(free.participant.badgeId));
      // Consistent with the doors: such a controller may scan nowhere.
      expectError(await verify(c.token, roomA, { qr_data: free.qr }), 403, 'FORBIDDEN');
    });

    for (const role of NON_SCANNER_ROLES) {
      describe(role, () => {
        it('403', async () => {
          expectError(await t.http.get('/api/scans/manifest/').set(bearer(w.tokens[role])), 403, 'FORBIDDEN');
        });
      });
    }
  });

  // ---- offline sync: input ------------------------------------------------------------------------------------------

  describe('offline sync input (POST scans/sync/)', () => {
    let w: World;
    let roomId: string;
    let m: Member;
    before(async () => {
      w = await createWorld(t);
      roomId = await createRoom(t, w.event.id, { capacity: 1000 });
      m = await createMember(t, w.event.id);
    });

    const item = (room: string, extra: object = {}) => ({
      nonce: uniq('s-'),
      qr_data: m.qr,
      room_id: room,
      direction: 'in',
      scanned_at: ago(MIN).toISOString(),
      local_decision: 'granted',
      ...extra,
    });
    const sync = (body: object) =>
      t.http.post('/api/scans/sync/').set(bearer(w.tokens.controlleur_des_badges)).send(body);

    it('more than 500 scans, no scans, a malformed scan: 400, nothing stored', async () => {
      const before = await doorState(w.event.id);
      const tooMany = Array.from({ length: 501 }, () => item(roomId));
      expectValidation(await sync({ device_id: 'tablet-1', scans: tooMany }), 'scans');
      expectValidation(await sync({ device_id: 'tablet-1', scans: [] }), 'scans');
      expectValidation(await sync({ device_id: 'tablet-1' }), 'scans');
      expectValidation(await sync({ scans: [item(roomId)] }), 'device_id');
      expectValidation(await sync({ device_id: 'tablet 1', scans: [item(roomId)] }), 'device_id');
      expectValidation(
        await sync({ device_id: 'tablet-1', scans: [item(roomId), item(roomId, { direction: 'sideways' })] }),
        'scans.1.direction',
      );
      expectValidation(
        await sync({ device_id: 'tablet-1', scans: [item(roomId, { scanned_at: '2030-01-01T10:00:00' })] }),
        'scans.0.scanned_at',
      );
      expectValidation(
        await sync({ device_id: 'tablet-1', scans: [item(roomId, { local_decision: 'maybe' })] }),
        'scans.0.local_decision',
      );
      expectValidation(await sync({ device_id: 'tablet-1', scans: [item(roomId, { extra: true })] }), 'scans.0.extra');
      assert.deepEqual(await doorState(w.event.id), before);
      // 500 is the limit, not 499: the same shape of batch at 500 is accepted.
      const limit = await sync({ device_id: 'tablet-1', scans: tooMany.slice(0, 500) });
      assert.equal(limit.status, 200, limit.text);
      assert.equal(limit.body.results.length, 500);
      assert.equal(await logCount(w.event.id), (before as { logs: number }).logs + 500);
    });

    it('a room of another event anywhere in the batch: 400, nothing stored', async () => {
      const other = await createWorld(t);
      const theirRoom = await createRoom(t, other.event.id);
      const mine = await doorState(w.event.id);
      const theirs = await doorState(other.event.id);
      for (const rooms of [[theirRoom], [roomId, theirRoom], [roomId, UNKNOWN_ID]]) {
        expectValidation(await sync({ device_id: 'tablet-2', scans: rooms.map((r) => item(r)) }), 'scans.room_id');
      }
      assert.deepEqual(await doorState(w.event.id), mine);
      assert.deepEqual(await doorState(other.event.id), theirs);
    });

    for (const role of NON_SCANNER_ROLES) {
      it(`${role}: 403, nothing stored`, async () => {
        const before = await doorState(w.event.id);
        expectError(
          await t.http
            .post('/api/scans/sync/')
            .set(bearer(w.tokens[role]))
            .send({ device_id: 'x', scans: [item(roomId)] }),
          403,
          'FORBIDDEN',
        );
        assert.deepEqual(await doorState(w.event.id), before);
      });
    }
  });

  // ---- statistics ---------------------------------------------------------------------------------------------------

  describe('door statistics', () => {
    let w: World;
    let roomA: string;
    let roomB: string;
    let inside: Member[];
    let left: Member;
    /** UTC hours of the first and last scans made in `before`. */
    let firstHour: number;
    let lastHour: number;

    before(async () => {
      w = await createWorld(t);
      roomA = await createRoom(t, w.event.id, { name: uniq('Stats A '), capacity: 10 });
      roomB = await createRoom(t, w.event.id, { name: uniq('Stats B '), capacity: 10 });
      const c = w.tokens.controlleur_des_badges;
      inside = [
        await createMember(t, w.event.id, 'participant', { firstName: 'Ada', lastName: 'Aaa' }),
        await createMember(t, w.event.id, 'participant', { firstName: 'Bea', lastName: 'Bbb' }),
        await createMember(t, w.event.id, 'participant', { firstName: 'Cy', lastName: 'Ccc' }),
      ];
      left = await createMember(t, w.event.id);
      const first = await enter(c, roomA, inside[0] as Member);
      firstHour = new Date(first.scanned_at).getUTCHours();
      await enter(c, roomA, inside[1] as Member);
      await enter(c, roomA, inside[1] as Member); // a duplicate: not an entry
      await enter(c, roomA, left);
      await leave(c, roomA, left);
      await leave(c, roomA, left); // not inside: not an exit
      await scan(c, roomA, { qr_data: 'forged-1' });
      await scan(c, roomA, { qr_data: 'forged-2' });
      await t.db.query('UPDATE participants SET allowed_rooms = $2 WHERE id = $1', [left.participant.id, [roomB]]);
      await enter(c, roomA, left); // ROOM_NOT_ALLOWED
      // The room manager lets the third in: not the controller's scan.
      await enter(w.tokens.gestionnaire_des_salles, roomA, inside[2] as Member);
      await enter(c, roomB, left);
      const last = await entered(await entrance(c, { qr_data: (inside[0] as Member).qr }));
      lastHour = new Date(last.scanned_at).getUTCHours();
    });

    it('GET rooms/{id}/statistics/: entries, exits, denied, by_reason, 24 by_hour slots (staff roles)', async () => {
      for (const role of SCANNER_ROLES) {
        const res = await t.http.get(`/api/rooms/${roomA}/statistics/`).set(bearer(w.tokens[role])).expect(200);
        assert.deepEqual(Object.keys(res.body).sort(), ROOM_STATS_KEYS);
        assert.equal(res.body.current_participants, 3);
        assert.equal(res.body.capacity, 10);
        assert.equal(res.body.entries_today, 4);
        assert.equal(res.body.exits_today, 1);
        assert.equal(res.body.denied_today, 3);
        assert.deepEqual(res.body.by_reason, { BADGE_UNKNOWN: 2, ROOM_NOT_ALLOWED: 1 });
        assert.equal(res.body.by_hour.length, 24);
        (res.body.by_hour as { hour: number }[]).forEach((slot, i) => {
          assert.deepEqual(Object.keys(slot).sort(), ['denied', 'entries', 'exits', 'hour']);
          assert.equal(slot.hour, i);
        });
        const slots = res.body.by_hour as { hour: number; entries: number; exits: number; denied: number }[];
        const total = (k: 'entries' | 'exits' | 'denied') => slots.reduce((n, slot) => n + slot[k], 0);
        assert.deepEqual([total('entries'), total('exits'), total('denied')], [4, 1, 3]);
        if (firstHour === lastHour)
          assert.deepEqual(slots[firstHour], { hour: firstHour, entries: 4, exits: 1, denied: 3 });
        for (const slot of slots.filter((x) => x.hour !== firstHour && x.hour !== lastHour)) {
          assert.deepEqual([slot.entries, slot.exits, slot.denied], [0, 0, 0], 'scans only in the hour they happened');
        }
        const b = await t.http.get(`/api/rooms/${roomB}/statistics`).set(bearer(w.tokens[role])).expect(200);
        assert.equal(b.body.entries_today, 1);
        assert.equal(b.body.denied_today, 0);
        assert.deepEqual(b.body.by_reason, {});
      }
      const other = await createWorld(t);
      expectError(
        await t.http.get(`/api/rooms/${roomA}/statistics/`).set(bearer(other.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
      for (const role of NON_SCANNER_ROLES) {
        expectError(await t.http.get(`/api/rooms/${roomA}/statistics/`).set(bearer(w.tokens[role])), 403, 'FORBIDDEN');
      }
    });

    it('GET rooms/{id}/participants/: exactly the people inside now, paginated (staff roles)', async () => {
      for (const role of SCANNER_ROLES) {
        const res = await t.http.get(`/api/rooms/${roomA}/participants/`).set(bearer(w.tokens[role])).expect(200);
        assert.deepEqual(Object.keys(res.body).sort(), PAGE_KEYS);
        assert.equal(res.body.count, 3);
        assert.deepEqual(pageIds(res).sort(), inside.map((x) => x.participant.id).sort());
        for (const p of res.body.results as Record<string, unknown>[]) {
          assert.deepEqual(Object.keys(p).sort(), documentedKeys('RoomPersonDto'));
          assert.ok(!JSON.stringify(p).includes('MP1.'), 'no QR text');
        }
        const ada = (
          res.body.results as { id: string; full_name: string; badge_id: string; entered_at: string }[]
        ).find((p) => p.id === inside[0]?.participant.id);
        assert.equal(ada?.full_name, 'Ada Aaa');
        assert.equal(ada?.badge_id, inside[0]?.participant.badgeId);
        assert.match(String(ada?.entered_at), ISO_UTC);
        const page1 = await t.http
          .get(`/api/rooms/${roomA}/participants/`)
          .query({ page_size: 2 })
          .set(bearer(w.tokens[role]))
          .expect(200);
        assert.equal(page1.body.count, 3);
        assert.equal(page1.body.results.length, 2);
        assert.ok(page1.body.next);
        const page2 = await t.http
          .get(`/api/rooms/${roomA}/participants/`)
          .query({ page_size: 2, page: 2 })
          .set(bearer(w.tokens[role]))
          .expect(200);
        assert.equal(page2.body.results.length, 1);
        assert.equal(page2.body.next, null);
        assert.deepEqual([...pageIds(page1), ...pageIds(page2)].sort(), pageIds(res).sort());
        const b = await t.http.get(`/api/rooms/${roomB}/participants/`).set(bearer(w.tokens[role])).expect(200);
        assert.deepEqual(pageIds(b), [left.participant.id]);
      }
      const other = await createWorld(t);
      expectError(
        await t.http.get(`/api/rooms/${roomA}/participants/`).set(bearer(other.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
      for (const role of NON_SCANNER_ROLES) {
        expectError(
          await t.http.get(`/api/rooms/${roomA}/participants/`).set(bearer(w.tokens[role])),
          403,
          'FORBIDDEN',
        );
      }
    });

    it('GET controller/room-stats/ and my-room/statistics/: the same body, the caller’s own scans today', async () => {
      const c = w.tokens.controlleur_des_badges;
      const res = await t.http.get('/api/controller/room-stats/').set(bearer(c)).expect(200);
      const alias = await t.http.get('/api/my-room/statistics/').set(bearer(c)).expect(200);
      assert.deepEqual(alias.body, res.body);
      assert.deepEqual(Object.keys(res.body).sort(), documentedKeys('ControllerStatsDto'));
      assert.equal(res.body.date, new Date().toISOString().slice(0, 10));
      // The controller's own: in A 3 entries, a repeat and 2 exits granted, 3 denied; in B 1; at the entrance 1.
      assert.equal(res.body.granted_today, 8);
      assert.equal(res.body.denied_today, 3);
      assert.equal(res.body.scans_today, 11);
      const byRoom = new Map(
        (res.body.by_room as { room: string | null; granted: number; denied: number }[]).map((r) => [r.room, r]),
      );
      assert.equal(byRoom.size, 3);
      assert.deepEqual(
        { ...byRoom.get(roomA), room_name: undefined },
        {
          room: roomA,
          room_name: undefined,
          granted: 6,
          denied: 3,
        },
      );
      assert.equal(byRoom.get(roomB)?.granted, 1);
      assert.equal(byRoom.get(null)?.granted, 1, 'the entrance check-in');
      assert.equal(res.body.recent.length, 10);
      for (const r of res.body.recent as LogBody[]) assert.equal(r.verified_by, w.users.controlleur_des_badges.id);
      // The room manager's figures are theirs only.
      const g = await t.http.get('/api/my-room/statistics').set(bearer(w.tokens.gestionnaire_des_salles)).expect(200);
      assert.equal(g.body.scans_today, 1);
      assert.equal(g.body.granted_today, 1);
      const o = await t.http.get('/api/controller/room-stats').set(bearer(w.tokens.organisateur)).expect(200);
      assert.equal(o.body.scans_today, 0);
      assert.deepEqual(o.body.by_room, []);
      assert.deepEqual(o.body.recent, []);
      for (const role of NON_SCANNER_ROLES) {
        expectError(await t.http.get('/api/controller/room-stats/').set(bearer(w.tokens[role])), 403, 'FORBIDDEN');
        expectError(await t.http.get('/api/my-room/statistics/').set(bearer(w.tokens[role])), 403, 'FORBIDDEN');
      }
    });

    it('GET events/{id}/statistics/: scans_today and denied_today follow the scans', async () => {
      const x = await createWorld(t);
      const roomId = await createRoom(t, x.event.id);
      const m = await createMember(t, x.event.id);
      const stats = async (role: EventRole) => {
        const res = await t.http.get(`/api/events/${x.event.id}/statistics/`).set(bearer(x.tokens[role])).expect(200);
        assert.deepEqual(Object.keys(res.body).sort(), EVENT_STATS_KEYS);
        return res.body as Record<string, number>;
      };
      for (const role of SUPERVISOR_ROLES) {
        const s = await stats(role);
        assert.equal(s.scans_today, 0);
        assert.equal(s.denied_today, 0);
      }
      await enter(x.tokens.controlleur_des_badges, roomId, m);
      await scan(x.tokens.controlleur_des_badges, roomId, { qr_data: 'forged' });
      await scan(x.tokens.controlleur_des_badges, roomId, { qr_data: 'forged', device_id: 'd', nonce: 'n' });
      await scan(x.tokens.controlleur_des_badges, roomId, { qr_data: 'forged', device_id: 'd', nonce: 'n' }); // replay
      for (const role of SUPERVISOR_ROLES) {
        const s = await stats(role);
        assert.equal(s.scans_today, 3);
        assert.equal(s.denied_today, 2);
        assert.equal(s.checked_in_count, 1);
        assert.equal(s.current_occupancy, 1);
      }
      // Another event's scans do not count here.
      const y = await createWorld(t);
      await scan(y.tokens.organisateur, await createRoom(t, y.event.id), { qr_data: 'forged' });
      assert.equal((await stats('organisateur')).scans_today, 3);
      expectError(
        await t.http.get(`/api/events/${y.event.id}/statistics/`).set(bearer(x.tokens.organisateur)),
        404,
        'NOT_FOUND',
      );
      for (const role of NON_SUPERVISOR_ROLES) {
        expectError(
          await t.http.get(`/api/events/${x.event.id}/statistics/`).set(bearer(x.tokens[role])),
          403,
          'FORBIDDEN',
        );
      }
    });
  });

  // ---- deleting a room ----------------------------------------------------------------------------------------------

  describe('deleting a room', () => {
    it('a room that has scans: 409 ROOM_HAS_SCANS, the room and its log stay; one without scans goes', async () => {
      const w = await createWorld(t);
      const scanned = await createRoom(t, w.event.id);
      const deniedOnly = await createRoom(t, w.event.id);
      const untouched = await createRoom(t, w.event.id);
      const m = await createMember(t, w.event.id);
      await enter(w.tokens.organisateur, scanned, m);
      await leave(w.tokens.organisateur, scanned, m);
      await scan(w.tokens.organisateur, deniedOnly, { qr_data: 'forged' });
      for (const roomId of [scanned, deniedOnly]) {
        const logs = await logCount(w.event.id);
        expectError(
          await t.http.delete(`/api/rooms/${roomId}/`).set(bearer(w.tokens.organisateur)),
          409,
          'ROOM_HAS_SCANS',
        );
        assert.equal(await countRows(t, 'rooms', 'id = $1', [roomId]), 1);
        assert.equal(await logCount(w.event.id), logs);
      }
      await t.http.delete(`/api/rooms/${untouched}/`).set(bearer(w.tokens.organisateur)).expect(204);
      assert.equal(await countRows(t, 'rooms', 'id = $1', [untouched]), 0);
    });
  });
});
