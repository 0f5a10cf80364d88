import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describePolicy, listRoutes } from './helpers/routes';
import { bootTestApp, type TestApp } from './helpers/test-app';

/** Kept in the source tree: a diff of this file in a review is a permission change. */
const SNAPSHOT = join(__dirname, '..', '..', 'test', 'permissions.snapshot.json');

describe('permission snapshot', () => {
  let t: TestApp;
  before(async () => {
    t = await bootTestApp();
  });
  after(() => t.close());

  it('every route declares an access policy (deny by default)', () => {
    const routes = listRoutes(t.app);
    assert.ok(routes.length > 20, `expected the app's routes, found ${routes.length}`);
    const undeclared = routes.filter((r) => r.policy === null).map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(undeclared, []);
  });

  it('matches test/permissions.snapshot.json (UPDATE_SNAPSHOTS=1 rewrites it)', () => {
    const current = Object.fromEntries(
      listRoutes(t.app).map((r) => [`${r.method} ${r.path}`, describePolicy(r.policy)]),
    );
    if (process.env.UPDATE_SNAPSHOTS === '1') writeFileSync(SNAPSHOT, `${JSON.stringify(current, null, 2)}\n`);
    assert.ok(existsSync(SNAPSHOT), 'no snapshot yet: run with UPDATE_SNAPSHOTS=1 and commit it');
    const saved = JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as Record<string, string>;
    assert.deepEqual(current, saved, 'route permissions changed: review, then run with UPDATE_SNAPSHOTS=1');
  });

  it('public routes are exactly the ones API.md makes public', () => {
    // That a route without a policy is refused is proven on the guard itself in src/modules/auth/auth.guard.spec.ts.
    const publicRoutes = listRoutes(t.app)
      .filter((r) => r.policy?.kind === 'public')
      .map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(publicRoutes, [
      'POST /api/auth/login',
      'POST /api/auth/register',
      'POST /api/auth/token',
      'POST /api/auth/token/refresh',
      'GET /health/live',
      'GET /health/ready',
    ]);
  });

  it('bot-token routes are exactly the Discord bot routes of API.md (and users/link/)', () => {
    const botRoutes = listRoutes(t.app).filter((r) => r.policy?.kind === 'bot-token');
    assert.equal(botRoutes.length, 9);
    for (const r of botRoutes) assert.match(r.path, /^\/api\/discord\//, `${r.method} ${r.path}`);
    const discordRoutes = listRoutes(t.app).filter((r) => r.path.startsWith('/api/discord/'));
    assert.deepEqual(discordRoutes, botRoutes);
  });
});
