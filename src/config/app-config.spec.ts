import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ConfigError,
  loadConfig,
  parseDurationSeconds,
  parseRateLimit,
  RATE_LIMIT_DEFAULTS,
  TEST_RATE_LIMIT_FACTOR,
} from './app-config';

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
    assert.equal(c.dbQueryTimeoutMs, 15000);
    assert.equal(c.dbConnectTimeoutMs, 5000);
    assert.equal(loadConfig({ DB_CONNECT_TIMEOUT_MS: '1500' }).dbConnectTimeoutMs, 1500);
    assert.ok(problemsOf({ DB_CONNECT_TIMEOUT_MS: '0' })[0]?.startsWith('DB_CONNECT_TIMEOUT_MS'));
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

  it('bounds the shutdown: no delay and 10 s by default; the delay must fit in the timeout', () => {
    const c = loadConfig({});
    assert.equal(c.shutdownDelayMs, 0);
    assert.equal(c.shutdownTimeoutMs, 10_000);
    assert.equal(loadConfig({ SHUTDOWN_DELAY_MS: '5000', SHUTDOWN_TIMEOUT_MS: '30000' }).shutdownDelayMs, 5000);
    assert.ok(problemsOf({ SHUTDOWN_DELAY_MS: '10000' })[0]?.startsWith('SHUTDOWN_DELAY_MS must be shorter'));
    assert.ok(problemsOf({ SHUTDOWN_TIMEOUT_MS: '0' })[0]?.startsWith('SHUTDOWN_TIMEOUT_MS'));
  });

  it('every variable it reads is in the README table of Configuration', () => {
    // The compiled loader (this spec runs from dist/src/config) reads each variable through str/int/duration/bool.
    const source = readFileSync(join(__dirname, 'app-config.js'), 'utf8');
    const variables = [
      ...[...source.matchAll(/\b(?:str|int|duration|bool)\('([A-Z0-9_]+)'/g)].map((m) => m[1]),
      ...Object.keys(RATE_LIMIT_DEFAULTS).map((name) => `RATE_LIMIT_${name.toUpperCase()}`),
    ];
    assert.ok(variables.length >= 30, `found only ${variables.length} variables`);
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    const table = readme.slice(
      readme.indexOf('## Configuration'),
      readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1),
    );
    const rows = table.split('\n').filter((line) => line.startsWith('| `'));
    const missing = [...new Set(variables)].filter((v) => !rows.some((row) => row.includes(`\`${v}\``)));
    assert.deepEqual(missing, [], 'document these in README.md, "Configuration"');
  });

  it('parses durations', () => {
    assert.equal(parseDurationSeconds('900'), 900);
    assert.equal(parseDurationSeconds('15m'), 900);
    assert.equal(parseDurationSeconds('7d'), 604800);
    assert.equal(parseDurationSeconds('0s'), null);
    assert.equal(parseDurationSeconds('-1m'), null);
  });

  it('reads rate limits as requests/window, higher by default under NODE_ENV=test', () => {
    assert.deepEqual(parseRateLimit('10/15m'), { limit: 10, windowSec: 900 });
    assert.deepEqual(parseRateLimit(' 600 / 60 '), { limit: 600, windowSec: 60 });
    for (const bad of ['10', '0/1m', '10/0s', 'ten/1m', '-1/1m', '10/1y']) assert.equal(parseRateLimit(bad), null, bad);
    const production = loadConfig({});
    assert.deepEqual(production.rateLimits.login_account, { limit: 10, windowSec: 900 });
    assert.deepEqual(production.rateLimits.door, { limit: 600, windowSec: 60 });
    const test = loadConfig({ NODE_ENV: 'test', RATE_LIMIT_DOOR: '5/1m' });
    assert.deepEqual(test.rateLimits.login_account, { limit: 10 * TEST_RATE_LIMIT_FACTOR, windowSec: 900 });
    assert.deepEqual(test.rateLimits.door, { limit: 5, windowSec: 60 }, 'a value given is taken as it is');
    const problems = problemsOf({ RATE_LIMIT_LOGIN_IP: '100', RATE_LIMIT_SYNC_MS: '0' });
    assert.ok(
      problems.some((p) => p.startsWith('RATE_LIMIT_LOGIN_IP must be requests/window')),
      problems.join(),
    );
    assert.ok(
      problems.some((p) => p.startsWith('RATE_LIMIT_SYNC_MS')),
      problems.join(),
    );
  });
});
