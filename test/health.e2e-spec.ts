import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { withDataSource } from '../src/database/data-source';
import { revertLastMigration, runMigrations } from '../src/database/migrate';
import { createScratchDatabase, type ScratchDatabase } from './helpers/scratch-database';
import { bootTestApp, type TestApp } from './helpers/test-app';

describe('health', () => {
  let t: TestApp;
  before(async () => {
    t = await bootTestApp();
  });
  after(() => t.close());

  it('live answers without a token', async () => {
    const res = await t.http.get('/health/live').expect(200);
    assert.deepEqual(res.body, { status: 'ok' });
  });

  it('ready checks the database and the migrations', async () => {
    const res = await t.http.get('/health/ready').expect(200);
    assert.deepEqual(res.body, { status: 'ok', checks: { database: 'up', migrations: 'up' } });
  });
});

describe('health: a migration known to the code and not applied', () => {
  let scratch: ScratchDatabase;
  let t: TestApp | undefined;
  before(async () => {
    scratch = await createScratchDatabase('makeplus_pending');
    await withDataSource(scratch.url, { poolSize: 1 }, async (ds) => {
      await runMigrations(ds);
      await revertLastMigration(ds);
    });
  });
  after(async () => {
    await t?.close();
    await scratch.drop();
  });

  it('ready answers 503 until the migrations are run, then 200', async () => {
    t = await bootTestApp({}, scratch.url);
    const pending = await t.http.get('/health/ready').expect(503);
    assert.deepEqual(pending.body, { status: 'error', checks: { database: 'up', migrations: 'down' } });
    assert.equal(pending.headers['retry-after'], '5');
    await t.http.get('/health/live').expect(200);

    assert.equal((await runMigrations(t.db)).length, 1);
    const res = await t.http.get('/health/ready').expect(200);
    assert.deepEqual(res.body, { status: 'ok', checks: { database: 'up', migrations: 'up' } });
  });
});
