/**
 * `npm test`: prepares one fresh database for the whole run, migrates it once, then runs every compiled spec with
 * Node's test runner (each file in its own process). DATABASE_URL set: a new database on that server, dropped at the
 * end. Unset: an embedded PostgreSQL in a temporary folder. Redis likewise (see `prepareRedis`).
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { withDataSource } from '../src/database/data-source';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/database/embedded-postgres';
import { runMigrations } from '../src/database/migrate';

const DIST = join(__dirname, '..');

function specFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return specFiles(path);
    return /\.(e2e-)?spec\.js$/.test(name) ? [path] : [];
  });
}

async function withClient<T>(url: string, work: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function prepareDatabase(): Promise<{ url: string; cleanup: () => Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (base) {
    const name = `makeplus_test_${Date.now()}_${process.pid}`;
    await withClient(base, (c) => c.query(`CREATE DATABASE "${name}"`));
    const url = new URL(base);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      cleanup: () =>
        withClient(base, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'makeplus-test-pg-'));
  chmodSync(dir, 0o755); // as root, the cluster runs as the `postgres` user, which must reach it
  const embedded: EmbeddedDatabase = await startEmbeddedPostgres(join(dir, 'data'), { database: 'makeplus_test' });
  return {
    url: embedded.url,
    cleanup: async () => {
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/**
 * Redis for the tests of several instances: REDIS_URL (default redis://127.0.0.1:6379) if it answers, else a private
 * `redis-server` on a free port when the binary is installed. Specs get it as TEST_REDIS_URL; apps booted by the
 * tests use it only when a test asks (one instance needs no Redis).
 */
async function prepareRedis(): Promise<{ url: string; cleanup: () => Promise<void> }> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (await redisAnswers(url)) return { url, cleanup: async () => undefined };
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const spawnFailed = new Promise<never>((_, reject) => server.once('error', reject));
  const own = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    const up = await Promise.race([redisAnswers(own), spawnFailed]).catch(() => null);
    if (up === null) break;
    if (up) return { url: own, cleanup: async () => void server.kill('SIGTERM') };
    await new Promise((r) => setTimeout(r, 100));
  }
  server.kill('SIGKILL');
  throw new Error(
    `Redis does not answer at ${url} and redis-server could not be started: install Redis or set REDIS_URL`,
  );
}

async function main(): Promise<number> {
  const started = Date.now();
  const files = [...specFiles(join(DIST, 'src')), ...specFiles(join(DIST, 'test'))].filter(
    (f) => !process.argv[2] || f.includes(process.argv[2]),
  );
  const db = await prepareDatabase();
  const redis = await prepareRedis().catch(async (error: unknown) => {
    await db.cleanup();
    throw error;
  });
  try {
    await withDataSource(db.url, { poolSize: 1 }, runMigrations);
    const code = await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '--enable-source-maps',
          '--test',
          '--test-reporter=spec',
          '--test-concurrency=2',
          '--test-timeout=120000',
          ...files,
        ],
        {
          stdio: 'inherit',
          env: { ...process.env, NODE_ENV: 'test', TEST_DATABASE_URL: db.url, TEST_REDIS_URL: redis.url },
        },
      );
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
    });
    process.stdout.write(`\n${files.length} spec files in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return code;
  } finally {
    await redis.cleanup();
    await db.cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`test run failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
