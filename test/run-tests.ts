/**
 * `npm test`: prepares one fresh database for the whole run, migrates it once, then runs every compiled spec with
 * Node's test runner (each file in its own process). DATABASE_URL set: a new database on that server, dropped at the
 * end. Unset: an embedded PostgreSQL in a temporary folder.
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createDataSource } from '../src/database/data-source';
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

async function main(): Promise<number> {
  const started = Date.now();
  const files = [...specFiles(join(DIST, 'src')), ...specFiles(join(DIST, 'test'))].filter(
    (f) => !process.argv[2] || f.includes(process.argv[2]),
  );
  const db = await prepareDatabase();
  try {
    const ds = createDataSource(db.url, { poolSize: 1 });
    await ds.initialize();
    await runMigrations(ds);
    await ds.destroy();
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
        { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test', TEST_DATABASE_URL: db.url } },
      );
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
    });
    process.stdout.write(`\n${files.length} spec files in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return code;
  } finally {
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
