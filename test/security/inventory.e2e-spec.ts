/**
 * OWASP API Security Top 10 2023 — API9 Improper Inventory Management, API7 Server Side Request Forgery, API10 Unsafe
 * Consumption of APIs.
 *
 * API9: the routes Fastify actually serves (its route table, not the controllers' metadata, so that a route added
 * straight on the server would show) are exactly the operations of the live OpenAPI document: no undocumented route,
 * no stale documented one. The documentation itself can be switched off (SWAGGER=off).
 *
 * API7: the server never fetches a URL a client gives it. The only URL inputs are session links (speaker photo, cover
 * image, YouTube live), stored and returned as text for the apps to open; this file finds every `*_url` field of
 * every request body in the OpenAPI document (a new one fails here until it is covered), sets them all to a listener
 * on 127.0.0.1 and checks that no connection ever arrives; schemes other than http(s) are refused.
 *
 * API10: the server consumes no third-party API at run time (no outbound HTTP client in the dependencies; Redis and
 * PostgreSQL are its own infrastructure). The Discord bot is a separate process that calls this API like any client,
 * with a bot token, and what it sends goes through the same validation. The one place the server hands data to
 * another program is the organiser's spreadsheet: see csv-injection.e2e-spec.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { expectValidation } from '../helpers/assertions';
import { bearer, createRoom, createWorld, type World } from '../helpers/factories';
import { sleep } from '../helpers/sockets';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory';
import { loadConfig } from '../../src/config/app-config';
import { bootTestApp, TEST_JWT_SECRET, TEST_QR_SECRET, testDatabaseUrl, type TestApp } from '../helpers/test-app';

/** Served by Swagger itself: the UI, its assets and the document. */
const DOCS = /^\/api\/docs(-json|-yaml|\*|\/.*)?$/;

interface OpenApi {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Ref }> } }>>;
  components: { schemas: Record<string, Schema> };
}
interface Ref {
  $ref?: string;
}
interface Schema {
  properties?: Record<string, unknown>;
}

/**
 * `METHOD /path/{param}` of every route in Fastify's table, from `printRoutes` (the one public view of it): a tree
 * whose lines are `<indent>├── <segment> (GET, HEAD)`, each segment continuing its parent's path.
 */
function servedRoutes(app: NestFastifyApplication): string[] {
  const tree = app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false });
  const prefixes: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] as string).length / 4;
    const path = (prefixes[depth - 1] ?? '') + (m[2] as string);
    prefixes[depth] = path;
    prefixes.length = depth + 1;
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) {
      routes.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return routes;
}

