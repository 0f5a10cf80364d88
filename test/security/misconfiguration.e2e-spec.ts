/**
 * OWASP API Security Top 10 2023 — API8 Security Misconfiguration.
 *
 * Helmet's headers on every kind of answer (data, download, 401, 404, 500), CORS closed unless CORS_ORIGINS lists the
 * origin (HTTP and the socket.io handshake), errors that never carry a stack, a source path, an internal message or
 * HTML (a 500 is forced by making a service throw), and `Cache-Control: no-store` on every answer to a request that
 * carries credentials, so that no shared cache or browser history keeps private data.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'supertest';
import { EVENT_ROLES } from '../../src/common/auth/event-role';
import { RoomsService } from '../../src/modules/rooms/rooms.service';
import { assertNoStack, expectError } from '../helpers/assertions';
import { bearer } from '../helpers/factories';
import { listRoutes } from '../helpers/routes';
import { bootTestApp, type TestApp } from '../helpers/test-app';
import { concretePath, createRichWorld, type RichWorld } from './fixtures';

function assertHelmet(res: Response, what: string): void {
  assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
  assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN', what);
  assert.match(String(res.headers['content-security-policy']), /default-src 'self'/, what);
  assert.match(String(res.headers['strict-transport-security']), /max-age=\d+/, what);
  assert.equal(res.headers['referrer-policy'], 'no-referrer', what);
  assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin', what);
  assert.equal(res.headers['x-powered-by'], undefined, what);
}

describe('API8 security misconfiguration', () => {
  let t: TestApp;
  let w: RichWorld;
  before(async () => {
    t = await bootTestApp();
    w = await createRichWorld(t);
  });
  after(() => t.close());

  describe('a forced 500', () => {
    it('answers the documented body: no stack, no source path, no internal message, no HTML', async () => {
      const rooms = t.app.get(RoomsService, { strict: false });
      const original = rooms.list.bind(rooms);
      const secret = 'relation "secret_internal_table" does not exist';
      rooms.list = () => Promise.reject(new Error(`${secret} at /srv/app/dist/src/rooms.service.js:42:7`));
      try {
        const res = await t.http.get('/api/rooms').set(bearer(w.tokens.organisateur));
        const body = expectError(res, 500, 'INTERNAL_ERROR');
        assert.equal(body.detail, 'Internal server error');
        assert.doesNotMatch(res.text, /secret_internal_table|rooms\.service|\/srv\//);
        assertHelmet(res, 'a 500');
        assert.equal(res.headers['cache-control'], 'no-store');
      } finally {
        rooms.list = original;
      }
      // A synchronous TypeError (a programming error) is mapped the same way.
      const get = rooms.get.bind(rooms);
      rooms.get = (() => {
        throw new TypeError("Cannot read properties of undefined (reading 'capacity')");
      }) as typeof rooms.get;
      try {
        const res = await t.http.get(`/api/rooms/${w.roomId}`).set(bearer(w.tokens.organisateur));
        expectError(res, 500, 'INTERNAL_ERROR');
        assert.doesNotMatch(res.text, /capacity|TypeError/);
        assertNoStack(res);
      } finally {
        rooms.get = get;
      }
    });
  });

  describe('helmet', () => {
    it('on data, a download, a 401, a 404, a validation error and the docs', async () => {
      const org = bearer(w.tokens.organisateur);
      const cases: [string, Response][] = [
        ['data', await t.http.get('/api/rooms').set(org)],
        ['csv', await t.http.get(`/api/events/${w.event.id}/attendance.csv`).set(org)],
        ['png', await t.http.get(`/api/participants/${w.badge.id}/badge.png`).set(org)],
        ['401', await t.http.get('/api/rooms')],
        ['404', await t.http.get('/api/nothing-here')],
        ['400', await t.http.get('/api/rooms/not-a-uuid').set(org)],
        ['docs', await t.http.get('/api/docs')],
      ];
      for (const [what, res] of cases) assertHelmet(res, what);
    });
  });

  describe('Cache-Control: no-store on private responses', () => {
    it('every authenticated read of every role, successful or not, is no-store', async () => {
      const missing: string[] = [];
      let checked = 0;
      for (const route of listRoutes(t.app).filter((r) => r.method === 'GET' && r.policy?.kind !== 'public')) {
        for (const role of EVENT_ROLES) {
          const path = concretePath(route.path, w);
          const res = await t.http.get(path).set(bearer(w.tokens[role]));
          checked++;
          if (!String(res.headers['cache-control']).split(/,\s*/).includes('no-store')) {
            missing.push(`${role} GET ${path} (${res.status}): ${res.headers['cache-control']}`);
          }
        }
      }
      assert.deepEqual(missing, []);
      assert.ok(checked > 200, `responses checked: ${checked}`);
    });

    it('writes and token errors too; public answers without credentials stay cacheable by default', async () => {
      const created = await t.http
        .post('/api/rooms')
        .set(bearer(w.tokens.organisateur))
        .send({ name: 'Cache test', capacity: 10 });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.headers['cache-control'], 'no-store');
      const forged = await t.http.get('/api/rooms').set(bearer('not-a-token'));
      expectError(forged, 401, 'TOKEN_INVALID');
      assert.equal(forged.headers['cache-control'], 'no-store');
      const live = await t.http.get('/health/live');
      assert.equal(live.status, 200);
      assert.notEqual(live.headers['cache-control'], 'no-store', 'control: the header is about credentials');
    });
  });

  describe('CORS without CORS_ORIGINS', () => {
    it('no origin is allowed, on HTTP and on the socket.io handshake', async () => {
      for (const origin of ['https://evil.example', 'null', 'http://localhost:3000']) {
        const preflight = await t.http
          .options('/api/rooms')
          .set('Origin', origin)
          .set('Access-Control-Request-Method', 'DELETE')
          .set('Access-Control-Request-Headers', 'authorization');
        assert.equal(preflight.headers['access-control-allow-origin'], undefined, origin);
        const get = await t.http.get('/api/rooms').set('Origin', origin).set(bearer(w.tokens.organisateur));
        assert.equal(get.headers['access-control-allow-origin'], undefined, origin);
        const socket = await t.http.get('/socket.io/?EIO=4&transport=polling').set('Origin', origin);
        assert.equal(socket.headers['access-control-allow-origin'], undefined, `socket.io ${origin}`);
      }
    });
  });
});

