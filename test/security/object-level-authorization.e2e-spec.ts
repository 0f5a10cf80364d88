/**
 * OWASP API Security Top 10 2023 — API1 Broken Object Level Authorization (and the object-level half of API3: what
 * another person's object would reveal).
 *
 * Across events: every route of the app that names an object in its path is called with the token of event A
 * (with a role the route allows) and the real ids of event B's objects: 404 NOT_FOUND (never 403, never B's data), and
 * B is byte-for-byte unchanged. Across people of one event: an exhibitor never reads, changes or exports another
 * exhibitor's leads; a participant never gets another participant's badge, QR or plan; a controller never reads
 * another controller's scans; lists never carry other people's QR text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'supertest';
import { EVENT_ROLES, type EventRole } from '../../src/common/auth/event-role';
import { expectError } from '../helpers/assertions';
import { bearer, createMember, type World } from '../helpers/factories';
import { listRoutes, type RouteInfo } from '../helpers/routes';
import { closeAllClients, connect, request } from '../helpers/sockets';
import { bootTestApp, type TestApp } from '../helpers/test-app';
import { accessRoles, concretePath, createRichWorld, eventDigest, type RichWorld } from './fixtures';

/**
 * Routes that by design act on an event the caller need not belong to (API.md, "Scope"): self-registration. They are
 * still refused for event B here (registration closed), which the sweep checks separately.
 */
const JOIN_ROUTES = new Set(['/api/events/{id}/register', '/api/events/{id}/registration']);

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