describe('API9 inventory, API7 SSRF', () => {
  let t: TestApp;
  let w: World;
  let doc: OpenApi;
  before(async () => {
    t = await bootTestApp();
    w = await createWorld(t);
    doc = (await t.http.get('/api/docs-json').expect(200)).body as OpenApi;
  });
  after(() => t.close());

  it("Fastify's route table equals the OpenAPI document: nothing undocumented, nothing stale", () => {
    const served = servedRoutes(t.app);
    assert.ok(served.includes('POST /api/rooms/{id}/verify_access'), 'the parse reads the table');
    const api = new Set(
      served.filter((r) => {
        const [method, path] = r.split(' ') as [string, string];
        // HEAD is Fastify's automatic twin of each GET; OPTIONS is the CORS preflight of every path.
        return method !== 'HEAD' && method !== 'OPTIONS' && !DOCS.test(path) && path !== '*' && path !== '/*';
      }),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)),
    );
    assert.deepEqual([...api].filter((r) => !documented.has(r)).sort(), [], 'served but not documented');
    assert.deepEqual([...documented].filter((r) => !api.has(r)).sort(), [], 'documented but not served');
    // Whatever else the table holds: HEAD twins of documented GETs, the CORS preflight, the docs' own routes.
    const extra = served.filter((r) => !api.has(r));
    assert.deepEqual(
      extra.filter((r) => {
        const [method, path] = r.split(' ') as [string, string];
        if (method === 'HEAD' && (documented.has(`GET ${path}`) || DOCS.test(path))) return false;
        return !(DOCS.test(path) || path === '*' || path === '/*');
      }),
      [],
    );
  });

  describe('SSRF', () => {
    let listener: Server;
    let port: number;
    let connections = 0;
    before(async () => {
      listener = createServer((socket) => {
        connections++;
        socket.destroy();
      });
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      port = (listener.address() as { port: number }).port;
    });
    after(() => new Promise<void>((resolve) => listener.close(() => resolve())));

    /** Every `*_url` property of every request body schema in the OpenAPI document. */
    function urlInputs(): string[] {
      const names = new Set<string>();
      for (const ops of Object.values(doc.paths)) {
        for (const op of Object.values(ops)) {
          for (const media of Object.values(op.requestBody?.content ?? {})) {
            const ref = media.schema?.$ref?.split('/').pop();
            const schema = ref ? doc.components.schemas[ref] : undefined;
            for (const name of Object.keys(schema?.properties ?? {}))
              if (/url|webhook|callback/i.test(name)) names.add(name);
          }
        }
      }
      return [...names].sort();
    }

    it('the URL inputs are the three session links, stored as text: none is ever fetched', async () => {
      const fields = ['cover_image_url', 'speaker_photo_url', 'youtube_live_url'];
      assert.deepEqual(urlInputs(), fields, 'a new URL input must be covered here');
      const room = await createRoom(t, w.event.id);
      const links = Object.fromEntries(fields.map((f) => [f, `http://127.0.0.1:${port}/${f}`]));
      const org = bearer(w.tokens.organisateur);
      const start = new Date(Date.now() + 3600_000);
      const created = await t.http
        .post('/api/sessions')
        .set(org)
        .send({
          title: 'SSRF probe',
          room_id: room,
          start_time: start.toISOString(),
          end_time: new Date(start.getTime() + 3600_000).toISOString(),
          ...links,
        });
      assert.equal(created.status, 201, created.text);
      for (const f of fields) assert.equal(created.body[f], links[f]);
      await t.http.patch(`/api/sessions/${created.body.id}`).set(org).send(links).expect(200);
      await t.http.get(`/api/sessions/${created.body.id}`).set(bearer(w.tokens.participant)).expect(200);
      await t.http.get('/api/sessions').set(bearer(w.tokens.participant)).expect(200);
      await t.http.post(`/api/sessions/${created.body.id}/mark_live`).set(org).send({});
      await sleep(300);
      assert.equal(connections, 0, 'the server connected to a URL it was given');
    });

    it('only http(s) URLs are accepted: file, gopher, javascript and data schemes are refused', async () => {
      const room = await createRoom(t, w.event.id);
      const start = new Date(Date.now() + 5 * 3600_000);
      for (const url of [
        'file:///etc/passwd',
        'gopher://127.0.0.1:6379/_INFO',
        'javascript:alert(1)',
        'data:text/html,x',
      ]) {
        const res = await t.http
          .post('/api/sessions')
          .set(bearer(w.tokens.organisateur))
          .send({
            title: 'Bad link',
            room_id: room,
            start_time: start.toISOString(),
            end_time: new Date(start.getTime() + 3600_000).toISOString(),
            youtube_live_url: url,
          });
        expectValidation(res, 'youtube_live_url');
      }
    });

    it('API10: no outbound HTTP client among the runtime dependencies', () => {
      const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      };
      const clients = ['axios', 'got', 'node-fetch', 'undici', 'request', 'superagent', 'ky', '@nestjs/axios'];
      assert.deepEqual(
        Object.keys(pkg.dependencies).filter((d) => clients.includes(d)),
        [],
      );
    });
  });
});

describe('API9 inventory: negative control', () => {
  it('a route added straight on Fastify, outside any controller, shows in the table the test reads', async () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      JWT_SECRET: TEST_JWT_SECRET,
      QR_SECRET: TEST_QR_SECRET,
      DATABASE_URL: testDatabaseUrl(),
    });
    const app = await createApp(config, testDatabaseUrl());
    try {
      app
        .getHttpAdapter()
        .getInstance()
        .get('/api/internal/:secret/dump', async () => ({}));
      await app.init();
      assert.ok(servedRoutes(app).includes('GET /api/internal/{secret}/dump'));
    } finally {
      await app.close();
    }
  });
});

describe('API9 documentation off in production', () => {
  let t: TestApp;
  before(async () => {
    t = await bootTestApp({ SWAGGER: 'off' });
  });
  after(() => t.close());

  it('SWAGGER=off serves neither the UI nor the document', async () => {
    for (const path of ['/api/docs', '/api/docs-json', '/api/docs-yaml']) {
      assert.equal((await t.http.get(path)).status, 404, path);
    }
  });
});