describe('API8 CORS with CORS_ORIGINS', () => {
  let t: TestApp;
  const allowed = ['https://admin.example.org', 'https://panel.example.org'];
  before(async () => {
    t = await bootTestApp({ CORS_ORIGINS: allowed.join(',') });
  });
  after(() => t.close());

  it('each listed origin is allowed (with credentials), every look-alike refused, on HTTP and socket.io', async () => {
    for (const origin of allowed) {
      const preflight = await t.http
        .options('/api/rooms')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'PATCH')
        .set('Access-Control-Request-Headers', 'authorization, content-type');
      assert.equal(preflight.headers['access-control-allow-origin'], origin);
      assert.equal(preflight.headers['access-control-allow-credentials'], 'true');
      const socket = await t.http.get('/socket.io/?EIO=4&transport=polling').set('Origin', origin);
      assert.equal(socket.headers['access-control-allow-origin'], origin, `socket.io ${origin}`);
    }
    for (const origin of [
      'https://evil.example',
      'null',
      'https://admin.example.org.evil.test',
      'https://evil-admin.example.org',
      'http://admin.example.org',
      'https://ADMIN.example.org:444',
    ]) {
      const preflight = await t.http
        .options('/api/rooms')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'PATCH');
      assert.equal(preflight.headers['access-control-allow-origin'], undefined, origin);
      assert.equal(
        (await t.http.get('/health/live').set('Origin', origin)).headers['access-control-allow-origin'],
        undefined,
      );
      const socket = await t.http.get('/socket.io/?EIO=4&transport=polling').set('Origin', origin);
      assert.equal(socket.headers['access-control-allow-origin'], undefined, `socket.io ${origin}`);
    }
  });
});
