/**
 * OWASP API Security Top 10 2023 — API5 Broken Function Level Authorization.
 *
 * Every route the application registers (read from the controllers' metadata at run time, so routes added later are
 * swept too) is called for real with every event role, without a token, with a token that selected no event and with
 * a selection token. Refused callers must get 401/403 from the guard and never reach the handler; the event's data
 * must be byte-for-byte unchanged after the refused sweep. Allowed roles must pass the guard (control: the sweep's
 * requests are able to reach a handler). permissions.e2e-spec.ts pins the table itself; this file checks that the
 * running server enforces it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'supertest';
import { EVENT_ROLES, STAFF_ROLES, type EventRole } from '../../src/common/auth/event-role';
import { expectError } from '../helpers/assertions';
import { assign, bearer, createEvent, createUser, openSession, PASSWORD } from '../helpers/factories';
import { listRoutes, type RouteInfo } from '../helpers/routes';
import { closeAllClients, connect, request } from '../helpers/sockets';
import { bootTestApp, type TestApp } from '../helpers/test-app';
import { accessRoles, concretePath, createRichWorld, eventDigest, type RichWorld } from './fixtures';

/** What the guard says, and only the guard: a handler's own 403 has another detail. */
const GUARD_FORBIDDEN = 'Your role does not allow this action';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

