import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
