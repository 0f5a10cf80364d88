import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Response, Test } from 'supertest';
import { EVENT_ROLES, type EventRole } from '../src/common/auth/event-role';
import { BadgeIssuer } from '../src/modules/participants/badge-issuer';
import {
  assign,
  bearer,
  countRows,
  createMember,
  createRoom,
  createSession,
  createUser,
  createWorld,
  issueBadge,
  openSession,
  uniq,
  type World,
} from './helpers/factories';
import { expectError, expectValidation } from './helpers/assertions';
import { binary, fire, tally } from './helpers/requests';
import { bootTestApp, type TestApp } from './helpers/test-app';

const PARTICIPANT_KEYS = [
  'id',
  'user',
  'user_name',
  'user_email',
  'event',
  'badge_id',
  'is_checked_in',
  'checked_in_at',
  'allowed_rooms',
  'plan_file',
  'role',
  'share_contact_with_exhibitors',
  'created_at',
  'updated_at',
].sort();
const WITH_QR_KEYS = [...PARTICIPANT_KEYS, 'qr_code_data'].sort();
const UNKNOWN_ID = '6f1c1c2e-1111-4111-8111-111111111111';
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NON_ORGANIZER_ROLES = EVENT_ROLES.filter((r) => r !== 'organisateur');

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG = Buffer.concat([PNG_MAGIC, Buffer.from('0000000d49484452000000010000000108060000001f15c489', 'hex')]);
const CSV_HEADER = 'email,first_name,last_name,role';
const IMPORT_TIMEOUT_MS = 30_000;

type Body = Record<string, unknown>;
type Badge = Body & { id: string; qr_code_data?: string };

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** Exactly the documented keys, with the documented types; `qr_code_data` only when `withQr`. */
function assertBadgeShape(body: Body, withQr: boolean): void {
  assert.deepEqual(Object.keys(body).sort(), withQr ? WITH_QR_KEYS : PARTICIPANT_KEYS, JSON.stringify(body));
  assert.match(String(body.id), UUID);
  assert.match(String(body.user), UUID);
  assert.match(String(body.event), UUID);
  assert.equal(typeof body.user_name, 'string');
  assert.equal(typeof body.user_email, 'string');
  assert.ok(typeof body.badge_id === 'string' && body.badge_id.length > 0, 'badge_id');
  assert.equal(typeof body.is_checked_in, 'boolean');
  if (body.checked_in_at !== null) assert.match(String(body.checked_in_at), ISO_UTC);
  assert.ok(Array.isArray(body.allowed_rooms), 'allowed_rooms is an array');
  assert.ok(body.plan_file === null || typeof body.plan_file === 'string');
  assert.ok(EVENT_ROLES.includes(body.role as EventRole), `role ${String(body.role)}`);
  assert.match(String(body.created_at), ISO_UTC);
  assert.match(String(body.updated_at), ISO_UTC);
  if (withQr) {
    // At least 128 bits of randomness: no shorter string can carry them.
    assert.ok(typeof body.qr_code_data === 'string' && body.qr_code_data.length >= 22, 'qr_code_data');
  }
}

