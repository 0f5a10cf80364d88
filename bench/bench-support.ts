import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { BadgeIssuer } from '../src/modules/participants/badge-issuer';
import { PasswordHasher } from '../src/modules/users/password-hasher';

/** Shared by the bench scripts: where their databases live, admin access to the server, a free port. */

/** A database on the server named by DATABASE_URL (default the local PostgreSQL). */
export function databaseUrl(name: string): string {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs `work` on a connection to the server's maintenance database (to create and drop bench databases). */
export async function admin<T>(work: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: process.env.DATABASE_URL ?? databaseUrl('postgres') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Rate limits far above a bench's load, which comes through one token, one account and one IP (every door of a venue
 * at once): the limits still count every request, so their cost is measured, but never refuse one. A RATE_LIMIT_*
 * variable of the environment wins.
 */
export function benchRateLimits(): Record<string, string> {
  const high: Record<string, string> = {};
  for (const name of ['LOGIN_ACCOUNT', 'LOGIN_IP', 'REFRESH_IP', 'API_TOKEN', 'API_IP', 'DOOR', 'LEADS']) {
    high[`RATE_LIMIT_${name}`] = process.env[`RATE_LIMIT_${name}`] ?? '1000000000/1m';
  }
  return high;
}

/** Secrets of the bench servers: the seeds derive badge QR codes and passwords from the same values. */
export const BENCH_JWT_SECRET = 'bench-jwt-secret-bench-jwt-secret-bench-jwt-secret';
export const BENCH_QR_SECRET = 'bench-qr-secret-bench-qr-secret-bench-qr-secret';
export const BENCH_PASSWORD = 'bench-organizer-password';

export interface BenchEvent {
  eventId: string;
  organizerEmail: string;
  organizerId: string;
  /** Participant ids (badges), in id order. */
  participants: { id: string; qr_salt: string; qr_hash: string }[];
}

/**
 * A running event with an organisateur who can log in (BENCH_PASSWORD) and `count` participants with badges, written
 * with set-based SQL (no login or API call per person).
 */
export async function seedEventWithBadges(ds: DataSource, name: string, count: number): Promise<BenchEvent> {
  const organizerEmail = `${name.toLowerCase().replace(/\W+/g, '-')}-organizer@bench.test`;
  const hash = await new PasswordHasher().hash(BENCH_PASSWORD);
  const [{ id: organizerId }] = (await ds.query(
    `INSERT INTO users (email, password_hash, first_name, last_name) VALUES ($1, $2, 'Bench', 'Organizer') RETURNING id`,
    [organizerEmail, hash],
  )) as { id: string }[];
  const [{ id: eventId }] = (await ds.query(
    `INSERT INTO events (name, start_date, end_date) VALUES ($1, now() - interval '1 hour', now() + interval '2 days')
     RETURNING id`,
    [name],
  )) as { id: string }[];
  await ds.query(`INSERT INTO user_event_assignments (event_id, user_id, role) VALUES ($1, $2, 'organisateur')`, [
    eventId,
    organizerId,
  ]);
  const users = (
    (await ds.query(
      `INSERT INTO users (email, first_name, last_name)
       SELECT 'bench' || i || '@bench.test', 'Bench', 'Visitor ' || i FROM generate_series(1, $1) i RETURNING id`,
      [count],
    )) as { id: string }[]
  ).map((u) => u.id);
  await ds.query(
    `INSERT INTO user_event_assignments (event_id, user_id, role) SELECT $1, u, 'participant' FROM unnest($2::uuid[]) u`,
    [eventId, users],
  );
  const issuer = new BadgeIssuer(Buffer.from(BENCH_QR_SECRET));
  for (let i = 0; i < users.length; i += 10_000) await issuer.ensure(ds.manager, eventId, users.slice(i, i + 10_000));
  const participants: BenchEvent['participants'] = await ds.query(
    'SELECT id, qr_salt, qr_hash FROM participants WHERE event_id = $1 ORDER BY id',
    [eventId],
  );
  return { eventId, organizerEmail, organizerId, participants };
}

/**
 * The node flags a bench runs the server with: those of `npm start` (package.json), so that it runs as production
 * does (the young generation size changes the server's memory); `--cpu-prof` with BENCH_PROFILE=1 (a CPU profile in
 * the working folder); then BENCH_NODE_FLAGS (A/B runs of a V8 setting; a later flag wins).
 */
export function serverNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  return [
    ...pkg.scripts.start.split(/\s+/).filter((word) => word.startsWith('--')),
    ...(process.env.BENCH_PROFILE === '1' ? ['--cpu-prof'] : []),
    ...(process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean),
  ];
}

/**
 * Starts `node dist/src/main.js` with `serverNodeFlags()` on `url` in production mode (its own process, so that its
 * memory is its own) and waits until it is ready.
 */
export async function startBenchServer(url: string): Promise<{ base: string; child: ChildProcess }> {
  const port = await freePort();
  const flags = serverNodeFlags();
  const child = spawn(process.execPath, [...flags, join(__dirname, '..', 'src', 'main.js')], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: url,
      JWT_SECRET: BENCH_JWT_SECRET,
      QR_SECRET: BENCH_QR_SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...benchRateLimits(),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/health/ready`)).ok) return { base, child };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error('the server did not become ready');
}

/** The access token of the seeded organisateur. */
export async function loginOrganizer(base: string, email: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: BENCH_PASSWORD }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access: string }).access;
}

/**
 * CPU seconds used so far (user + system, from /proc: Linux only, else null) by the process `pid` and by all
 * PostgreSQL processes of this machine (when the database is local), to report the CPU a run cost per request.
 */
export function cpuSeconds(pid: number): { server: number; database: number } | null {
  const ticks = (stat: string): number => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  try {
    const server = ticks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    let database = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (stat.includes('(postgres)')) database += ticks(stat);
      } catch {
        // The process ended meanwhile.
      }
    }
    const hz = 100; // USER_HZ, 100 on every Linux Node supports
    return { server: server / hz, database: database / hz };
  } catch {
    return null;
  }
}
