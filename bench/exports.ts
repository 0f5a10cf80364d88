/**
 * Export benchmark (issue: attendance, CSV of 100,000 rows with flat memory). Seeds an event with N participants
 * (default 100,000), each with an event attendance record, starts the server as its own process (so that its memory
 * is its own), then downloads `GET /api/events/{id}/attendance.csv`:
 *   1. fast: one download read as fast as the client goes → rows, MB, time to the first byte, total time;
 *   2. slow: one download read 64 KB at a time with a pause between reads, like a phone on a weak network → the
 *      server holds back instead of buffering the file;
 *   3. parallel: as many downloads at once as the per-instance export limit, plus one → that one is refused (429);
 * sampling the server's RSS (VmRSS) every 20 ms: before, and the peak of each run. Prints figures; asserts nothing.
 *
 *   npx tsc -p tsconfig.json, then: node dist/bench/exports.js [--participants N] [--slow-ms MS]
 *   DATABASE_URL names a server (default postgres://postgres@127.0.0.1:5432/postgres); the database
 *   makeplus_bench_exports is created there, and dropped again at the end.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { withDataSource } from '../src/database/data-source';
import { runMigrations } from '../src/database/migrate';
import { MAX_CONCURRENT_EXPORTS } from '../src/database/copy-csv';
import { admin, databaseUrl, loginOrganizer, seedEventWithBadges, startBenchServer } from './bench-support';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const PARTICIPANTS = arg('participants', 100_000);
const SLOW_MS = arg('slow-ms', 5);
const DB_NAME = 'makeplus_bench_exports';
const MB = 1024 * 1024;

/** The server's resident memory, sampled every 20 ms: `peak()` since the last `reset()`. */
class RssSampler {
  private max = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 20);
  }

  now(): number {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))?.[1];
    return Number(kb) / 1024;
  }

  reset(): void {
    this.max = this.now();
  }

  peak(): number {
    this.sample();
    return this.max;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    this.max = Math.max(this.max, this.now());
  }
}

interface Download {
  status: number;
  bytes: number;
  lines: number;
  firstByteMs: number;
  totalMs: number;
}

/** Reads the body chunk by chunk (never keeping it), pausing `pauseMs` after each chunk when asked. */
async function download(url: string, token: string, pauseMs = 0): Promise<Download> {
  const started = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  let firstByteMs = 0;
  let bytes = 0;
  let lines = 0;
  const reader = res.body?.getReader();
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    if (bytes === 0) firstByteMs = performance.now() - started;
    bytes += value.byteLength;
    for (const byte of value) if (byte === 10) lines++;
    if (pauseMs > 0) await sleep(pauseMs);
  }
  return { status: res.status, bytes, lines, firstByteMs, totalMs: performance.now() - started };
}

const describe = (d: Download) =>
  `${d.status}, ${d.lines - 1} rows, ${(d.bytes / MB).toFixed(1)} MB, first byte ${d.firstByteMs.toFixed(0)} ms, ` +
  `total ${(d.totalMs / 1000).toFixed(2)} s (${(d.bytes / MB / (d.totalMs / 1000)).toFixed(1)} MB/s)`;

async function seed(url: string): Promise<{ eventId: string; organizerEmail: string }> {
  return withDataSource(url, { poolSize: 2 }, async (ds) => {
    await runMigrations(ds);
    const started = Date.now();
    const { eventId, organizerEmail } = await seedEventWithBadges(ds, 'Bench exports', PARTICIPANTS);
    await ds.query(
      `INSERT INTO attendances (event_id, participant_id, session_id, method, attended_at)
       SELECT $1, id, NULL, 'self', now() - random() * interval '1 hour' FROM participants WHERE event_id = $1`,
      [eventId],
    );
    await ds.query('VACUUM ANALYZE');
    console.log(
      `seeded ${PARTICIPANTS} participants with an attendance record each in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return { eventId, organizerEmail };
  });
}

async function main(): Promise<void> {
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${DB_NAME}`);
  });
  const url = databaseUrl(DB_NAME);
  let server: Awaited<ReturnType<typeof startBenchServer>> | undefined;
  let rss: RssSampler | undefined;
  try {
    const s = await seed(url);
    server = await startBenchServer(url);
    const token = await loginOrganizer(server.base, s.organizerEmail);
    const csv = `${server.base}/api/events/${s.eventId}/attendance.csv`;
    rss = new RssSampler(server.child.pid as number);
    await download(csv, token); // warm-up: first COPY, JIT
    await sleep(500);
    const idle = rss.now();
    console.log(`server RSS before the downloads: ${idle.toFixed(0)} MB`);

    rss.reset();
    const fast = await download(csv, token);
    const fastPeak = rss.peak();
    console.log(`fast: ${describe(fast)}; server RSS peak ${fastPeak.toFixed(0)} MB`);

    rss.reset();
    const slow = await download(csv, token, SLOW_MS);
    const slowPeak = rss.peak();
    console.log(`slow (pause ${SLOW_MS} ms per chunk): ${describe(slow)}; server RSS peak ${slowPeak.toFixed(0)} MB`);

    rss.reset();
    const parallel = await Promise.all(
      Array.from({ length: MAX_CONCURRENT_EXPORTS + 1 }, (_, i) => download(csv, token, i === 0 ? SLOW_MS : 0)),
    );
    const statuses = parallel.map((d) => d.status).join(', ');
    const served = parallel.filter((d) => d.status === 200);
    const parallelPeak = rss.peak();
    console.log(
      `parallel ${parallel.length} (limit ${MAX_CONCURRENT_EXPORTS}): statuses ${statuses}; ` +
        `${served.length} whole (${served.map((d) => d.lines - 1).join('/')} rows); ` +
        `server RSS peak ${parallelPeak.toFixed(0)} MB`,
    );
    const above = (peak: number) => `+${(peak - idle).toFixed(0)} MB`;
    console.log(
      `==== exports: ${fast.lines - 1} rows (${(fast.bytes / MB).toFixed(1)} MB) in ${(fast.totalMs / 1000).toFixed(2)} s; ` +
        `server RSS ${idle.toFixed(0)} MB idle, peak above it: fast ${above(fastPeak)}, slow ${above(slowPeak)}, ` +
        `${served.length} in parallel ${above(parallelPeak)}`,
    );
  } finally {
    rss?.stop();
    server?.child.kill('SIGTERM');
    await sleep(500);
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
