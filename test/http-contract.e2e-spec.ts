/**
 * Cross-cutting HTTP behaviour of API.md "Conventions": the one error body, auth failures, bad input of every kind,
 * routing, request ids, security headers, CORS, the OpenAPI document and pagination. Every refused write is checked
 * to have written nothing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import type { Response } from 'supertest';
import type { AuthPolicy } from '../src/common/auth/auth.decorators';
import { SessionsService } from '../src/modules/auth/sessions.service';
import {
  assign,
  bearer,
  countRows,
  createEvent,
  createUser,
  createWorld,
  openSession,
  PASSWORD,
  uniq,
  type World,
} from './helpers/factories';
import { expectError, expectValidation } from './helpers/assertions';
import { listRoutes } from './helpers/routes';
import { bootTestApp, TEST_JWT_SECRET, type TestApp } from './helpers/test-app';

/** The `errors` map of a 400 VALIDATION_FAILED naming each of `fields`. */
const assertValidation = (res: Response, fields: string[]): Record<string, string[]> =>
  expectValidation(res, ...fields).errors as Record<string, string[]>;

const b64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

describe('http contract', () => {
  let t: TestApp;
  let world: World;
  /** A real session of the organisateur, for forging tokens that differ from a valid one in one respect only. */
  let claims: { sub: string; sid: string; event_id: string; jti: string; typ: 'access' };
  let realAccess: string;

  before(async () => {
    t = await bootTestApp();
    world = await createWorld(t);
    const user = world.users.organisateur;
    realAccess = (await openSession(t, user.id, world.event.id)).access;
    const { iat: _iat, exp: _exp, ...decoded } = jwt.decode(realAccess) as typeof claims & { iat: number; exp: number };
    claims = decoded;
    assert.equal(claims.sub, user.id);
  });
  after(() => t.close());

  const eventBody = (name: string) => ({
    name,
    start_date: '2030-01-01T09:00:00Z',
    end_date: '2030-01-02T18:00:00Z',
  });
  const eventsNamed = (name: string) => countRows(t, 'events', 'name = $1', [name]);
  const usersWithEmail = (email: string) => countRows(t, 'users', 'email = $1', [email.toLowerCase()]);
  const registerBody = (email: string) => ({ email, password: 'a-long-password-1', first_name: 'Ada', last_name: 'L' });

  describe('authentication', () => {
    it('no token: 401 AUTH_REQUIRED on every protected kind of route, nothing written', async () => {
      const name = uniq('NoToken ');
      expectError(await t.http.get('/api/auth/profile'), 401, 'AUTH_REQUIRED');
      expectError(await t.http.get('/api/events'), 401, 'AUTH_REQUIRED');
      expectError(await t.http.get('/api/user-assignments'), 401, 'AUTH_REQUIRED');
      expectError(await t.http.post('/api/events').send(eventBody(name)), 401, 'AUTH_REQUIRED');
      expectError(await t.http.post('/api/auth/select-event').send({ event_id: randomUUID() }), 401, 'AUTH_REQUIRED');
      assert.equal(await eventsNamed(name), 0);
    });

    it('a header that is not a bearer token is AUTH_REQUIRED', async () => {
      for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', realAccess, `Token ${realAccess}`]) {
        expectError(await t.http.get('/api/auth/profile').set('Authorization', header), 401, 'AUTH_REQUIRED');
      }
    });

    it('the unforged token works (control for the forgeries below)', async () => {
      const res = await t.http.get('/api/auth/profile').set(bearer(realAccess));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.id, claims.sub);
      const reSigned = jwt.sign({ ...claims, jti: randomUUID() }, TEST_JWT_SECRET, {
        algorithm: 'HS256',
        expiresIn: 60,
      });
      assert.equal((await t.http.get('/api/auth/profile').set(bearer(reSigned))).status, 200);
    });

    const forgeries: [string, () => string][] = [
      ['garbage', () => 'not-a-jwt'],
      ['three garbage segments', () => 'abc.def.ghi'],
      ['signed with another secret', () => jwt.sign(claims, 'another-secret-another-secret-0123456789ab')],
      ['alg none', () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ ...claims, iat: now() })}.`],
      ['alg HS512 with the right secret', () => jwt.sign(claims, TEST_JWT_SECRET, { algorithm: 'HS512' })],
      [
        'payload swapped under a valid signature',
        () => {
          const [h, , s] = realAccess.split('.');
          return `${h}.${b64url({ ...claims, sub: randomUUID() })}.${s}`;
        },
      ],
      ['expired', () => jwt.sign({ ...claims, iat: now() - 3600, exp: now() - 60 }, TEST_JWT_SECRET)],
      ['not yet valid', () => jwt.sign({ ...claims, nbf: now() + 3600 }, TEST_JWT_SECRET)],
      ['typ select on an access route', () => jwt.sign({ sub: claims.sub, typ: 'select' }, TEST_JWT_SECRET)],
      ['no typ', () => jwt.sign({ ...claims, typ: undefined }, TEST_JWT_SECRET)],
      ['sid of no session', () => jwt.sign({ ...claims, sid: randomUUID() }, TEST_JWT_SECRET)],
      [
        'sid of the session of another user',
        () => jwt.sign({ ...claims, sub: world.users.exposant.id }, TEST_JWT_SECRET),
      ],
      ['event_id other than the session', () => jwt.sign({ ...claims, event_id: randomUUID() }, TEST_JWT_SECRET)],
    ];
    for (const [label, forge] of forgeries) {
      it(`${label}: 401 TOKEN_INVALID, nothing written`, async () => {
        const token = forge();
        const name = uniq('Forged ');
        const email = `${uniq('forged')}@example.test`;
        expectError(await t.http.get('/api/auth/profile').set(bearer(token)), 401, 'TOKEN_INVALID');
        expectError(await t.http.get('/api/user-assignments').set(bearer(token)), 401, 'TOKEN_INVALID');
        expectError(await t.http.post('/api/events').set(bearer(token)).send(eventBody(name)), 401, 'TOKEN_INVALID');
        expectError(
          await t.http.post('/api/user-assignments').set(bearer(token)).send({ email, role: 'participant' }),
          401,
          'TOKEN_INVALID',
        );
        assert.equal(await eventsNamed(name), 0);
        assert.equal(await usersWithEmail(email), 0);
      });
    }

    it('a malformed sid under a valid signature is a 401 too, not a database error', async () => {
      const token = jwt.sign({ ...claims, sid: 'not-a-uuid' }, TEST_JWT_SECRET);
      expectError(await t.http.get('/api/auth/profile').set(bearer(token)), 401, 'TOKEN_INVALID');
    });

    it('selection tokens and access tokens are not interchangeable; an expired selection token is refused', async () => {
      // A genuine selection token: the login of a member of two events.
      const user = await createUser(t);
      const [first, second] = [await createEvent(t), await createEvent(t)];
      await assign(t, first.id, user.id, 'participant');
      await assign(t, second.id, user.id, 'exposant');
      const login = await t.http.post('/api/auth/login').send({ email: user.email, password: PASSWORD });
      assert.equal(login.status, 200, login.text);
      const temp = login.body.temp_token as string;
      assert.equal(typeof temp, 'string');

      const select = (token: string) =>
        t.http.post('/api/auth/select-event').set(bearer(token)).send({ event_id: first.id });
      const sessions = () => countRows(t, 'auth_sessions', 'user_id = $1', [user.id]);
      expectError(await t.http.get('/api/auth/profile').set(bearer(temp)), 401, 'TOKEN_INVALID');
      expectError(await t.http.get('/api/user-assignments').set(bearer(temp)), 401, 'TOKEN_INVALID');
      const own = (await openSession(t, user.id, first.id)).access;
      expectError(await select(own), 401, 'TOKEN_INVALID');
      const { iat: _iat, exp: _exp, ...tempClaims } = jwt.decode(temp) as Record<string, unknown>;
      const expired = jwt.sign({ ...tempClaims, iat: now() - 3600, exp: now() - 60 }, TEST_JWT_SECRET);
      expectError(await select(expired), 401, 'TOKEN_INVALID');
      const otherSecret = jwt.sign(tempClaims, 'another-secret-another-secret-0123456789ab', { expiresIn: 60 });
      expectError(await select(otherSecret), 401, 'TOKEN_INVALID');
      assert.equal(await sessions(), 1, 'only the session opened by the test itself');

      const accepted = await select(temp);
      assert.equal(accepted.status, 200, `control: the genuine selection token is accepted: ${accepted.text}`);
      assert.equal(await sessions(), 2);
    });

    it('a revoked session stops its still-unexpired token at once', async () => {
      const user = await createUser(t);
      const pair = await openSession(t, user.id, null);
      assert.equal((await t.http.get('/api/auth/profile').set(bearer(pair.access))).status, 200);
      const { sid } = jwt.decode(pair.access) as { sid: string };
      await t.app.get(SessionsService, { strict: false }).revoke(sid, 'logout');
      expectError(await t.http.get('/api/auth/profile').set(bearer(pair.access)), 401, 'TOKEN_INVALID');
    });
  });

  describe('bad input', () => {
    it('malformed UUIDs in paths: 400 VALIDATION_FAILED naming the parameter, nothing changed', async () => {
      const org = bearer(world.tokens.organisateur);
      const cases = [
        t.http.get('/api/events/not-a-uuid').set(org),
        t.http.get('/api/events/not-a-uuid/status').set(org),
        t.http.get(`/api/events/${world.event.id}x`).set(org),
        t.http.get('/api/user-assignments/123').set(org),
        t.http.patch('/api/user-assignments/123').set(org).send({ role: 'participant' }),
        t.http.delete('/api/user-assignments/123').set(org),
        t.http.delete("/api/events/1' OR '1'='1").set(org),
        t.http.patch('/api/events/%20').set(org).send({ name: 'x' }),
      ];
      for (const res of await Promise.all(cases)) assertValidation(res, ['id']);
      assert.equal(await countRows(t, 'events', 'id = $1', [world.event.id]), 1);
      assert.equal(await countRows(t, 'user_event_assignments', 'event_id = $1', [world.event.id]), 5);
    });

    it('wrong types: 400 with a field map, nothing written', async () => {
      const res = await t.http
        .post('/api/auth/register')
        .send({ email: 5, password: 12345678, first_name: [], last_name: {} });
      assertValidation(res, ['email', 'password', 'first_name', 'last_name']);

      const email = `${uniq('types')}@example.test`;
      assertValidation(await t.http.post('/api/auth/register').send({ ...registerBody(email), password: 123456789 }), [
        'password',
      ]);
      assertValidation(await t.http.post('/api/auth/register').send({ ...registerBody(email), email: [email] }), [
        'email',
      ]);
      assert.equal(await usersWithEmail(email), 0);

      const name = uniq('Types ');
      assertValidation(
        await t.http
          .post('/api/events')
          .set(bearer(world.tokens.organisateur))
          .send({ ...eventBody(name), start_date: 'tomorrow', capacity: 'many' }),
        ['start_date', 'capacity'],
      );
      assert.equal(await eventsNamed(name), 0);

      const user = world.users.participant;
      assertValidation(
        await t.http.patch('/api/auth/profile').set(bearer(world.tokens.participant)).send({ first_name: 5 }),
        ['first_name'],
      );
      assert.equal(await countRows(t, 'users', 'id = $1 AND first_name = $2', [user.id, user.firstName]), 1);
    });

    it('unknown and read-only fields: 400 naming them, nothing written', async () => {
      const email = `${uniq('unknown')}@example.test`;
      const errors = assertValidation(
        await t.http.post('/api/auth/register').send({ ...registerBody(email), is_staff: true, id: randomUUID() }),
        ['is_staff', 'id'],
      );
      assert.equal(errors.email, undefined, 'valid fields are not reported');
      assert.equal(await usersWithEmail(email), 0);

      assertValidation(await t.http.post('/api/auth/login').send({ email, password: PASSWORD, admin: true }), [
        'admin',
      ]);

      const name = uniq('Unknown ');
      assertValidation(
        await t.http
          .post('/api/events')
          .set(bearer(world.tokens.organisateur))
          .send({ ...eventBody(name), created_by: world.users.participant.id }),
        ['created_by'],
      );
      assert.equal(await eventsNamed(name), 0);

      assertValidation(
        await t.http.get('/api/events').query({ is_staff: 'true' }).set(bearer(world.tokens.organisateur)),
        ['is_staff'],
      );
    });

    it('a body over MAX_BODY_KB (1024 by default): 413 PAYLOAD_TOO_LARGE, nothing written', async () => {
      const email = `${uniq('huge')}@example.test`;
      const res = await t.http
        .post('/api/auth/register')
        .send({ ...registerBody(email), last_name: 'x'.repeat(2 * 1024 * 1024) });
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
      assert.equal(await usersWithEmail(email), 0);

      const name = uniq('Huge ');
      expectError(
        await t.http
          .post('/api/events')
          .set(bearer(world.tokens.organisateur))
          .send({ ...eventBody(name), description: 'y'.repeat(1100 * 1024) }),
        413,
        'PAYLOAD_TOO_LARGE',
      );
      assert.equal(await eventsNamed(name), 0);
    });

    it('text/plain, form, multipart and XML bodies: 415, nothing written', async () => {
      const email = `${uniq('media')}@example.test`;
      const body = registerBody(email);
      const register = () => t.http.post('/api/auth/register');
      const cases = [
        register().set('Content-Type', 'text/plain').send(JSON.stringify(body)),
        register().type('form').send(body),
        register()
          .field('email', body.email)
          .field('password', body.password)
          .field('first_name', body.first_name)
          .field('last_name', body.last_name),
        register().set('Content-Type', 'application/xml').send('<user/>'),
        register().set('Content-Type', 'application/vnd.api+json').send(JSON.stringify(body)),
      ];
      for (const res of await Promise.all(cases)) expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      assert.equal(await usersWithEmail(email), 0);

      // Control: the same body as JSON is accepted.
      assert.equal((await register().send(body)).status, 201);
      assert.equal(await usersWithEmail(email), 1);
    });

    it('malformed or empty JSON: 400, nothing written', async () => {
      const email = `${uniq('json')}@example.test`;
      const json = (raw: string) => t.http.post('/api/auth/register').set('Content-Type', 'application/json').send(raw);
      for (const raw of [`{"email":"${email}",`, "{'email': 1}", '{"__proto__": {"is_staff": true}}', '']) {
        expectError(await json(raw), 400, 'BAD_REQUEST');
      }
      for (const raw of ['[]', '"text"', '42', 'null']) {
        const res = await json(raw);
        assert.equal(res.status, 400, `${raw}: ${res.text}`);
        expectError(res, 400, res.body.code as string);
      }
      assert.equal(await usersWithEmail(email), 0);
    });

    it('NUL bytes and out-of-range numbers are a 400, not a database error', async () => {
      const org = bearer(world.tokens.organisateur);
      for (const res of [
        await t.http.get('/api/events').query({ search: 'a\u0000b' }).set(org),
        await t.http.post('/api/auth/login').send({ email: 'a\u0000@example.test', password: 'x' }),
      ]) {
        assert.equal(res.status, 400, res.text);
        expectError(res, 400, res.body.code as string);
      }
      const email = `${uniq('nul')}@example.test`;
      const res = await t.http.post('/api/auth/register').send({ ...registerBody(email), first_name: 'A\u0000' });
      assert.equal(res.status, 400, res.text);
      expectError(res, 400, res.body.code as string);
      assert.equal(await usersWithEmail(email), 0);

      const name = uniq('Range ');
      const big = await t.http
        .post('/api/events')
        .set(org)
        .send({ ...eventBody(name), capacity: 1e12 });
      assert.equal(big.status, 400, big.text);
      expectError(big, 400, big.body.code as string);
      assert.equal(await eventsNamed(name), 0);
    });
  });

  describe('routing', () => {
    it('unknown routes: 404 NOT_FOUND as JSON, never HTML', async () => {
      const cases = [
        t.http.get('/api/nope'),
        t.http.get('/nope').set('Accept', 'text/html'),
        t.http.get('/'),
        t.http.get('/api'),
        t.http.post('/api/nope').send({}),
        t.http.get(`/api/events/${world.event.id}/nope`).set(bearer(world.tokens.organisateur)),
        t.http.get('/api/docs/does-not-exist.js'),
        t.http.get('/health'),
      ];
      for (const res of await Promise.all(cases)) expectError(res, 404, 'NOT_FOUND');
    });

    it('path traversal under the docs serves no file and answers the documented body', async () => {
      for (const path of ['/api/docs/%2e%2e/%2e%2e/package.json', '/api/docs/..%2f..%2fpackage.json']) {
        const res = await t.http.get(path);
        assert.ok([403, 404].includes(res.status), `${path}: ${res.status}`);
        expectError(res, res.status, res.status === 403 ? 'FORBIDDEN' : 'NOT_FOUND');
        assert.doesNotMatch(res.text, /makeplus-api|"dependencies"/);
      }
    });

    it('a wrong method on an existing path: 404 or 405 JSON', async () => {
      const cases = [
        t.http.delete('/api/auth/login'),
        t.http.get('/api/auth/login'),
        t.http.put('/health/live').send({}),
        t.http.post('/api/auth/profile').set(bearer(world.tokens.participant)).send({}),
        t.http.patch('/api/events').set(bearer(world.tokens.organisateur)).send({}),
      ];
      for (const res of await Promise.all(cases)) {
        assert.ok([404, 405].includes(res.status), `${res.status} ${res.text}`);
        expectError(res, res.status, res.status === 404 ? 'NOT_FOUND' : 'METHOD_NOT_ALLOWED');
      }
    });

    it('a malformed URL or an over-long parameter gets the documented body', async () => {
      expectError(await t.http.get('/api/events/%E0%A4%A'), 400, 'BAD_REQUEST');
      const long = await t.http.get(`/api/events/${'a'.repeat(500)}`).set(bearer(world.tokens.organisateur));
      assert.ok(res4xx(long), `${long.status} ${long.text}`);
      expectError(long, long.status, long.body.code as string);
    });

    it('a URL or headers too large for the HTTP parser get the documented body', async () => {
      const res = await t.http.get(`/api/events?search=${'a'.repeat(20_000)}`);
      expectError(res, 431, 'BAD_REQUEST');
      const header = await t.http.get('/health/live').set('X-Padding', 'b'.repeat(20_000));
      expectError(header, 431, 'BAD_REQUEST');
    });

    it('a trailing slash is optional, without redirect', async () => {
      const org = bearer(world.tokens.organisateur);
      const pairs: [string, string][] = [
        ['/api/events', '/api/events/'],
        [`/api/events/${world.event.id}`, `/api/events/${world.event.id}/`],
        ['/api/auth/profile', '/api/auth/profile/'],
        ['/api/user-assignments', '/api/user-assignments/'],
        ['/health/live', '/health/live/'],
      ];
      for (const [bare, slashed] of pairs) {
        const [a, b] = await Promise.all([t.http.get(bare).set(org), t.http.get(slashed).set(org)]);
        assert.equal(a.status, 200, `${bare}: ${a.text}`);
        assert.equal(b.status, 200, `${slashed}: ${b.text}`);
        assert.equal(b.headers.location, undefined);
        assert.deepEqual(b.body, a.body);
      }
      const login = await t.http
        .post('/api/auth/login/')
        .send({ email: world.users.exposant.email, password: PASSWORD });
      assert.equal(login.status, 200, login.text);
      expectError(await t.http.get('/api/events/').set(bearer('nope')), 401, 'TOKEN_INVALID');
    });
  });

  describe('headers', () => {
    it('X-Request-Id on every response, equal to the error body, echoed when sane', async () => {
      const ok = await t.http.get('/health/live');
      assert.match(String(ok.headers['x-request-id']), /^[\w.:-]{1,64}$/);

      const other = await t.http.get('/health/live');
      assert.notEqual(other.headers['x-request-id'], ok.headers['x-request-id'], 'a new id per request');

      const mine = 'req-2026.06:abc_123';
      const echoed = await t.http.get('/api/nope').set('X-Request-Id', mine);
      assert.equal(echoed.headers['x-request-id'], mine);
      assert.equal(echoed.body.request_id, mine);
      assert.equal((await t.http.get('/health/live').set('X-Request-Id', mine)).headers['x-request-id'], mine);

      for (const insane of ['<script>alert(1)</script>', 'a'.repeat(65), 'two words', '']) {
        const res = await t.http.get('/api/nope').set('X-Request-Id', insane);
        assert.notEqual(res.headers['x-request-id'], insane);
        assert.match(String(res.headers['x-request-id']), /^[\w.:-]{1,64}$/);
        assert.equal(res.body.request_id, res.headers['x-request-id']);
      }

      // Errors raised before Nest (body limit, media type, bad URL) carry it too.
      const early = [
        await t.http
          .post('/api/auth/login')
          .set('X-Request-Id', 'early-1')
          .send({ email: 'x'.repeat(1100 * 1024) }),
        await t.http.post('/api/auth/login').set('X-Request-Id', 'early-2').set('Content-Type', 'text/plain').send('x'),
        await t.http.get('/api/events/%E0%A4%A').set('X-Request-Id', 'early-3'),
      ];
      early.forEach((res, i) => {
        assert.equal(res.headers['x-request-id'], `early-${i + 1}`, res.text);
        assert.equal(res.body.request_id, `early-${i + 1}`);
      });
    });

    it('helmet headers on data, errors and the docs', async () => {
      for (const res of [
        await t.http.get('/health/live'),
        await t.http.get('/api/events').set(bearer(world.tokens.organisateur)),
        await t.http.get('/api/nope'),
        await t.http.post('/api/auth/login').send({}),
        await t.http.get('/api/docs'),
      ]) {
        assert.equal(res.headers['x-content-type-options'], 'nosniff', res.text.slice(0, 80));
        assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
        assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
        assert.match(String(res.headers['strict-transport-security']), /max-age=\d+/);
        assert.equal(res.headers['referrer-policy'], 'no-referrer');
        assert.equal(res.headers['x-powered-by'], undefined);
      }
    });

    it('CORS: without CORS_ORIGINS no origin is allowed', async () => {
      const origin = 'https://admin.example.org';
      const preflight = await t.http
        .options('/api/events')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'GET')
        .set('Access-Control-Request-Headers', 'authorization');
      assert.equal(preflight.headers['access-control-allow-origin'], undefined);
      const simple = await t.http.get('/health/live').set('Origin', origin);
      assert.equal(simple.status, 200);
      assert.equal(simple.headers['access-control-allow-origin'], undefined);
    });
  });

  describe('OpenAPI', () => {
    interface Operation {
      security?: Record<string, string[]>[];
      'x-access'?: string;
      'x-event-roles'?: string[];
    }
    let doc: {
      paths: Record<string, Record<string, Operation>>;
      components: { securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> };
    };
    before(async () => {
      const res = await t.http.get('/api/docs-json').expect(200);
      doc = res.body as typeof doc;
    });

    /** `method /path` → policy, from the controllers' metadata (what the guard reads). */
    function appRoutes(): Map<string, AuthPolicy | null> {
      return new Map(listRoutes(t.app).map((r) => [`${r.method.toLowerCase()} ${r.path}`, r.policy]));
    }

    it('lists every route of the app, and only those', () => {
      const routes = appRoutes();
      for (const must of [
        'post /api/auth/login',
        'get /api/events/{id}',
        'get /api/user-assignments/{id}',
        'get /health/ready',
      ]) {
        assert.ok(routes.has(must), `enumerated routes include ${must}`);
      }
      const documented = new Set(
        Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)),
      );
      assert.deepEqual([...documented].sort(), [...routes.keys()].sort());
    });

    it('declares the bearer and bot-token schemes and who may call each operation', () => {
      const schemes = doc.components.securitySchemes;
      assert.equal(schemes.access?.type, 'http');
      assert.equal(schemes.access?.scheme, 'bearer');
      assert.equal(schemes.selection?.type, 'http');
      assert.equal(schemes.selection?.scheme, 'bearer');
      assert.deepEqual(schemes['bot-token'], {
        type: 'apiKey',
        in: 'header',
        name: 'X-Bot-Token',
        description: 'Event-scoped Discord bot token',
      });

      for (const [key, policy] of appRoutes()) {
        const [method, path] = key.split(' ');
        const op = doc.paths[path]?.[method];
        assert.ok(op, `${key} documented`);
        assert.ok(policy, `${key} declares an auth policy`);
        const security = (op.security ?? []).flatMap((s) => Object.keys(s));
        switch (policy.kind) {
          case 'public':
            assert.equal(op['x-access'], 'public', key);
            assert.deepEqual(security, [], `${key} is public: no security requirement`);
            break;
          case 'selection':
            assert.equal(op['x-access'], 'selection token', key);
            assert.deepEqual(security, ['selection'], key);
            break;
          case 'authenticated':
            assert.equal(op['x-access'], 'authenticated', key);
            assert.deepEqual(security, ['access'], key);
            break;
          case 'event-creator':
            assert.equal(op['x-access'], 'staff or organisateur of any event', key);
            assert.deepEqual(security, ['access'], key);
            break;
          case 'event':
            assert.deepEqual(op['x-event-roles'], [...policy.roles], key);
            assert.deepEqual(security, ['access'], key);
            break;
          case 'bot-token':
            assert.equal(op['x-access'], 'bot token (X-Bot-Token)', key);
            assert.deepEqual(security, ['bot-token'], key);
            break;
        }
        assert.ok(op['x-access'] !== undefined || op['x-event-roles'] !== undefined, key);
      }
    });

    it('serves the docs page as HTML', async () => {
      const res = await t.http.get('/api/docs');
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(res.text, /swagger/i);
    });
  });

  describe('pagination', () => {
    before(async () => {
      // 101 more members: 106 in the event, more than one page of 100.
      const tag = uniq('page');
      await t.db.query(
        `INSERT INTO users (email, first_name, last_name)
         SELECT $1 || '-' || g || '@example.test', 'Page', 'User ' || g FROM generate_series(1, 101) g`,
        [tag],
      );
      await t.db.query(
        `INSERT INTO user_event_assignments (event_id, user_id, role)
         SELECT $1, id, 'participant' FROM users WHERE email LIKE $2`,
        [world.event.id, `${tag}-%`],
      );
    });
    const list = (query: Record<string, string>) =>
      t.http.get('/api/user-assignments').query(query).set(bearer(world.tokens.organisateur));

    it('page_size above 100 is clamped to 100', async () => {
      const res = await list({ page_size: '1000' });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.count, 106);
      assert.equal(res.body.results.length, 100);
      assert.match(String(res.body.next), /[?&]page=2(&|$)/);
      assert.equal(res.body.previous, null);

      const second = await list({ page_size: '1000', page: '2' });
      assert.equal(second.body.results.length, 6);
      assert.equal(second.body.next, null);
      const ids = new Set([...res.body.results, ...second.body.results].map((r: { id: string }) => r.id));
      assert.equal(ids.size, 106, 'the two clamped pages cover every row once');

      assert.equal((await list({ page_size: '5' })).body.results.length, 5, 'control: a small page_size applies');
      assert.equal((await list({})).body.results.length, 20, 'default page size');
    });

    it('page and page_size out of range or not integers: 400 naming the parameter', async () => {
      for (const [query, field] of [
        [{ page: '0' }, 'page'],
        [{ page: '-1' }, 'page'],
        [{ page: 'abc' }, 'page'],
        [{ page: '1.5' }, 'page'],
        [{ page: '1e20' }, 'page'],
        [{ page_size: '0' }, 'page_size'],
        [{ page_size: 'ten' }, 'page_size'],
      ] as [Record<string, string>, string][]) {
        assertValidation(await list(query), [field]);
      }
    });
  });
});

describe('http contract, configured origins and body limit', () => {
  let t: TestApp;
  const allowed = 'https://admin.example.org';
  before(async () => {
    t = await bootTestApp({ CORS_ORIGINS: allowed, MAX_BODY_KB: '4' });
  });
  after(() => t.close());

  const preflight = (origin: string, method: string) =>
    t.http
      .options('/api/user-assignments/00000000-0000-4000-8000-000000000000')
      .set('Origin', origin)
      .set('Access-Control-Request-Method', method)
      .set('Access-Control-Request-Headers', 'authorization, content-type');

  it('a listed origin may call every method the API uses', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await preflight(allowed, method);
      assert.ok(res.status === 204 || res.status === 200, `${method}: ${res.status}`);
      assert.equal(res.headers['access-control-allow-origin'], allowed);
      assert.ok(
        String(res.headers['access-control-allow-methods']).split(/,\s*/).includes(method),
        `${method} allowed: ${res.headers['access-control-allow-methods']}`,
      );
      assert.match(String(res.headers['access-control-allow-headers']), /authorization/i);
    }
    const get = await t.http.get('/health/live').set('Origin', allowed);
    assert.equal(get.headers['access-control-allow-origin'], allowed);
    assert.match(String(get.headers['access-control-expose-headers']), /x-request-id/i);
    const error = await t.http.get('/api/events').set('Origin', allowed);
    assert.equal(error.status, 401);
    assert.equal(error.headers['access-control-allow-origin'], allowed, 'errors are readable by the allowed origin');
  });

  it('another origin is not allowed', async () => {
    for (const origin of [
      'https://evil.example.org',
      'https://admin.example.org.evil.test',
      'http://admin.example.org',
    ]) {
      const res = await preflight(origin, 'DELETE');
      assert.equal(res.headers['access-control-allow-origin'], undefined, origin);
      const get = await t.http.get('/health/live').set('Origin', origin);
      assert.equal(get.headers['access-control-allow-origin'], undefined, origin);
    }
  });

  it('MAX_BODY_KB applies', async () => {
    const email = `${uniq('limit')}@example.test`;
    const body = { email, password: 'a-long-password-1', first_name: 'A', last_name: 'L' };
    expectError(
      await t.http.post('/api/auth/register').send({ ...body, last_name: 'x'.repeat(5 * 1024) }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    assert.equal(await countRows(t, 'users', 'email = $1', [email]), 0);
    assert.equal((await t.http.post('/api/auth/register').send(body)).status, 201, 'control: a small body passes');
  });
});

function res4xx(res: Response): boolean {
  return res.status >= 400 && res.status < 500;
}