describe('API1 broken object level authorization', () => {
  let t: TestApp;
  let a: RichWorld;
  let b: RichWorld;
  before(async () => {
    t = await bootTestApp();
    a = await createRichWorld(t);
    b = await createRichWorld(t);
  });
  after(async () => {
    closeAllClients();
    await t.close();
  });

  /** A role of world `w` that the route allows (the strongest first), or null for routes without event roles. */
  function allowedRole(route: RouteInfo): EventRole | null {
    const roles = accessRoles(route.policy);
    return EVENT_ROLES.find((r) => roles?.includes(r)) ?? null;
  }

  async function call(route: RouteInfo, token: string, path: string): Promise<Response> {
    const send = (body?: object) => {
      const test = t.http[route.method.toLowerCase() as Method](path).set(bearer(token));
      return body ? test.send(body) : test;
    };
    if (route.method === 'GET') return send();
    if (route.method !== 'DELETE') return send({});
    // A removal that needs a reason gets one, so that it reaches the lookup.
    const res = await send();
    return res.body.errors?.reason ? send({ reason: 'security sweep' }) : res;
  }

  it("event A's tokens on every route naming event B's objects: 404, nothing of B leaks, B unchanged", async () => {
    const before = await eventDigest(t, b.event.id);
    const bIds = new Set(
      [b.roomId, b.sessionId, b.badge.id, b.annonceId, b.questionId, b.leadId, b.accessId, b.attendanceId].map(String),
    );
    let swept = 0;
    for (const route of listRoutes(t.app).filter((r) => r.path.includes('{'))) {
      const role = allowedRole(route);
      if (!role || JOIN_ROUTES.has(route.path)) continue;
      const path = concretePath(route.path, b);
      const res = await call(route, a.tokens[role], path);
      const where = `${role} of A → ${route.method} ${path}: ${res.status} ${res.text.slice(0, 200)}`;
      if (route.method === 'GET' || route.method === 'DELETE') {
        expectError(res, 404, 'NOT_FOUND');
      } else {
        // A write body is validated before the object is looked up: an empty one may be a 400 first.
        assert.ok(res.status === 404 || res.status === 400, where);
      }
      for (const id of bIds) assert.ok(!res.text.includes(id) || path.includes(id), `${where} leaks ${id}`);
      swept++;
    }
    assert.ok(swept > 50, `routes swept: ${swept}`);
    assert.deepEqual(await eventDigest(t, b.event.id), before, 'event B is unchanged');
  });

  it("over the socket, event B's sessions and rooms do not exist for event A: NOT_FOUND, no room joined", async () => {
    const socket = await connect(t, a.tokens.organisateur);
    for (const [event, payload] of [
      ['joinSession', { session_id: b.sessionId }],
      ['joinRoom', { room_id: b.roomId }],
      ['getAttendanceStats', { session_id: b.sessionId }],
      ['sessionUpdate', { session_id: b.sessionId, title: 'Hijacked' }],
      ['sessionUpdate', { session_id: b.sessionId, action: 'cancel' }],
    ] as [string, object][]) {
      const ack = await request(socket, event, payload);
      assert.equal(ack.ok, false, event);
      assert.equal((ack as { error: { code: string } }).error.code, 'NOT_FOUND', `${event}: ${JSON.stringify(ack)}`);
    }
    const rows: { title: string; status: string }[] = await t.db.query(
      'SELECT title, status FROM sessions WHERE id = $1',
      [b.sessionId],
    );
    assert.notEqual(rows[0]?.title, 'Hijacked');
    assert.equal(rows[0]?.status, 'scheduled');
  });

  it("self-registration routes do not open event B either: closed → 409, no registration of B's is shown", async () => {
    const res = await t.http.post(`/api/events/${b.event.id}/register`).set(bearer(a.tokens.participant));
    expectError(res, 409, 'REGISTRATION_CLOSED');
    expectError(
      await t.http.get(`/api/events/${b.event.id}/registration`).set(bearer(a.tokens.participant)),
      404,
      'NOT_FOUND',
    );
  });

  it("?event= naming event B on A's lists is refused, never B's rows", async () => {
    for (const path of ['/api/rooms', '/api/sessions', '/api/participants', '/api/room-access', '/api/annonces']) {
      const res = await t.http.get(path).query({ event: b.event.id }).set(bearer(a.tokens.organisateur));
      assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
      assert.doesNotMatch(res.text, new RegExp(b.roomId));
    }
  });

  describe('between exhibitors of one event', () => {
    it("exhibitor 2 cannot list, read, change or export exhibitor 1's leads", async () => {
      const other = await createMember(t, a.event.id, 'exposant');
      const token = other.token;
      const list = await t.http.get('/api/exposant/scans').set(bearer(token)).expect(200);
      assert.equal(list.body.count, 0);
      expectError(
        await t.http.patch(`/api/exposant/scans/${a.leadId}`).set(bearer(token)).send({ notes: 'mine now', rating: 0 }),
        404,
        'NOT_FOUND',
      );
      const stats = await t.http.get('/api/exposant/statistics').set(bearer(token)).expect(200);
      assert.equal(stats.body.total_visits, 0);
      const csv = await t.http.get('/api/exposant/scans.csv').set(bearer(token)).expect(200);
      assert.doesNotMatch(csv.text, new RegExp(a.users.participant.lastName));
      const rows: { notes: string | null }[] = await t.db.query('SELECT notes FROM exposant_scans WHERE id = $1', [
        a.leadId,
      ]);
      assert.equal(rows[0]?.notes, null, 'the lead is unchanged');
      // Control: its owner does see and change it.
      await t.http
        .patch(`/api/exposant/scans/${a.leadId}`)
        .set(bearer(a.tokens.exposant))
        .send({ rating: 4 })
        .expect(200);
    });
  });

  describe("between participants of one event: another's badge and QR", () => {
    let owner: World['users']['participant'];
    before(() => {
      owner = a.users.participant;
    });

    it('badge.png, badge.svg, plan and the participant object of another person are refused, QR never shown', async () => {
      const intruder = await createMember(t, a.event.id, 'participant');
      for (const suffix of ['badge.png', 'badge.svg', 'plan', '']) {
        const res = await t.http.get(`/api/participants/${a.badge.id}/${suffix}`).set(bearer(intruder.token));
        assert.ok([403, 404].includes(res.status), `${suffix}: ${res.status}`);
        expectError(res, res.status, res.status === 403 ? 'FORBIDDEN' : 'NOT_FOUND');
        assert.ok(!res.text.includes(a.badge.qr), `${suffix} leaks the QR`);
      }
      const mine = await t.http.get('/api/participants/me').set(bearer(intruder.token)).expect(200);
      assert.equal(mine.body.qr_code_data, intruder.qr);
      assert.notEqual(mine.body.user, owner.id);
      // Control: the owner gets the image.
      await t.http.get(`/api/participants/${a.badge.id}/badge.png`).set(bearer(a.tokens.participant)).expect(200);
    });

    it('an exhibitor (who scans badges) gets no badge image or QR of a visitor either', async () => {
      for (const suffix of ['badge.png', 'badge.svg']) {
        const res = await t.http.get(`/api/participants/${a.badge.id}/${suffix}`).set(bearer(a.tokens.exposant));
        assert.ok([403, 404].includes(res.status), `${suffix}: ${res.status}`);
      }
      const leads = await t.http.get('/api/exposant/scans').set(bearer(a.tokens.exposant)).expect(200);
      assert.ok(!leads.text.includes(a.badge.qr));
    });

    it("staff lists and the access log never carry anyone's QR text", async () => {
      for (const [path, role] of [
        ['/api/participants', 'organisateur'],
        ['/api/participants', 'gestionnaire_des_salles'],
        ['/api/room-access', 'organisateur'],
        ['/api/events/' + a.event.id + '/attendees', 'organisateur'],
        ['/api/scans/manifest', 'controlleur_des_badges'],
      ] as [string, EventRole][]) {
        const res = await t.http.get(path).set(bearer(a.tokens[role]));
        assert.equal(res.status, 200, `${path}: ${res.status}`);
        assert.ok(!res.text.includes(a.badge.qr) && !res.text.includes(a.exposantBadge.qr), `${path} leaks a QR`);
      }
    });
  });

  describe('between controllers of one event', () => {
    it("a controller reads their own scans only: another's access row is 404 and absent from the list", async () => {
      const second = await createMember(t, a.event.id, 'controlleur_des_badges');
      // The world's access row was scanned by the organisateur.
      expectError(await t.http.get(`/api/room-access/${a.accessId}`).set(bearer(second.token)), 404, 'NOT_FOUND');
      const list = await t.http.get('/api/room-access').set(bearer(second.token)).expect(200);
      assert.equal(list.body.count, 0);
    });
  });
});