function csv(lines: string[]): Buffer {
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

describe('participants', () => {
  let t: TestApp;
  let uploadDir: string;

  before(async () => {
    uploadDir = mkdtempSync(join(tmpdir(), 'makeplus-participants-'));
    t = await bootTestApp({ UPLOAD_DIR: uploadDir });
  });
  after(async () => {
    await t.close();
    rmSync(uploadDir, { recursive: true, force: true });
  });

  const issuer = (): BadgeIssuer => t.app.get(BadgeIssuer, { strict: false });

  /** Badges, memberships and revoked QR hashes of an event, for "nothing changed" assertions. */
  const snapshot = async (eventId: string): Promise<unknown> => {
    const rows: { state: unknown }[] = await t.db.query(
      `SELECT jsonb_build_object(
         'participants', (SELECT coalesce(jsonb_agg(to_jsonb(p) ORDER BY p.id), '[]') FROM participants p
                           WHERE p.event_id = $1),
         'assignments', (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.id), '[]') FROM user_event_assignments a
                          WHERE a.event_id = $1),
         'revoked', (SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.id), '[]') FROM revoked_qr_codes r
                      WHERE r.event_id = $1)) AS state`,
      [eventId],
    );
    return rows[0]?.state;
  };

  const stored = async (participantId: string): Promise<{ qr_hash: string; qr_salt: string } | undefined> => {
    const rows: { qr_hash: string; qr_salt: string }[] = await t.db.query(
      'SELECT qr_hash, qr_salt FROM participants WHERE id = $1',
      [participantId],
    );
    return rows[0];
  };

  const badgeOfUser = async (eventId: string, userId: string): Promise<string | null> => {
    const rows: { id: string }[] = await t.db.query(
      'SELECT id FROM participants WHERE event_id = $1 AND user_id = $2',
      [eventId, userId],
    );
    return rows[0]?.id ?? null;
  };

  const roleOf = async (eventId: string, userId: string): Promise<string | null> => {
    const rows: { role: string }[] = await t.db.query(
      'SELECT role FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
      [eventId, userId],
    );
    return rows[0]?.role ?? null;
  };

  const get = (path: string, token: string): Test => t.http.get(path).set(bearer(token));
  const image = (id: string, format: 'png' | 'svg', token: string): Test =>
    t.http.get(`/api/participants/${id}/badge.${format}`).set(bearer(token)).buffer(true).parse(binary);
  const planOf = (id: string, token: string): Test =>
    t.http.get(`/api/participants/${id}/plan/`).set(bearer(token)).buffer(true).parse(binary);
  const uploadPlan = (id: string, token: string, file: Buffer, name = 'plan.pdf'): Test =>
    t.http.put(`/api/participants/${id}/plan/`).set(bearer(token)).attach('file', file, name);
  /** An import; one that is never answered (a refused upload left unread) fails here instead of stalling the file. */
  const importCsv = (token: string, file: Buffer): Test =>
    t.http
      .post('/api/participants/import/')
      .set(bearer(token))
      .attach('file', file, 'people.csv')
      .timeout(IMPORT_TIMEOUT_MS);
  const planFiles = (eventId: string): string[] => {
    try {
      return readdirSync(join(uploadDir, 'events', eventId)).sort();
    } catch {
      return [];
    }
  };

  describe('organisateur', () => {
    let w: World;
    let org: string;
    before(async () => {
      w = await createWorld(t);
      org = w.tokens.organisateur;
    });

    it('POST by user_id: 201 with the documented keys, a badge, qr_code_data whose SHA-256 is stored, no-store', async () => {
      const user = await createUser(t, { firstName: 'Amel', lastName: 'Bensaid' });
      const res = await t.http.post('/api/participants/').set(bearer(org)).send({ user_id: user.id });
      assert.equal(res.status, 201, res.text);
      assertBadgeShape(res.body, true);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.deepEqual(
        {
          user: res.body.user,
          user_name: res.body.user_name,
          user_email: res.body.user_email,
          event: res.body.event,
          role: res.body.role,
          is_checked_in: res.body.is_checked_in,
          checked_in_at: res.body.checked_in_at,
          allowed_rooms: res.body.allowed_rooms,
          plan_file: res.body.plan_file,
        },
        {
          user: user.id,
          user_name: 'Amel Bensaid',
          user_email: user.email,
          event: w.event.id,
          role: 'participant',
          is_checked_in: false,
          checked_in_at: null,
          allowed_rooms: [],
          plan_file: null,
        },
      );
      const row = await stored(res.body.id);
      assert.equal(row?.qr_hash, sha256(res.body.qr_code_data));
      const raw: { row: string }[] = await t.db.query(
        'SELECT to_jsonb(p)::text AS row FROM participants p WHERE id = $1',
        [res.body.id],
      );
      assert.ok(!raw[0]?.row.includes(res.body.qr_code_data), 'the QR text itself is not stored');
      assert.equal(await roleOf(w.event.id, user.id), 'participant');
      assert.equal(await badgeOfUser(w.event.id, user.id), res.body.id);
    });

    it('POST by a new email: password-less account, role participant by default, badge; 201', async () => {
      const email = `${uniq('new')}@Example.TEST`;
      const res = await t.http
        .post('/api/participants')
        .set(bearer(org))
        .send({ email, first_name: ' Nadia ', last_name: 'Ouali' });
      assert.equal(res.status, 201, res.text);
      assertBadgeShape(res.body, true);
      assert.equal(res.body.user_email, email.toLowerCase());
      assert.equal(res.body.user_name, 'Nadia Ouali');
      assert.equal(res.body.role, 'participant');
      const users: { id: string; password_hash: string | null }[] = await t.db.query(
        'SELECT id, password_hash FROM users WHERE email = $1',
        [email.toLowerCase()],
      );
      assert.deepEqual(users, [{ id: res.body.user, password_hash: null }]);
      assert.equal(await roleOf(w.event.id, res.body.user), 'participant');
      assert.equal(await badgeOfUser(w.event.id, res.body.user), res.body.id);
    });

    it('POST by a new email with a role and allowed_rooms of the event: both applied', async () => {
      const room = await createRoom(t, w.event.id);
      const email = `${uniq('expo')}@example.test`;
      const res = await t.http
        .post('/api/participants/')
        .set(bearer(org))
        .send({ email, role: 'exposant', allowed_rooms: [room.toUpperCase()] });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.role, 'exposant');
      assert.deepEqual(res.body.allowed_rooms, [room]);
      assert.equal(await roleOf(w.event.id, res.body.user), 'exposant');
    });

    it('POST for a staff member without badge: badge with their role; another role → 409 ROLE_MISMATCH', async () => {
      const controller = await createUser(t);
      await assign(t, w.event.id, controller.id, 'controlleur_des_badges');
      const before = await snapshot(w.event.id);
      for (const role of ['participant', 'exposant', 'organisateur']) {
        expectError(
          await t.http.post('/api/participants/').set(bearer(org)).send({ user_id: controller.id, role }),
          409,
          'ROLE_MISMATCH',
        );
        expectError(
          await t.http
            .post('/api/participants/')
            .set(bearer(org))
            .send({ email: controller.email.toUpperCase(), role }),
          409,
          'ROLE_MISMATCH',
        );
      }
      assert.deepEqual(await snapshot(w.event.id), before);
      assert.equal(await badgeOfUser(w.event.id, controller.id), null);

      const res = await t.http
        .post('/api/participants/')
        .set(bearer(org))
        .send({ user_id: controller.id, role: 'controlleur_des_badges' });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.role, 'controlleur_des_badges');
      assert.equal(await roleOf(w.event.id, controller.id), 'controlleur_des_badges');

      const manager = await createUser(t);
      await assign(t, w.event.id, manager.id, 'gestionnaire_des_salles');
      const implicit = await t.http.post('/api/participants/').set(bearer(org)).send({ user_id: manager.id });
      assert.equal(implicit.status, 201, implicit.text);
      assert.equal(implicit.body.role, 'gestionnaire_des_salles');
    });

    it('a second badge for the same user: 409 PARTICIPANT_EXISTS, by user_id or email in any case, nothing written', async () => {
      const member = await createMember(t, w.event.id, 'participant');
      const before = await snapshot(w.event.id);
      for (const body of [
        { user_id: member.user.id },
        { user_id: member.user.id, role: 'participant' },
        { email: member.user.email },
        { email: member.user.email.toUpperCase(), first_name: 'Other', last_name: 'Name' },
      ]) {
        expectError(await t.http.post('/api/participants/').set(bearer(org)).send(body), 409, 'PARTICIPANT_EXISTS');
      }
      assert.deepEqual(await snapshot(w.event.id), before);
      const names: { first_name: string }[] = await t.db.query('SELECT first_name FROM users WHERE id = $1', [
        member.user.id,
      ]);
      assert.notEqual(names[0]?.first_name, 'Other');
    });

    it('allowed_rooms naming a room of another event, an unknown room or the same room twice: 400, nothing written', async () => {
      const other = await createWorld(t);
      const foreign = await createRoom(t, other.event.id);
      const mine = await createRoom(t, w.event.id);
      const member = await createMember(t, w.event.id);
      const email = `${uniq('rooms')}@example.test`;
      const before = await snapshot(w.event.id);
      const otherBefore = await snapshot(other.event.id);
      for (const rooms of [[foreign], [mine, foreign], [UNKNOWN_ID], [mine, mine.toUpperCase()]]) {
        expectValidation(
          await t.http.post('/api/participants/').set(bearer(org)).send({ email, allowed_rooms: rooms }),
          'allowed_rooms',
        );
        expectValidation(
          await t.http
            .patch(`/api/participants/${member.participant.id}/`)
            .set(bearer(org))
            .send({ allowed_rooms: rooms }),
          'allowed_rooms',
        );
        expectValidation(
          await t.http
            .put(`/api/participants/${member.participant.id}/`)
            .set(bearer(org))
            .send({ role: 'exposant', allowed_rooms: rooms }),
          'allowed_rooms',
        );
      }
      assert.deepEqual(await snapshot(w.event.id), before);
      assert.deepEqual(await snapshot(other.event.id), otherBefore);
      assert.equal(await countRows(t, 'users', 'email = $1', [email]), 0, 'no account created for a refused badge');
    });

    it('POST for an unknown user_id: 404, nothing written', async () => {
      const before = await snapshot(w.event.id);
      expectError(
        await t.http.post('/api/participants/').set(bearer(org)).send({ user_id: UNKNOWN_ID }),
        404,
        'NOT_FOUND',
      );
      assert.deepEqual(await snapshot(w.event.id), before);
    });

    it('GET /{id}: the documented keys with qr_code_data, no-store; malformed id 400; unknown id 404', async () => {
      const member = await createMember(t, w.event.id, 'exposant', { firstName: 'Yanis', lastName: 'Meziane' });
      for (const path of [
        `/api/participants/${member.participant.id}/`,
        `/api/participants/${member.participant.id}`,
      ]) {
        const res = await get(path, org).expect(200);
        assertBadgeShape(res.body, true);
        assert.equal(res.headers['cache-control'], 'no-store');
        assert.equal(res.body.id, member.participant.id);
        assert.equal(res.body.qr_code_data, member.qr);
        assert.equal(res.body.user_name, 'Yanis Meziane');
        assert.equal(res.body.role, 'exposant');
        assert.equal(res.body.badge_id, member.participant.badgeId);
      }
      expectValidation(await get('/api/participants/42/', org), 'id');
      expectValidation(await get(`/api/participants/${UNKNOWN_ID}x/`, org), 'id');
      expectError(await get(`/api/participants/${UNKNOWN_ID}/`, org), 404, 'NOT_FOUND');
    });

    it('GET / lists the event’s badges in the page envelope, never with qr_code_data; filters and search work', async () => {
      const fresh = await createWorld(t);
      const token = fresh.tokens.organisateur;
      const a = await createMember(t, fresh.event.id, 'participant', { firstName: 'Zoubida', lastName: 'Alpha' });
      const b = await createMember(t, fresh.event.id, 'exposant', { firstName: 'Mourad', lastName: 'Beta' });
      const c = await createMember(t, fresh.event.id, 'participant', { firstName: 'Sara', lastName: 'Gamma' });
      await t.db.query('UPDATE participants SET is_checked_in = true, checked_in_at = now() WHERE id = $1', [
        c.participant.id,
      ]);
      const other = await createWorld(t);
      await createMember(t, other.event.id, 'participant', { firstName: 'Zoubida', lastName: 'Alpha' });

      const list = async (query: Record<string, string | number> = {}) => {
        const res = await get('/api/participants/', token).query(query).expect(200);
        assert.deepEqual(Object.keys(res.body).sort(), ['count', 'next', 'previous', 'results']);
        for (const p of res.body.results as Body[]) {
          assertBadgeShape(p, false);
          assert.equal(p.event, fresh.event.id);
        }
        return res.body as { count: number; results: Badge[] };
      };
      const ids = (page: { results: Badge[] }) => page.results.map((p) => p.id).sort();

      const all = await list();
      assert.equal(all.count, 3);
      assert.deepEqual(ids(all), [a.participant.id, b.participant.id, c.participant.id].sort());
      assert.equal((await get('/api/participants', token).expect(200)).body.count, 3);
      assert.deepEqual(ids(await list({ role: 'exposant' })), [b.participant.id]);
      assert.deepEqual(ids(await list({ is_checked_in: 'true' })), [c.participant.id]);
      assert.equal((await list({ is_checked_in: 'false' })).count, 2);
      assert.deepEqual(ids(await list({ search: 'zoubida alpha' })), [a.participant.id]);
      assert.deepEqual(ids(await list({ search: b.user.email.toUpperCase() })), [b.participant.id]);
      assert.deepEqual(ids(await list({ search: c.participant.badgeId.toLowerCase() })), [c.participant.id]);
      assert.equal((await list({ search: '%' })).count, 0);
      const ordered = await list({ ordering: '-last_name' });
      assert.deepEqual(
        ordered.results.map((p) => p.id),
        [c.participant.id, b.participant.id, a.participant.id],
      );
      for (const query of [{ role: 'admin' }, { is_checked_in: 'maybe' }, { ordering: 'qr_hash' }, { event: 'x' }]) {
        expectValidation(await get('/api/participants/', token).query(query), ...Object.keys(query));
      }
      expectValidation(await get('/api/participants/', token).query({ event: other.event.id }), 'event');
    });

    it('PATCH changes allowed_rooms and role; PUT does the same; {} changes nothing; no-store', async () => {
      const member = await createMember(t, w.event.id);
      const room1 = await createRoom(t, w.event.id);
      const room2 = await createRoom(t, w.event.id);
      const id = member.participant.id;
      const patched = await t.http
        .patch(`/api/participants/${id}/`)
        .set(bearer(org))
        .send({ allowed_rooms: [room1, room2] });
      assert.equal(patched.status, 200, patched.text);
      assertBadgeShape(patched.body, true);
      assert.equal(patched.headers['cache-control'], 'no-store');
      assert.deepEqual([...patched.body.allowed_rooms].sort(), [room1, room2].sort());
      assert.ok(new Date(patched.body.updated_at) >= new Date(member.participant.updatedAt));

      const same = await t.http.patch(`/api/participants/${id}`).set(bearer(org)).send({}).expect(200);
      assert.deepEqual(same.body, patched.body);

      const role = await t.http.patch(`/api/participants/${id}/`).set(bearer(org)).send({ role: 'exposant' });
      assert.equal(role.status, 200, role.text);
      assert.equal(role.body.role, 'exposant');
      assert.equal(await roleOf(w.event.id, member.user.id), 'exposant');
      assert.equal(role.body.qr_code_data, member.qr, 'a role change keeps the QR');

      const put = await t.http
        .put(`/api/participants/${id}/`)
        .set(bearer(org))
        .send({ role: 'participant', allowed_rooms: [] });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.headers['cache-control'], 'no-store');
      assert.equal(put.body.role, 'participant');
      assert.deepEqual(put.body.allowed_rooms, []);
      const rows: { allowed_rooms: string[] }[] = await t.db.query(
        'SELECT allowed_rooms FROM participants WHERE id = $1',
        [id],
      );
      assert.deepEqual(rows[0]?.allowed_rooms, []);
    });

    it('PATCH of one’s own role through the badge: 403 OWN_ROLE_CHANGE, nothing changes', async () => {
      const own = await issueBadge(t, w.event.id, w.users.organisateur.id);
      const before = await snapshot(w.event.id);
      for (const method of ['patch', 'put'] as const) {
        expectError(
          await t.http[method](`/api/participants/${own.participant.id}/`)
            .set(bearer(org))
            .send({ role: 'participant' }),
          403,
          'OWN_ROLE_CHANGE',
        );
      }
      assert.deepEqual(await snapshot(w.event.id), before);
    });

    it('DELETE a participant’s badge: the membership goes too; a staff member’s badge: the membership stays', async () => {
      const member = await createMember(t, w.event.id, 'participant');
      const expo = await createMember(t, w.event.id, 'exposant');
      const staff = await createMember(t, w.event.id, 'gestionnaire_des_salles');
      for (const m of [member, expo]) {
        const res = await t.http.delete(`/api/participants/${m.participant.id}/`).set(bearer(org)).expect(204);
        assert.equal(res.text, '');
        assert.equal(await badgeOfUser(w.event.id, m.user.id), null);
        assert.equal(await roleOf(w.event.id, m.user.id), null, 'left the event with the badge');
        assert.equal(await countRows(t, 'users', 'id = $1', [m.user.id]), 1, 'the account stays');
      }
      await t.http.delete(`/api/participants/${staff.participant.id}`).set(bearer(org)).expect(204);
      assert.equal(await badgeOfUser(w.event.id, staff.user.id), null);
      assert.equal(await roleOf(w.event.id, staff.user.id), 'gestionnaire_des_salles');
      // The staff member still works in the event with the same token.
      await get('/api/participants/', staff.token).expect(200);

      for (const m of [member, staff]) {
        expectError(await get(`/api/participants/${m.participant.id}/`, org), 404, 'NOT_FOUND');
        expectError(await t.http.delete(`/api/participants/${m.participant.id}/`).set(bearer(org)), 404, 'NOT_FOUND');
      }
      expectValidation(await t.http.delete('/api/participants/nope/').set(bearer(org)), 'id');
      expectError(await t.http.delete(`/api/participants/${UNKNOWN_ID}/`).set(bearer(org)), 404, 'NOT_FOUND');
    });

    it('rotate-qr: new qr_code_data, the old hash revoked, the new hash stored, the owner sees the new one', async () => {
      const member = await createMember(t, w.event.id);
      const oldHash = sha256(member.qr);
      assert.equal((await stored(member.participant.id))?.qr_hash, oldHash);
      const res = await t.http.post(`/api/participants/${member.participant.id}/rotate-qr/`).set(bearer(org));
      assert.equal(res.status, 200, res.text);
      assertBadgeShape(res.body, true);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.notEqual(res.body.qr_code_data, member.qr);
      assert.equal(res.body.badge_id, member.participant.badgeId, 'the printed badge id stays');
      const revoked: { qr_hash: string; participant_id: string }[] = await t.db.query(
        'SELECT qr_hash, participant_id FROM revoked_qr_codes WHERE event_id = $1 AND participant_id = $2',
        [w.event.id, member.participant.id],
      );
      assert.deepEqual(revoked, [{ qr_hash: oldHash, participant_id: member.participant.id }]);
      assert.equal((await stored(member.participant.id))?.qr_hash, sha256(res.body.qr_code_data));
      const me = await get('/api/participants/me/', member.token).expect(200);
      assert.equal(me.body.qr_code_data, res.body.qr_code_data);

      const again = await t.http.post(`/api/participants/${member.participant.id}/rotate-qr`).set(bearer(org));
      assert.equal(again.status, 200, again.text);
      assert.notEqual(again.body.qr_code_data, res.body.qr_code_data);
      assert.equal(await countRows(t, 'revoked_qr_codes', 'participant_id = $1', [member.participant.id]), 2);

      expectValidation(await t.http.post('/api/participants/x/rotate-qr/').set(bearer(org)), 'id');
      expectError(await t.http.post(`/api/participants/${UNKNOWN_ID}/rotate-qr/`).set(bearer(org)), 404, 'NOT_FOUND');
    });

    it('badge.png is a PNG and badge.svg an SVG, both no-store; they change with the QR', async () => {
      const member = await createMember(t, w.event.id);
      const png = await image(member.participant.id, 'png', org);
      assert.equal(png.status, 200);
      assert.match(String(png.headers['content-type']), /^image\/png/);
      assert.equal(png.headers['cache-control'], 'no-store');
      assert.ok(Buffer.compare((png.body as Buffer).subarray(0, 8), PNG_MAGIC) === 0, 'PNG magic bytes');

      const svg = await image(member.participant.id, 'svg', org);
      assert.equal(svg.status, 200);
      assert.match(String(svg.headers['content-type']), /^image\/svg\+xml/);
      assert.equal(svg.headers['cache-control'], 'no-store');
      const text = (svg.body as Buffer).toString('utf8').trimStart();
      assert.ok(text.startsWith('<svg') || text.startsWith('<?xml'), text.slice(0, 40));
      assert.ok(!text.includes(member.qr), 'the QR is drawn, not written as text');

      const again = await image(member.participant.id, 'svg', org);
      assert.equal((again.body as Buffer).toString('utf8').trimStart(), text, 'same QR, same image');
      await t.http.post(`/api/participants/${member.participant.id}/rotate-qr/`).set(bearer(org)).expect(200);
      const rotated = await image(member.participant.id, 'svg', org);
      assert.notEqual((rotated.body as Buffer).toString('utf8').trimStart(), text, 'a new QR, a new image');

      expectValidation(await get('/api/participants/nope/badge.png', org), 'id');
      expectError(await get(`/api/participants/${UNKNOWN_ID}/badge.svg`, org), 404, 'NOT_FOUND');
    });

    it('plan: a PDF is stored and downloaded by its owner and organisateurs; a PNG is refused; replaced files go', async () => {
      const expo = await createMember(t, w.event.id, 'exposant');
      const id = expo.participant.id;
      expectError(await get(`/api/participants/${id}/plan/`, org), 404, 'NOT_FOUND');

      const res = await uploadPlan(id, org, PDF);
      assert.equal(res.status, 200, res.text);
      assertBadgeShape(res.body, true);
      assert.equal(res.body.plan_file, `/api/participants/${id}/plan/`);
      assert.equal(planFiles(w.event.id).filter((f) => f.startsWith('plan-')).length, 1);

      for (const token of [expo.token, org]) {
        const got = await planOf(id, token);
        assert.equal(got.status, 200);
        assert.match(String(got.headers['content-type']), /^application\/pdf/);
        assert.ok(Buffer.compare(got.body as Buffer, PDF) === 0, 'identical PDF bytes');
      }
      const listed = await get(`/api/participants/${id}/`, org).expect(200);
      assert.equal(listed.body.plan_file, `/api/participants/${id}/plan/`);

      const before = await snapshot(w.event.id);
      const files = planFiles(w.event.id);
      expectValidation(await uploadPlan(id, org, PNG, 'plan.pdf'), 'file');
      expectValidation(await uploadPlan(id, org, Buffer.from('just text, not a PDF'), 'plan.pdf'), 'file');
      expectError(
        await t.http
          .put(`/api/participants/${id}/plan/`)
          .set(bearer(org))
          .send({ file: PDF.toString('base64') }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      assert.deepEqual(await snapshot(w.event.id), before);
      assert.deepEqual(planFiles(w.event.id), files, 'no file written for a refused upload');

      const replaced = Buffer.concat([PDF, Buffer.from('% v2\n')]);
      await uploadPlan(id, org, replaced).expect(200);
      assert.equal(planFiles(w.event.id).filter((f) => f.startsWith('plan-')).length, 1, 'the old plan is gone');
      assert.ok(Buffer.compare((await planOf(id, expo.token)).body as Buffer, replaced) === 0);

      expectValidation(await uploadPlan('nope', org, PDF), 'id');
      expectError(await uploadPlan(UNKNOWN_ID, org, PDF), 404, 'NOT_FOUND');
    });

    it('POST /api/qr/generate/: the new QR and its PNG data URL, the old one revoked, no-store', async () => {
      const member = await createMember(t, w.event.id);
      const res = await t.http
        .post('/api/qr/generate/')
        .set(bearer(org))
        .send({ participant_id: member.participant.id });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ['participant_id', 'png_data_url', 'qr_code_data']);
      assert.equal(res.body.participant_id, member.participant.id);
      assert.notEqual(res.body.qr_code_data, member.qr);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.match(res.body.png_data_url, /^data:image\/png;base64,/);
      const png = Buffer.from(String(res.body.png_data_url).split(',')[1] as string, 'base64');
      assert.ok(Buffer.compare(png.subarray(0, 8), PNG_MAGIC) === 0, 'the data URL holds a PNG');
      assert.equal((await stored(member.participant.id))?.qr_hash, sha256(res.body.qr_code_data));
      assert.equal(
        await countRows(t, 'revoked_qr_codes', 'participant_id = $1 AND qr_hash = $2', [
          member.participant.id,
          sha256(member.qr),
        ]),
        1,
      );
      const me = await get('/api/participants/me/', member.token).expect(200);
      assert.equal(me.body.qr_code_data, res.body.qr_code_data);
      const noSlash = await t.http
        .post('/api/qr/generate')
        .set(bearer(org))
        .send({ participant_id: member.participant.id });
      assert.equal(noSlash.status, 200, noSlash.text);
    });

    it('POST /api/qr/generate/ with bad input: 400 and nothing rotated', async () => {
      const member = await createMember(t, w.event.id);
      const other = await createWorld(t);
      const foreign = await createMember(t, other.event.id);
      const before = await snapshot(w.event.id);
      const otherBefore = await snapshot(other.event.id);
      const cases: [Body, string[]][] = [
        [{}, ['participant_id']],
        [{ participant_id: 'abc' }, ['participant_id']],
        [{ participant_id: null }, ['participant_id']],
        [{ participant_id: UNKNOWN_ID }, ['participant_id']],
        [{ participant_id: foreign.participant.id }, ['participant_id']],
        [{ participant_id: member.participant.id, qr_code_data: 'mine' }, ['qr_code_data']],
        [{ participant_id: member.participant.id, event_id: w.event.id }, ['event_id']],
        [{ participant_id: member.participant.id, badge_id: 'AAAA-BBBB' }, ['badge_id']],
      ];
      for (const [body, fields] of cases) {
        expectValidation(await t.http.post('/api/qr/generate/').set(bearer(org)).send(body), ...fields);
      }
      assert.deepEqual(await snapshot(w.event.id), before);
      assert.deepEqual(await snapshot(other.event.id), otherBefore);
    });
  });

  describe('bad bodies', () => {
    let w: World;
    let org: string;
    before(async () => {
      w = await createWorld(t);
      org = w.tokens.organisateur;
    });

    const readOnly: [string, Body][] = [
      ['is_checked_in', { is_checked_in: true }],
      ['checked_in_at', { checked_in_at: '2026-01-01T00:00:00Z' }],
      ['badge_id', { badge_id: 'AAAA-BBBB' }],
      ['event_id', { event_id: UNKNOWN_ID }],
      ['event', { event: UNKNOWN_ID }],
      ['qr_code_data', { qr_code_data: 'MP1.forged' }],
      ['qr_hash', { qr_hash: 'a'.repeat(64) }],
      ['id', { id: UNKNOWN_ID }],
      ['plan_file', { plan_file: '/etc/passwd' }],
      ['created_at', { created_at: '2026-01-01T00:00:00Z' }],
      ['share_contact_with_exhibitors (only the holder sets it)', { share_contact_with_exhibitors: true }],
      ['unknown field', { admin: true }],
    ];
    for (const [label, extra] of readOnly) {
      it(`POST, PATCH and PUT with ${label}: 400 VALIDATION_FAILED naming it, nothing written`, async () => {
        const member = await createMember(t, w.event.id);
        const email = `${uniq('bad')}@example.test`;
        const before = await snapshot(w.event.id);
        const field = Object.keys(extra)[0] as string;
        expectValidation(
          await t.http
            .post('/api/participants/')
            .set(bearer(org))
            .send({ email, ...extra }),
          field,
        );
        const user = await createUser(t);
        expectValidation(
          await t.http
            .post('/api/participants/')
            .set(bearer(org))
            .send({ user_id: user.id, ...extra }),
          field,
        );
        for (const method of ['patch', 'put'] as const) {
          expectValidation(
            await t.http[method](`/api/participants/${member.participant.id}/`)
              .set(bearer(org))
              .send({ allowed_rooms: [], ...extra }),
            field,
          );
        }
        assert.deepEqual(await snapshot(w.event.id), before);
        assert.equal(await countRows(t, 'users', 'email = $1', [email]), 0);
      });
    }

    const badValues: [string, Body, string[]][] = [
      ['neither user_id nor email', { role: 'participant' }, ['user_id', 'email']],
      ['a malformed user_id', { user_id: 'abc' }, ['user_id']],
      ['a malformed email', { email: 'not-an-email' }, ['email']],
      ['both user_id and email', { user_id: UNKNOWN_ID, email: 'both@example.test' }, ['email']],
      ['an unknown role', { email: 'role@example.test', role: 'admin' }, ['role']],
      ['role null', { email: 'role@example.test', role: null }, ['role']],
      ['allowed_rooms not an array', { email: 'rooms@example.test', allowed_rooms: 'all' }, ['allowed_rooms']],
      ['allowed_rooms null', { email: 'rooms@example.test', allowed_rooms: null }, ['allowed_rooms']],
      ['allowed_rooms of non-UUIDs', { email: 'rooms@example.test', allowed_rooms: ['hall'] }, ['allowed_rooms']],
    ];
    for (const [label, body, fields] of badValues) {
      it(`POST with ${label}: 400 VALIDATION_FAILED, nothing written`, async () => {
        const before = await snapshot(w.event.id);
        const emails = ['both@example.test', 'role@example.test', 'rooms@example.test'];
        expectValidation(await t.http.post('/api/participants/').set(bearer(org)).send(body), ...fields);
        assert.deepEqual(await snapshot(w.event.id), before);
        assert.equal(await countRows(t, 'users', 'email = ANY($1)', [emails]), 0);
      });
    }

    it('PATCH with role null, an unknown role or allowed_rooms null: 400, nothing written', async () => {
      const member = await createMember(t, w.event.id);
      const before = await snapshot(w.event.id);
      for (const body of [{ role: null }, { role: 'Participant' }, { allowed_rooms: null }, { allowed_rooms: [1] }]) {
        expectValidation(
          await t.http.patch(`/api/participants/${member.participant.id}/`).set(bearer(org)).send(body),
          ...Object.keys(body),
        );
      }
      assert.deepEqual(await snapshot(w.event.id), before);
    });

    it('a body that is not a JSON object: 400 or 415, nothing written', async () => {
      const before = await snapshot(w.event.id);
      for (const raw of ['{"email": "x@example.test",', '[{"email": "x@example.test"}]', 'null']) {
        const res = await t.http
          .post('/api/participants/')
          .set(bearer(org))
          .set('Content-Type', 'application/json')
          .send(raw);
        expectError(res, 400, res.body.code === 'BAD_REQUEST' ? 'BAD_REQUEST' : 'VALIDATION_FAILED');
      }
      expectError(
        await t.http
          .post('/api/participants/')
          .set(bearer(org))
          .set('Content-Type', 'text/plain')
          .send('email=x@example.test'),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      assert.deepEqual(await snapshot(w.event.id), before);
      assert.equal(await countRows(t, 'users', 'email = $1', ['x@example.test']), 0);
    });
  });

  describe('participant and exposant', () => {
    for (const role of ['participant', 'exposant'] as const) {
      it(`${role}: me/ is the own badge with qr_code_data (no-store); own images and plan; others’ are 404`, async () => {
        const w = await createWorld(t);
        const self = await createMember(t, w.event.id, role, { firstName: 'Self', lastName: 'Owner' });
        const neighbour = await createMember(t, w.event.id, role === 'participant' ? 'exposant' : 'participant');
        await uploadPlan(self.participant.id, w.tokens.organisateur, PDF).expect(200);
        await uploadPlan(neighbour.participant.id, w.tokens.organisateur, PDF).expect(200);

        for (const path of ['/api/participants/me/', '/api/participants/me']) {
          const me = await get(path, self.token).expect(200);
          assertBadgeShape(me.body, true);
          assert.equal(me.headers['cache-control'], 'no-store');
          assert.equal(me.body.id, self.participant.id);
          assert.equal(me.body.qr_code_data, self.qr);
          assert.equal(me.body.role, role);
          assert.equal(me.body.user_name, 'Self Owner');
          assert.ok(!me.text.includes(neighbour.qr));
        }

        for (const format of ['png', 'svg'] as const) {
          const own = await image(self.participant.id, format, self.token);
          assert.equal(own.status, 200);
          assert.equal(own.headers['cache-control'], 'no-store');
          expectError(
            await get(`/api/participants/${neighbour.participant.id}/badge.${format}`, self.token),
            404,
            'NOT_FOUND',
          );
        }
        const plan = await planOf(self.participant.id, self.token);
        assert.equal(plan.status, 200);
        assert.ok(Buffer.compare(plan.body as Buffer, PDF) === 0);
        expectError(await get(`/api/participants/${neighbour.participant.id}/plan/`, self.token), 404, 'NOT_FOUND');

        // A member of the event without a badge has no me/.
        const noBadge = w.tokens[role];
        expectError(await get('/api/participants/me/', noBadge), 404, 'NOT_FOUND');
      });
    }
  });

  /**
   * Every route the organisateur alone may call, with a request that succeeds for an organisateur (DELETE last).
   * `tag` names the accounts that POST and import would create.
   */
  const organizerOnly = (id: string, tag: string): [string, (token: string) => Test][] => [
    [
      'POST /',
      (tk) =>
        t.http
          .post('/api/participants/')
          .set(bearer(tk))
          .send({ email: `${tag}-post@example.test` }),
    ],
    ['PATCH /{id}', (tk) => t.http.patch(`/api/participants/${id}/`).set(bearer(tk)).send({ role: 'exposant' })],
    ['PUT /{id}', (tk) => t.http.put(`/api/participants/${id}/`).set(bearer(tk)).send({ allowed_rooms: [] })],
    ['POST rotate-qr', (tk) => t.http.post(`/api/participants/${id}/rotate-qr/`).set(bearer(tk))],
    ['PUT plan', (tk) => uploadPlan(id, tk, PDF)],
    ['POST import', (tk) => importCsv(tk, csv([CSV_HEADER, `${tag}-import@example.test,A,B,participant`]))],
    ['POST /api/qr/generate/', (tk) => t.http.post('/api/qr/generate/').set(bearer(tk)).send({ participant_id: id })],
    ['DELETE /{id}', (tk) => t.http.delete(`/api/participants/${id}/`).set(bearer(tk))],
  ];

  for (const role of NON_ORGANIZER_ROLES) {
    describe(role, () => {
      it('every organizer-only route is 403 FORBIDDEN and nothing changes (no rotation, no file, no account)', async () => {
        const w = await createWorld(t);
        const token = w.tokens[role];
        const target = await createMember(t, w.event.id, 'participant');
        const tag = uniq('refused');
        const before = await snapshot(w.event.id);
        const files = planFiles(w.event.id);
        const routes = organizerOnly(target.participant.id, tag);
        for (const [name, route] of routes) {
          const res = await route(token);
          assert.equal(res.status, 403, `${name}: ${res.text}`);
          expectError(res, 403, 'FORBIDDEN');
        }
        assert.deepEqual(await snapshot(w.event.id), before);
        assert.deepEqual(planFiles(w.event.id), files);
        assert.equal(await countRows(t, 'users', 'email LIKE $1', [`${tag}-%`]), 0);
        // Positive control: the very same requests succeed for the organisateur and do change things (the plan is
        // stored by its upload, and removed again with the badge by the DELETE that comes last).
        let filesAfterUpload: string[] = files;
        for (const [name, route] of routes) {
          const res = await route(w.tokens.organisateur);
          assert.ok(res.status >= 200 && res.status < 300, `organisateur ${name}: ${res.status} ${res.text}`);
          if (name === 'PUT plan') filesAfterUpload = planFiles(w.event.id);
        }
        assert.notDeepEqual(await snapshot(w.event.id), before);
        assert.notDeepEqual(filesAfterUpload, files);
        assert.deepEqual(planFiles(w.event.id), files, 'the deleted badge took its plan with it');
        assert.equal(await countRows(t, 'users', 'email LIKE $1', [`${tag}-%`]), 2);
      });

      if (role === 'gestionnaire_des_salles') {
        it('lists and reads badges without qr_code_data; badge images of others are 404; me/ is 403', async () => {
          const w = await createWorld(t);
          const token = w.tokens[role];
          const member = await createMember(t, w.event.id, 'participant');
          const list = await get('/api/participants/', token).expect(200);
          assert.equal(list.body.count, 1);
          assertBadgeShape(list.body.results[0], false);
          const one = await get(`/api/participants/${member.participant.id}/`, token).expect(200);
          assertBadgeShape(one.body, false);
          assert.ok(!one.text.includes(member.qr));
          for (const format of ['png', 'svg']) {
            expectError(
              await get(`/api/participants/${member.participant.id}/badge.${format}`, token),
              404,
              'NOT_FOUND',
            );
          }
          expectError(await get('/api/participants/me/', token), 403, 'FORBIDDEN');
        });
      } else {
        it('the list, one badge and others’ badge images are refused', async () => {
          const w = await createWorld(t);
          const token = w.tokens[role];
          const member = await createMember(t, w.event.id, 'participant');
          expectError(await get('/api/participants/', token), 403, 'FORBIDDEN');
          expectError(await get(`/api/participants/${member.participant.id}/`, token), 403, 'FORBIDDEN');
          for (const format of ['png', 'svg']) {
            expectError(
              await get(`/api/participants/${member.participant.id}/badge.${format}`, token),
              404,
              'NOT_FOUND',
            );
          }
          if (role === 'controlleur_des_badges') {
            expectError(await get('/api/participants/me/', token), 403, 'FORBIDDEN');
            expectError(await get(`/api/participants/${member.participant.id}/plan/`, token), 404, 'NOT_FOUND');
          }
        });
      }
    });
  }

  describe('organisateur of another event', () => {
    it('this event’s badges are 404 on every route, absent from lists, and unchanged', async () => {
      const w = await createWorld(t);
      const other = await createWorld(t);
      const token = other.tokens.organisateur;
      const member = await createMember(t, w.event.id, 'exposant');
      await uploadPlan(member.participant.id, w.tokens.organisateur, PDF).expect(200);
      const id = member.participant.id;
      const before = await snapshot(w.event.id);
      const files = planFiles(w.event.id);
      const calls: [string, Test][] = [
        ['GET', get(`/api/participants/${id}/`, token)],
        ['PATCH', t.http.patch(`/api/participants/${id}/`).set(bearer(token)).send({ role: 'participant' })],
        ['PUT', t.http.put(`/api/participants/${id}/`).set(bearer(token)).send({ allowed_rooms: [] })],
        ['DELETE', t.http.delete(`/api/participants/${id}/`).set(bearer(token))],
        ['rotate', t.http.post(`/api/participants/${id}/rotate-qr/`).set(bearer(token))],
        ['png', get(`/api/participants/${id}/badge.png`, token)],
        ['svg', get(`/api/participants/${id}/badge.svg`, token)],
        ['plan', get(`/api/participants/${id}/plan/`, token)],
        ['upload plan', uploadPlan(id, token, PDF)],
      ];
      for (const [name, call] of calls) {
        const res = await call;
        assert.equal(res.status, 404, `${name}: ${res.text}`);
        expectError(res, 404, 'NOT_FOUND');
        assert.ok(!res.text.includes(member.qr), name);
      }
      expectValidation(
        await t.http.post('/api/qr/generate/').set(bearer(token)).send({ participant_id: id }),
        'participant_id',
      );
      const list = await get('/api/participants/?page_size=100', token).expect(200);
      assert.ok(!list.text.includes(id));
      assert.deepEqual(await snapshot(w.event.id), before);
      assert.deepEqual(planFiles(w.event.id), files);
      assert.equal(planFiles(other.event.id).length, 0);

      // The participant's own token in another event sees only that event's badge.
      await assign(t, other.event.id, member.user.id, 'participant');
      const there = await issueBadge(t, other.event.id, member.user.id);
      const token2 = (await openSession(t, member.user.id, other.event.id)).access;
      const me = await get('/api/participants/me/', token2).expect(200);
      assert.equal(me.body.id, there.participant.id);
      assert.equal(me.body.event, other.event.id);
      assert.notEqual(me.body.qr_code_data, member.qr);
      expectError(await get(`/api/participants/${id}/badge.png`, token2), 404, 'NOT_FOUND');
    });

    it('without a token: 401; a token without event: 403 EVENT_REQUIRED', async () => {
      expectError(await t.http.get('/api/participants/'), 401, 'AUTH_REQUIRED');
      expectError(await t.http.get('/api/participants/me/'), 401, 'AUTH_REQUIRED');
      expectError(await t.http.post('/api/qr/generate/').send({ participant_id: UNKNOWN_ID }), 401, 'AUTH_REQUIRED');
      expectError(await t.http.get(`/api/participants/${UNKNOWN_ID}/badge.png`), 401, 'AUTH_REQUIRED');
      const user = await createUser(t, { isStaff: true });
      const token = (await openSession(t, user.id, null)).access;
      expectError(await get('/api/participants/', token), 403, 'EVENT_REQUIRED');
      expectError(await get(`/api/participants/${UNKNOWN_ID}/badge.png`, token), 403, 'EVENT_REQUIRED');
    });
  });

  describe('the QR secret appears only where API.md allows', () => {
    it('no list or summary response carries a QR text, its hash or its salt; single reads follow the rules', async () => {
      const w = await createWorld(t);
      const roomId = await createRoom(t, w.event.id);
      const sessionId = await createSession(t, w.event.id, roomId, { type: 'atelier', isPaid: true, price: '10.00' });
      await createSession(t, w.event.id, roomId, { start: new Date(Date.now() + 5 * 3600_000) });
      const people = [
        await createMember(t, w.event.id, 'participant'),
        await createMember(t, w.event.id, 'participant'),
        await createMember(t, w.event.id, 'exposant'),
      ];
      // The world's own members get badges too: the caller of each list is one of them.
      const own: Partial<Record<EventRole, { participant: { id: string }; qr: string }>> = {};
      for (const role of EVENT_ROLES) own[role] = await issueBadge(t, w.event.id, w.users[role].id);
      const [first] = people;
      assert.ok(first);
      const oldQr = first.qr;
      await t.http
        .post(`/api/participants/${first.participant.id}/rotate-qr/`)
        .set(bearer(w.tokens.organisateur))
        .expect(200);
      await t.http
        .post('/api/session-access/')
        .set(bearer(w.tokens.organisateur))
        .send({ participant_id: first.participant.id, session_id: sessionId, payment_status: 'paid' })
        .expect(201);
      await t.http
        .post('/api/session-access/')
        .set(bearer(w.tokens.organisateur))
        .send({ participant_id: own.participant?.participant.id, session_id: sessionId, payment_status: 'free' })
        .expect(201);

      const rows: { id: string; user_id: string; qr_salt: string; qr_hash: string }[] = await t.db.query(
        'SELECT id, user_id, qr_salt, qr_hash FROM participants WHERE event_id = $1',
        [w.event.id],
      );
      assert.equal(rows.length, 3 + EVENT_ROLES.length);
      const secrets = new Map<string, string[]>(); // participant id → its secret strings
      for (const r of rows) {
        const qr = issuer().qrCodeData({ id: r.id, qrSalt: r.qr_salt });
        assert.equal(sha256(qr), r.qr_hash, 'the test derives the real QR');
        secrets.set(r.id, [qr, r.qr_hash, r.qr_salt]);
      }
      const firstSecrets = secrets.get(first.participant.id) as string[];
      firstSecrets.push(oldQr, sha256(oldQr));
      const all = [...secrets.values()].flat();

      const noSecret = (res: Response, label: string, allowed: string[] = []): void => {
        assert.equal(res.status, 200, `${label}: ${res.text}`);
        for (const s of all) {
          if (allowed.includes(s)) continue;
          assert.ok(!res.text.includes(s), `${label} leaks ${s.slice(0, 12)}…`);
        }
      };

      const common = [
        '/api/rooms/',
        `/api/rooms/${roomId}/sessions/`,
        '/api/sessions/',
        `/api/sessions/${sessionId}/`,
        '/api/events/',
        `/api/events/${w.event.id}/`,
        '/api/dashboard/stats/',
        '/api/auth/my-events/',
      ];
      const byRole: Record<EventRole, string[]> = {
        organisateur: [
          '/api/participants/?page_size=100',
          '/api/participants/?page_size=100&ordering=-badge_id',
          `/api/participants/?search=${encodeURIComponent(first.user.email)}`,
          '/api/user-assignments/?page_size=100',
          '/api/session-access/',
          `/api/events/${w.event.id}/statistics/`,
        ],
        gestionnaire_des_salles: [
          '/api/participants/?page_size=100',
          '/api/participants/?role=exposant',
          `/api/events/${w.event.id}/statistics/`,
          ...people.map((p) => `/api/participants/${p.participant.id}/`),
        ],
        controlleur_des_badges: [],
        exposant: [],
        participant: ['/api/my-ateliers/'],
      };
      let checked = 0;
      for (const role of EVENT_ROLES) {
        for (const path of [...common, ...byRole[role]]) {
          const res = await get(path, w.tokens[role]);
          noSecret(res, `${role} GET ${path}`);
          assert.doesNotMatch(res.text, /qr_code_data|qr_hash|qr_salt/, `${role} GET ${path}`);
          checked += 1;
        }
      }
      assert.ok(checked >= 40, `${checked} responses scanned`);

      // Own badge: the owner sees their QR text, but never its hash or salt, nor anyone else's secrets.
      for (const [p, role] of [
        [people[0], 'participant'],
        [people[2], 'exposant'],
      ] as const) {
        assert.ok(p);
        const me = await get('/api/participants/me/', p.token);
        const [qr] = secrets.get(p.participant.id) as string[];
        assert.equal(me.body.qr_code_data, qr, role);
        noSecret(me, `${role} me/`, [qr as string]);
        const dash = await get('/api/dashboard/stats/', p.token);
        noSecret(dash, `${role} dashboard`);
      }
      // Organisateur single read: the QR only (and it is the current one, not the revoked one).
      const one = await get(`/api/participants/${first.participant.id}/`, w.tokens.organisateur);
      const [current] = secrets.get(first.participant.id) as string[];
      assert.equal(one.body.qr_code_data, current);
      assert.notEqual(one.body.qr_code_data, oldQr);
      noSecret(one, 'organisateur GET /{id}', [current as string]);
      // Negative control: the scan above does see a secret where one is.
      assert.ok(one.text.includes(current as string));
    });

    it('the profile carries the own badge with qr_code_data, like me/; null without a badge', async () => {
      const w = await createWorld(t);
      const member = await createMember(t, w.event.id, 'participant');
      const other = await createMember(t, w.event.id, 'participant');
      const me = await get('/api/participants/me/', member.token).expect(200);
      const profile = await get('/api/auth/profile/', member.token).expect(200);
      assert.deepEqual(profile.body.participant, me.body);
      assert.equal(profile.body.participant.qr_code_data, member.qr);
      assert.ok(!profile.text.includes(other.qr));
      assert.equal(profile.headers['cache-control'], 'no-store');
      const none = await get('/api/auth/profile/', w.tokens.gestionnaire_des_salles).expect(200);
      assert.equal(none.body.participant, null);
    });
  });

  describe('badges follow memberships', () => {
    it('POST /api/user-assignments/ of a participant or exposant issues a badge; of a controller, none', async () => {
      const w = await createWorld(t);
      const org = w.tokens.organisateur;
      const user = await createUser(t);
      const p = await t.http
        .post('/api/user-assignments/')
        .set(bearer(org))
        .send({ user_id: user.id, role: 'participant' });
      assert.equal(p.status, 201, p.text);
      const badge = await badgeOfUser(w.event.id, user.id);
      assert.ok(badge, 'a participant gets a badge');

      const email = `${uniq('expo')}@example.test`;
      const e = await t.http.post('/api/user-assignments/').set(bearer(org)).send({ email, role: 'exposant' });
      assert.equal(e.status, 201, e.text);
      assert.ok(await badgeOfUser(w.event.id, e.body.user), 'an exposant gets a badge');

      const controller = await createUser(t);
      const c = await t.http
        .post('/api/user-assignments/')
        .set(bearer(org))
        .send({ user_id: controller.id, role: 'controlleur_des_badges' });
      assert.equal(c.status, 201, c.text);
      assert.equal(await badgeOfUser(w.event.id, controller.id), null, 'staff get none by default');

      // The badge shows in the list with its role, and the participant's token reaches it.
      const list = await get('/api/participants/?page_size=100', org).expect(200);
      const roles = new Map((list.body.results as Badge[]).map((b) => [b.user, b.role]));
      assert.equal(roles.get(user.id), 'participant');
      assert.equal(roles.get(e.body.user), 'exposant');
      assert.equal(roles.has(controller.id), false);
      const token = (await openSession(t, user.id, w.event.id)).access;
      assert.equal((await get('/api/participants/me/', token).expect(200)).body.id, badge);
    });

    it('PATCH /api/user-assignments/ turning a controller into a participant issues one badge, kept on the way back', async () => {
      const w = await createWorld(t);
      const org = w.tokens.organisateur;
      const controller = await createUser(t);
      const a = await t.http
        .post('/api/user-assignments/')
        .set(bearer(org))
        .send({ user_id: controller.id, role: 'controlleur_des_badges' })
        .expect(201);
      assert.equal(await badgeOfUser(w.event.id, controller.id), null);
      const res = await t.http
        .patch(`/api/user-assignments/${a.body.id}/`)
        .set(bearer(org))
        .send({ role: 'participant' });
      assert.equal(res.status, 200, res.text);
      const badge = await badgeOfUser(w.event.id, controller.id);
      assert.ok(badge, 'a badge was issued');
      await t.http.patch(`/api/user-assignments/${a.body.id}/`).set(bearer(org)).send({ role: 'exposant' }).expect(200);
      await t.http
        .patch(`/api/user-assignments/${a.body.id}/`)
        .set(bearer(org))
        .send({ role: 'controlleur_des_badges' })
        .expect(200);
      await t.http
        .patch(`/api/user-assignments/${a.body.id}/`)
        .set(bearer(org))
        .send({ role: 'participant' })
        .expect(200);
      assert.equal(await badgeOfUser(w.event.id, controller.id), badge, 'the same badge all along');
      assert.equal(
        await countRows(t, 'participants', 'event_id = $1 AND user_id = $2', [w.event.id, controller.id]),
        1,
      );

      // DELETE of the membership takes the badge with it.
      await t.http.delete(`/api/user-assignments/${a.body.id}/`).set(bearer(org)).expect(204);
      assert.equal(await badgeOfUser(w.event.id, controller.id), null);
    });
  });

  describe('concurrency', () => {
    const N = 50;

    it(`${N} parallel POSTs for the same new email: one 201, ${N - 1} × 409 PARTICIPANT_EXISTS; one user, membership, badge`, async () => {
      const w = await createWorld(t);
      const email = `${uniq('race')}@example.test`;
      const responses = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          fire(
            t.http
              .post('/api/participants/')
              .set(bearer(w.tokens.organisateur))
              .send({ email: i % 2 ? email.toUpperCase() : email, first_name: 'Race', last_name: String(i) }),
          ),
        ),
      );
      assert.deepEqual(tally(responses), { 201: 1, 409: N - 1 });
      for (const r of responses.filter((x) => x.status === 409)) expectError(r, 409, 'PARTICIPANT_EXISTS');
      assert.equal(await countRows(t, 'users', 'email = $1', [email]), 1);
      const users: { id: string }[] = await t.db.query('SELECT id FROM users WHERE email = $1', [email]);
      const userId = users[0]?.id;
      assert.equal(
        await countRows(t, 'user_event_assignments', 'event_id = $1 AND user_id = $2', [w.event.id, userId]),
        1,
      );
      assert.equal(await countRows(t, 'participants', 'event_id = $1 AND user_id = $2', [w.event.id, userId]), 1);
      const created = responses.find((r) => r.status === 201) as Response;
      assert.equal(created.body.user, userId);
    });

    it(`${N} parallel POSTs for the same existing user: one 201, ${N - 1} × 409, one membership and badge`, async () => {
      const w = await createWorld(t);
      const user = await createUser(t);
      const responses = await Promise.all(
        Array.from({ length: N }, () =>
          fire(t.http.post('/api/participants/').set(bearer(w.tokens.organisateur)).send({ user_id: user.id })),
        ),
      );
      assert.deepEqual(tally(responses), { 201: 1, 409: N - 1 });
      for (const r of responses.filter((x) => x.status === 409)) expectError(r, 409, 'PARTICIPANT_EXISTS');
      assert.equal(
        await countRows(t, 'user_event_assignments', 'event_id = $1 AND user_id = $2', [w.event.id, user.id]),
        1,
      );
      assert.equal(await countRows(t, 'participants', 'event_id = $1 AND user_id = $2', [w.event.id, user.id]), 1);
    });

    it(`negative control: ${N} parallel POSTs for distinct emails all succeed`, async () => {
      // Proves N concurrent creations really get through (no serialization, pool exhaustion or rate limit turning them
      // into errors), so the single 201 above comes from the uniqueness rules alone.
      const w = await createWorld(t);
      const tag = uniq('many');
      const responses = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          fire(
            t.http
              .post('/api/participants/')
              .set(bearer(w.tokens.organisateur))
              .send({ email: `${tag}-${i}@example.test` }),
          ),
        ),
      );
      assert.deepEqual(tally(responses), { 201: N });
      assert.equal(await countRows(t, 'users', 'email LIKE $1', [`${tag}-%`]), N);
      assert.equal(await countRows(t, 'participants', 'event_id = $1', [w.event.id]), N);
      assert.equal(new Set(responses.map((r) => r.body.badge_id)).size, N, 'distinct badge ids');
      assert.equal(new Set(responses.map((r) => r.body.qr_code_data)).size, N, 'distinct QR texts');
    });

    it('20 parallel rotations: every QR handed out is either current or revoked, none is lost', async () => {
      const w = await createWorld(t);
      const member = await createMember(t, w.event.id);
      const responses = await Promise.all(
        Array.from({ length: 20 }, () =>
          fire(t.http.post(`/api/participants/${member.participant.id}/rotate-qr/`).set(bearer(w.tokens.organisateur))),
        ),
      );
      assert.deepEqual(tally(responses), { 200: 20 });
      const current = (await stored(member.participant.id))?.qr_hash;
      const revoked: { qr_hash: string }[] = await t.db.query(
        'SELECT qr_hash FROM revoked_qr_codes WHERE participant_id = $1',
        [member.participant.id],
      );
      const revokedSet = new Set(revoked.map((r) => r.qr_hash));
      assert.equal(revoked.length, 20, 'one revocation per rotation');
      assert.equal(revokedSet.size, 20);
      assert.ok(revokedSet.has(sha256(member.qr)), 'the original QR is revoked');
      assert.ok(!revokedSet.has(current as string), 'the current QR is not revoked');
      for (const r of responses) {
        const h = sha256(r.body.qr_code_data);
        assert.ok(h === current || revokedSet.has(h), 'a QR handed out is current or revoked');
      }
    });
  });

  describe('import', () => {
    it('renames a password-less person only when they belong to no other event', async () => {
      const a = await createWorld(t);
      const b = await createWorld(t);
      const shared = `${uniq('shared')}@example.test`;
      const own = `${uniq('own')}@example.test`;
      await importCsv(b.tokens.organisateur, csv([CSV_HEADER, `${shared},Bea,FromB,participant`])).expect(200);
      await importCsv(a.tokens.organisateur, csv([CSV_HEADER, `${own},Old,Name,participant`])).expect(200);
      const res = await importCsv(
        a.tokens.organisateur,
        csv([CSV_HEADER, `${shared},Mallory,Renamed,participant`, `${own},New,Name,participant`]),
      );
      assert.equal(res.status, 200, res.text);
      const names: { email: string; first_name: string; last_name: string }[] = await t.db.query(
        'SELECT email, first_name, last_name FROM users WHERE email = ANY($1) ORDER BY email',
        [[shared, own]],
      );
      assert.deepEqual(
        names.map((n) => [n.email, n.first_name, n.last_name]),
        [
          [own, 'New', 'Name'],
          [shared, 'Bea', 'FromB'],
        ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
        "event B's person keeps the name B gave; A's own person is renamed",
      );
    });

    it('mixed good and bad lines: good lines kept, errors with their line numbers (header = line 1); re-import is idempotent', async () => {
      const w = await createWorld(t);
      const org = w.tokens.organisateur;
      const tag = uniq('mix');
      const e = (n: number) => `${tag}-${n}@example.test`;
      const file = csv([
        CSV_HEADER, // 1
        `${e(1)},Ann,One,participant`, // 2 good
        'not-an-email,Bad,Email,participant', // 3 bad email
        `${e(2)},Bob,Two,`, // 4 good, role empty → participant
        `${e(3)},Cy,Three,wizard`, // 5 unknown role
        `${e(4)},Di,Four`, // 6 too few columns
        `${e(5)},Ed,Five,exposant,extra`, // 7 too many columns
        `${e(1).toUpperCase()},Dup,Licate,exposant`, // 8 duplicate of line 2
        `${e(6)},Fay,Six,exposant`, // 9 good
        '', // 10 empty, skipped
        `${e(7)},"Gus, Jr",Seven,gestionnaire_des_salles`, // 11 good, quoted comma
      ]);
      const res = await importCsv(org, file);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ['created', 'errors', 'updated']);
      assert.equal(res.body.created, 4);
      assert.equal(res.body.updated, 0);
      assert.deepEqual(
        (res.body.errors as { line: number }[]).map((x) => x.line),
        [3, 5, 6, 7, 8],
      );
      for (const err of res.body.errors as Body[]) {
        assert.deepEqual(Object.keys(err).sort(), ['detail', 'line']);
        assert.ok(typeof err.detail === 'string' && err.detail.length > 0);
      }

      const people: {
        email: string;
        first_name: string;
        last_name: string;
        password_hash: null;
        role: string;
        badge: string | null;
      }[] = await t.db.query(
        `SELECT u.email, u.first_name, u.last_name, u.password_hash, a.role, p.id AS badge
             FROM users u
             LEFT JOIN user_event_assignments a ON a.user_id = u.id AND a.event_id = $1
             LEFT JOIN participants p ON p.user_id = u.id AND p.event_id = $1
            WHERE u.email LIKE $2 ORDER BY u.email`,
        [w.event.id, `${tag}-%`],
      );
      assert.deepEqual(
        people.map((p) => [p.email, p.first_name, p.last_name, p.password_hash, p.role, p.badge !== null]),
        [
          [e(1), 'Ann', 'One', null, 'participant', true],
          [e(2), 'Bob', 'Two', null, 'participant', true],
          [e(6), 'Fay', 'Six', null, 'exposant', true],
          [e(7), 'Gus, Jr', 'Seven', null, 'gestionnaire_des_salles', true],
        ],
      );

      const before = await snapshot(w.event.id);
      const again = await importCsv(org, file);
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.created, 0);
      assert.equal(again.body.updated, 4);
      assert.deepEqual(
        (again.body.errors as { line: number }[]).map((x) => x.line),
        [3, 5, 6, 7, 8],
      );
      assert.deepEqual(await snapshot(w.event.id), before, 're-import changes nothing');
      assert.equal(await countRows(t, 'users', 'email LIKE $1', [`${tag}-%`]), 4);
    });

    it('Windows line ends, a BOM, upper-case header and no role column: line numbers still count from the header', async () => {
      const w = await createWorld(t);
      const tag = uniq('crlf');
      const body = `\uFEFFEMAIL,First_Name,Last_Name\r\n${tag}-1@example.test,A,B\r\nbroken\r\n${tag}-2@example.test,C,D\r\n`;
      const res = await importCsv(w.tokens.organisateur, Buffer.from(body, 'utf8'));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.created, 2);
      assert.deepEqual(
        (res.body.errors as { line: number }[]).map((x) => x.line),
        [3],
      );
      const roles: { role: string }[] = await t.db.query(
        `SELECT a.role FROM users u JOIN user_event_assignments a ON a.user_id = u.id AND a.event_id = $1
          WHERE u.email LIKE $2`,
        [w.event.id, `${tag}-%`],
      );
      assert.deepEqual(
        roles.map((r) => r.role),
        ['participant', 'participant'],
      );
    });

    it('existing members: roles updated, but not an organisateur’s nor one’s own (reported); accounts with a password keep their names', async () => {
      const w = await createWorld(t);
      const org = w.tokens.organisateur;
      const member = await createMember(t, w.event.id, 'participant', { firstName: 'Chosen', lastName: 'Name' });
      const second = await createUser(t);
      await assign(t, w.event.id, second.id, 'organisateur');
      const file = csv([
        CSV_HEADER,
        `${member.user.email},Imported,Name,exposant`, // 2: role updated, names kept (claimed account)
        `${second.email},X,Y,participant`, // 3: another organisateur is not demoted by import
        `${w.users.organisateur.email},X,Y,participant`, // 4: nor is the caller
      ]);
      const res = await importCsv(org, file);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.created, 0);
      assert.equal(res.body.updated, 1);
      assert.deepEqual(
        (res.body.errors as { line: number }[]).map((x) => x.line),
        [3, 4],
      );
      assert.equal(await roleOf(w.event.id, member.user.id), 'exposant');
      assert.equal(await roleOf(w.event.id, second.id), 'organisateur');
      assert.equal(await roleOf(w.event.id, w.users.organisateur.id), 'organisateur');
      const names: { first_name: string }[] = await t.db.query('SELECT first_name FROM users WHERE id = $1', [
        member.user.id,
      ]);
      assert.equal(names[0]?.first_name, 'Chosen');
      assert.equal(await badgeOfUser(w.event.id, member.user.id), member.participant.id, 'the badge is kept');
    });

    it('a wrong header, an empty file or no file part: 400 with nothing written; not multipart: 415', async () => {
      const w = await createWorld(t);
      const org = w.tokens.organisateur;
      const tag = uniq('hdr');
      const before = await snapshot(w.event.id);
      for (const header of [
        'mail,first_name,last_name,role',
        'first_name,last_name,role',
        'email,email,last_name',
        `${tag}-0@example.test,A,B,participant`,
      ]) {
        const res = await importCsv(org, csv([header, `${tag}-1@example.test,A,B,participant`]));
        expectValidation(res, 'file');
      }
      expectValidation(await importCsv(org, Buffer.alloc(0)), 'file');
      expectValidation(
        await t.http
          .post('/api/participants/import/')
          .set(bearer(org))
          .attach('document', csv([CSV_HEADER]), 'people.csv'),
        'file',
      );
      expectError(
        await t.http
          .post('/api/participants/import/')
          .set(bearer(org))
          .send({ file: `${CSV_HEADER}\n${tag}-2@example.test,A,B,participant` }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      expectError(
        await t.http
          .post('/api/participants/import/')
          .set(bearer(org))
          .set('Content-Type', 'text/csv')
          .send(`${CSV_HEADER}\n${tag}-3@example.test,A,B,participant`),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      assert.deepEqual(await snapshot(w.event.id), before);
      assert.equal(await countRows(t, 'users', 'email LIKE $1', [`${tag}-%`]), 0);

      const headerOnly = await importCsv(org, csv([CSV_HEADER]));
      assert.equal(headerOnly.status, 200, headerOnly.text);
      assert.deepEqual(headerOnly.body, { created: 0, updated: 0, errors: [] });
    });

    it('10,000 lines with 50 bad ones: quick, the bad lines reported, every good person has a badge', async () => {
      const w = await createWorld(t);
      const tag = uniq('big');
      const lines = [CSV_HEADER];
      const bad: number[] = [];
      const kinds = [
        (i: number) => `not-an-email-${i},Bad,Email,participant`,
        (i: number) => `${tag}-${i}@example.test,Bad,Role,speaker`,
        (i: number) => `${tag}-${i}@example.test,Too,Few`,
        (i: number) => `${tag}-${i - 1}@example.test,Dup,Licate,participant`,
      ];
      for (let i = 0; i < 10_000; i++) {
        if (i % 200 === 199) {
          lines.push((kinds[bad.length % kinds.length] as (i: number) => string)(i));
          bad.push(i + 2);
        } else {
          lines.push(`${tag}-${i}@example.test,First${i},Last${i},${i % 10 === 0 ? 'exposant' : 'participant'}`);
        }
      }
      assert.equal(bad.length, 50);
      const file = csv(lines);
      const started = performance.now();
      const res = await importCsv(w.tokens.organisateur, file);
      const ms = Math.round(performance.now() - started);
      console.log('import 10,000 lines:', ms, 'ms');
      assert.equal(res.status, 200, res.text.slice(0, 500));
      assert.ok(ms < 30_000, `import took ${ms} ms`);
      assert.equal(res.body.created, 10_000 - 50);
      assert.equal(res.body.updated, 0);
      assert.deepEqual(
        (res.body.errors as { line: number }[]).map((x) => x.line),
        bad,
      );

      // Fresh statistics: planned on the counts of before the import, this join once ran past the 15 s query timeout.
      await t.db.query('ANALYZE users, user_event_assignments, participants');
      const counts: { users: string; members: string; badges: string; exposants: string }[] = await t.db.query(
        `SELECT count(u.id) AS users, count(a.id) AS members, count(p.id) AS badges,
                count(*) FILTER (WHERE a.role = 'exposant') AS exposants
           FROM users u
           LEFT JOIN user_event_assignments a ON a.user_id = u.id AND a.event_id = $1
           LEFT JOIN participants p ON p.user_id = u.id AND p.event_id = $1
          WHERE u.email LIKE $2`,
        [w.event.id, `${tag}-%`],
      );
      assert.deepEqual(counts[0], { users: '9950', members: '9950', badges: '9950', exposants: '1000' });
      assert.equal(await countRows(t, 'participants', 'event_id = $1', [w.event.id]), 9950);
      const distinct: { n: string }[] = await t.db.query(
        'SELECT count(DISTINCT badge_id) AS n FROM participants WHERE event_id = $1',
        [w.event.id],
      );
      assert.equal(distinct[0]?.n, '9950');
      // The organisateur's list sees them all.
      const list = await get('/api/participants/?page_size=1', w.tokens.organisateur).expect(200);
      assert.equal(list.body.count, 9950);
    });

    it('concurrent imports of the same people in opposite orders, into two events and one: all succeed', async () => {
      // Each import is one transaction that locks the accounts it creates. Taken in file order, two files listing the
      // same people in another order lock them in opposite orders and deadlock (one import fails with a 503).
      const w = await createWorld(t);
      const other = await createWorld(t);
      const tag = uniq('order');
      const lines = Array.from({ length: 3000 }, (_, i) => `${tag}-${i}@example.test,F${i},L${i},participant`);
      const forward = csv([CSV_HEADER, ...lines]);
      const backward = csv([CSV_HEADER, ...[...lines].reverse()]);
      const responses = await Promise.all([
        fire(importCsv(w.tokens.organisateur, forward)),
        fire(importCsv(other.tokens.organisateur, backward)),
        fire(importCsv(w.tokens.organisateur, backward)),
      ]);
      assert.deepEqual(
        responses.map((r) => r.status),
        [200, 200, 200],
        responses.map((r) => r.text.slice(0, 200)).join('\n'),
      );
      const [a, b, c] = responses.map((r) => r.body as { created: number; updated: number; errors: unknown[] });
      assert.deepEqual(b, { created: 3000, updated: 0, errors: [] });
      // In the shared event, each person was added by exactly one of the two imports.
      assert.equal((a?.created ?? 0) + (c?.created ?? 0), 3000);
      assert.equal((a?.updated ?? 0) + (c?.updated ?? 0), 3000);
      assert.equal(await countRows(t, 'users', 'email LIKE $1', [`${tag}-%`]), 3000);
      for (const eventId of [w.event.id, other.event.id]) {
        assert.equal(
          await countRows(t, 'participants p JOIN users u ON u.id = p.user_id', 'p.event_id = $1 AND u.email LIKE $2', [
            eventId,
            `${tag}-%`,
          ]),
          3000,
        );
      }
    });

    it('more than 10,000 data lines, or a wrong header on a large file: 400 and nothing written', async () => {
      const w = await createWorld(t);
      const tag = uniq('huge');
      const body = (n: number, header = CSV_HEADER): Buffer => {
        const lines = [header];
        for (let i = 0; i < n; i++) lines.push(`${tag}-${i}@example.test,F,L,participant`);
        return csv(lines);
      };
      const before = await snapshot(w.event.id);
      // Just over the limit, well over it (the parser stops while the upload still streams in), and a bad header
      // followed by many lines: each is answered (none hangs) with the documented error.
      for (const file of [body(10_001), body(40_000), body(40_000, 'mail,first_name,last_name,role')]) {
        expectValidation(await importCsv(w.tokens.organisateur, file), 'file');
      }
      assert.deepEqual(await snapshot(w.event.id), before);
      assert.equal(await countRows(t, 'users', 'email LIKE $1', [`${tag}-%`]), 0);
      // Exactly 10,000 is accepted (the limit counts data lines, not the header).
      const ok = await importCsv(w.tokens.organisateur, body(10_000));
      assert.equal(ok.status, 200, ok.text.slice(0, 300));
      assert.equal(ok.body.created, 10_000);
    });
  });
});

