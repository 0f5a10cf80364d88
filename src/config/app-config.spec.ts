import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseDurationSeconds } from './app-config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  return [];
}

describe('configuration', () => {
  it('has working defaults for development', () => {
    const c = loadConfig({});
    assert.equal(c.port, 3000);
    assert.equal(c.databaseUrl, null);
    assert.equal(c.accessTokenTtlSec, 15 * 60);
    assert.equal(c.refreshTokenTtlSec, 7 * 86400);
    assert.equal(c.jwtSecretGenerated, true);
    assert.ok(c.jwtSecret.length >= 32);
    assert.deepEqual(c.corsOrigins, []);
    assert.equal(c.trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
    assert.ok(problemsOf({ TRUST_PROXY: 'maybe' })[0]?.startsWith('TRUST_PROXY'));
  });

  it('refuses to start in production without a secret or a database', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    assert.ok(
      problems.some((p) => p.startsWith('JWT_SECRET is required')),
      problems.join(),
    );
    assert.ok(
      problems.some((p) => p.startsWith('DATABASE_URL is required')),
      problems.join(),
    );
    assert.ok(
      problems.some((p) => p.startsWith('QR_SECRET is required')),
      problems.join(),
    );
  });

  it('starts in production with all three', () => {
    const c = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET: 'x'.repeat(40),
      QR_SECRET: 'q'.repeat(40),
      DATABASE_URL: 'postgres://u@h/db',
    });
    assert.equal(c.jwtSecretGenerated, false);
    assert.equal(c.qrSecret, 'q'.repeat(40));
  });

  it('keeps the QR key in a file outside production, and refuses a short one', () => {
    const c = loadConfig({});
    assert.equal(c.qrSecret, null);
    assert.equal(c.qrSecretFile, '.data/qr-secret.key');
    assert.ok(problemsOf({ QR_SECRET: 'short' })[0]?.startsWith('QR_SECRET must be at least 32'));
  });

  it('collects every bad value in one error', () => {
    const problems = problemsOf({
      PORT: 'abc',
      DATABASE_URL: 'mysql://x',
      REDIS_URL: 'http://x',
      JWT_SECRET: 'short',
      ACCESS_TOKEN_TTL: 'soon',
      LOG_LEVEL: 'loud',
      CORS_ORIGINS: 'not an origin',
      ADMIN_EMAIL: 'admin@example.com',
    });
    assert.equal(problems.length, 8, problems.join('\n'));
  });

  it('parses durations', () => {
    assert.equal(parseDurationSeconds('900'), 900);
    assert.equal(parseDurationSeconds('15m'), 900);
    assert.equal(parseDurationSeconds('7d'), 604800);
    assert.equal(parseDurationSeconds('0s'), null);
    assert.equal(parseDurationSeconds('-1m'), null);
  });
});
