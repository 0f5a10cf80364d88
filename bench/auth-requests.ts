/**
 * Cost of authentication on every request: the guard verifies the JWT and reads session, user and membership in one
 * query. Measures GET /api/events/{id} (guard + one read) and POST /api/auth/login (argon2id) over loopback.
 * `npm test` compiles it; run `DATABASE_URL=postgres://... node dist/bench/auth-requests.js` (unset: embedded).
 * Bounded: a fixed number of requests, then it stops. Prints figures; asserts nothing.
 */
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pino from 'pino';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/app-config';
import { withDataSource } from '../src/database/data-source';
import { resolveDatabase } from '../src/database/database-url';
import { runMigrations } from '../src/database/migrate';
import { benchRateLimits } from './bench-support';

const execFileAsync = promisify(execFile);

async function load(count: number, concurrency: number, request: () => Promise<Response>): Promise<string> {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        const t0 = performance.now();
        const res = await request();
        await res.arrayBuffer();
        if (!res.ok) failures++;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies[Math.floor((latencies.length - 1) * p)] ?? 0).toFixed(1);
  return `${count} requests, ${concurrency} concurrent: ${(count / seconds).toFixed(0)} req/s, p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, ${failures} failed`;
}

async function main(): Promise<void> {
  const config = loadConfig({
    ...process.env,
    ...benchRateLimits(),
    LOG_LEVEL: 'error',
    JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
  });
  const database = await resolveDatabase(config, pino({ level: 'warn' }));
  await withDataSource(database.url, { poolSize: 1 }, runMigrations);
  const app = await createApp(config, database.url);
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  try {
    const email = `bench-${Date.now()}@example.test`;
    const password = 'bench-password-123';
    const post = (path: string, body: object, token?: string) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    const registered = (await (
      await post('/api/auth/register', { email, password, first_name: 'B', last_name: 'B' })
    ).json()) as {
      access: string;
    };
    // Staff may create events; the bench user becomes staff through the database, as an operator would.
    await withDataSource(database.url, { poolSize: 1 }, (ds) =>
      ds.query('UPDATE users SET is_staff = true WHERE email = $1', [email]),
    );
    const now = Date.now();
    const event = (await (
      await post(
        '/api/events',
        { name: 'Bench', start_date: new Date(now).toISOString(), end_date: new Date(now + 86400e3).toISOString() },
        registered.access,
      )
    ).json()) as { id: string };
    const login = (await (await post('/api/auth/login', { email, password })).json()) as { access: string };

    // The load comes from a second process: sharing this event loop would measure the client as much as the server.
    // execFile (async) keeps this process serving while the client runs.
    const client = async (spec: ClientSpec): Promise<string> =>
      (await execFileAsync(process.execPath, [__filename, '--client', JSON.stringify(spec)])).stdout.trim();
    const read: ClientSpec = {
      url: `${base}/api/events/${event.id}`,
      token: login.access,
      count: 5000,
      concurrency: 32,
    };
    await client({ ...read, count: 500 }); // warm-up
    process.stdout.write(`GET /api/events/{id} (auth + read): ${await client(read)}\n`);
    const logins = await client({
      url: `${base}/api/auth/login`,
      body: { email, password },
      count: 200,
      concurrency: 8,
    });
    process.stdout.write(`POST /api/auth/login (argon2id): ${logins}\n`);
  } finally {
    await app.close();
    await database.embedded?.stop();
  }
}

interface ClientSpec {
  url: string;
  token?: string;
  body?: object;
  count: number;
  concurrency: number;
}

async function runClient(spec: ClientSpec): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (spec.token) headers.authorization = `Bearer ${spec.token}`;
  const send = () =>
    fetch(spec.url, spec.body ? { method: 'POST', headers, body: JSON.stringify(spec.body) } : { headers });
  process.stdout.write(await load(spec.count, spec.concurrency, send));
}

const clientAt = process.argv.indexOf('--client');
(clientAt > 0 ? runClient(JSON.parse(process.argv[clientAt + 1] ?? '{}') as ClientSpec) : main()).catch(
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