describe('API5 function level authorization', () => {
  let t: TestApp;
  let w: RichWorld;
  let routes: RouteInfo[];

  before(async () => {
    t = await bootTestApp();
    w = await createRichWorld(t);
    routes = listRoutes(t.app);
    assert.ok(routes.length > 50, `the app's routes, found ${routes.length}`);
  });
  after(async () => {
    closeAllClients();
    await t.close();
  });

  function call(route: RouteInfo, token: string | null, path = concretePath(route.path, w)): Promise<Response> {
    const test = t.http[route.method.toLowerCase() as Method](path);
    if (token) test.set(bearer(token));
    return route.method === 'GET' || route.method === 'DELETE' ? test : test.send({});
  }

  const label = (r: RouteInfo) => `${r.method} ${r.path}`;

  it('every route declares a policy (deny by default)', () => {
    assert.deepEqual(routes.filter((r) => !r.policy).map(label), []);
  });

  it('routes that no access token opens (selection, bot tokens) refuse every role’s access token with 401', async () => {
    const before = await eventDigest(t, w.event.id);
    const others = routes.filter((r) => r.policy?.kind !== 'public' && accessRoles(r.policy) === null);
    for (const route of others) {
      for (const role of EVENT_ROLES) {
        const res = await call(route, w.tokens[role]);
        assert.equal(res.status, 401, `${role} → ${label(route)}: ${res.status} ${res.text}`);
      }
    }
    assert.ok(others.length > 0, 'at least the selection route');
    assert.deepEqual(await eventDigest(t, w.event.id), before);
  });

  it('each event role is refused with 403 FORBIDDEN on every route its role does not allow; nothing changes', async () => {
    const before = await eventDigest(t, w.event.id);
    let refused = 0;
    for (const route of routes) {
      if (route.policy?.kind !== 'event') continue;
      const { roles } = route.policy;
      for (const role of EVENT_ROLES.filter((r) => !roles.includes(r))) {
        const res = await call(route, w.tokens[role]);
        assert.equal(res.status, 403, `${role} → ${label(route)}: ${res.status} ${res.text}`);
        assert.equal(expectError(res, 403, 'FORBIDDEN').detail, GUARD_FORBIDDEN, `${role} → ${label(route)}`);
        refused++;
      }
    }
    assert.ok(refused > 150, `refused calls made: ${refused}`);
    assert.deepEqual(await eventDigest(t, w.event.id), before, 'refused calls wrote nothing');
  });

  it('event-creator routes: a member who is organisateur nowhere is refused; nothing is created', async () => {
    const creators = routes.filter((r) => r.policy?.kind === 'event-creator');
    assert.ok(creators.length > 0);
    const events = await t.db.query('SELECT count(*)::int AS n FROM events WHERE created_by_id = $1', [
      w.users.participant.id,
    ]);
    for (const route of creators) {
      for (const role of EVENT_ROLES.filter((r) => r !== 'organisateur')) {
        expectError(await call(route, w.tokens[role]), 403, 'FORBIDDEN');
      }
    }
    assert.deepEqual(
      await t.db.query('SELECT count(*)::int AS n FROM events WHERE created_by_id = $1', [w.users.participant.id]),
      events,
    );
  });

  it('without a token every non-public route is 401 AUTH_REQUIRED; nothing changes', async () => {
    const before = await eventDigest(t, w.event.id);
    for (const route of routes.filter((r) => r.policy?.kind !== 'public')) {
      expectError(await call(route, null), 401, 'AUTH_REQUIRED');
    }
    assert.deepEqual(await eventDigest(t, w.event.id), before);
  });

  it('a token with no selected event is 403 EVENT_REQUIRED on every event route', async () => {
    const user = await createUser(t);
    const token = (await openSession(t, user.id, null)).access;
    for (const route of routes.filter((r) => r.policy?.kind === 'event')) {
      expectError(await call(route, token), 403, 'EVENT_REQUIRED');
    }
  });

  it('a selection token (temp_token) opens no access route; an access token opens no selection route', async () => {
    const user = await createUser(t);
    const other = await createEvent(t);
    await assign(t, w.event.id, user.id, 'organisateur');
    await assign(t, other.id, user.id, 'organisateur');
    const login = await t.http.post('/api/auth/login').send({ email: user.email, password: PASSWORD }).expect(200);
    const temp = login.body.temp_token as string;
    for (const route of routes.filter((r) => accessRoles(r.policy) !== null)) {
      expectError(await call(route, temp), 401, 'TOKEN_INVALID');
    }
    for (const route of routes.filter((r) => r.policy?.kind === 'selection')) {
      expectError(await call(route, w.tokens.organisateur), 401, 'TOKEN_INVALID');
    }
  });

  it('socket messages: staff-only and moderator-only events refuse the other roles; nothing changes', async () => {
    // The gateway's table (src/realtime/realtime.gateway.ts): joinSession, leaveSession, markAttendance are for any
    // member (markAttendance needs a badge), the rest below for the roles named.
    const table: Record<string, { roles: readonly EventRole[]; payload: object }> = {
      joinRoom: { roles: STAFF_ROLES, payload: { room_id: w.roomId } },
      getAttendanceStats: { roles: STAFF_ROLES, payload: { session_id: w.sessionId } },
      sessionUpdate: {
        roles: ['organisateur', 'gestionnaire_des_salles'],
        payload: { session_id: w.sessionId, title: 'Hijacked' },
      },
    };
    const before = await eventDigest(t, w.event.id);
    for (const role of EVENT_ROLES) {
      const socket = await connect(t, w.tokens[role]);
      for (const [event, { roles, payload }] of Object.entries(table)) {
        const ack = await request(socket, event, payload);
        if (roles.includes(role)) {
          if (event !== 'sessionUpdate') assert.equal(ack.ok, true, `${role} ${event}: ${JSON.stringify(ack)}`);
        } else {
          assert.equal(ack.ok, false, `${role} ${event}`);
          assert.equal((ack as { error: { code: string } }).error.code, 'FORBIDDEN', `${role} ${event}`);
        }
      }
      socket.close();
    }
    // The allowed sessionUpdate calls renamed the session: that is the only change.
    const after = await eventDigest(t, w.event.id);
    assert.deepEqual({ ...after, sessions: 'x' }, { ...before, sessions: 'x' });
  });

  it('control: allowed roles pass the guard on every route (reads with real ids, writes with unknown ids)', async () => {
    const passed: string[] = [];
    for (const route of routes) {
      const roles = accessRoles(route.policy);
      if (!roles) continue;
      for (const role of roles) {
        // A write gets ids of no object and an empty body, so that it cannot change the world of the other tests;
        // a fresh session, since a write may be a logout.
        const write = route.method !== 'GET';
        const path = write
          ? route.path.replace(/\{kind\}/, 'programme').replace(/\{\w+\}/g, () => randomUUID())
          : undefined;
        const token = write ? (await openSession(t, w.users[role].id, w.event.id)).access : w.tokens[role];
        const res = await call(route, token, path);
        const where = `${role} → ${route.method} ${path ?? concretePath(route.path, w)}: ${res.status} ${res.text}`;
        assert.ok(res.status !== 401 && res.status < 500, where);
        assert.ok(res.status !== 403 || res.body.detail !== GUARD_FORBIDDEN, where);
        if (!write && res.status >= 200 && res.status < 300) passed.push(`${role} ${label(route)}`);
      }
    }
    // Most reads of real objects succeed outright: the sweep above does reach the handlers.
    assert.ok(passed.length > 100, `successful reads: ${passed.length}`);
  });
});