describe('participants, with a 1 MB upload limit', () => {
  let t: TestApp;
  let uploadDir: string;
  before(async () => {
    uploadDir = mkdtempSync(join(tmpdir(), 'makeplus-participants-limit-'));
    t = await bootTestApp({ UPLOAD_DIR: uploadDir, MAX_UPLOAD_MB: '1' });
  });
  after(async () => {
    await t.close();
    rmSync(uploadDir, { recursive: true, force: true });
  });

  it('an import larger than MAX_UPLOAD_MB: 413 PAYLOAD_TOO_LARGE, nothing written, even for its first lines', async () => {
    const w = await createWorld(t);
    const tag = uniq('large');
    const pad = 'x'.repeat(100);
    const lines = [CSV_HEADER];
    for (let i = 0; i < 9_000; i++) lines.push(`${tag}-${i}@example.test,${pad},${pad},participant`);
    const file = csv(lines);
    assert.ok(file.length > 2 * 1024 * 1024);
    const res = await t.http
      .post('/api/participants/import/')
      .set(bearer(w.tokens.organisateur))
      .attach('file', file, 'people.csv')
      .timeout(IMPORT_TIMEOUT_MS);
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    assert.equal(await countRows(t, 'users', 'email LIKE $1', [`${tag}-%`]), 0);
    assert.equal(await countRows(t, 'participants', 'event_id = $1', [w.event.id]), 0);
  });
});
