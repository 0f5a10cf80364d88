/**
 * Door benchmark (issue: doors). Seeds an event with N participants (default 100,000) and 3 busy rooms of large
 * capacity in a fresh database, starts the server as a child process (production mode), then:
 *   1. sustained: POST /api/rooms/{id}/verify_access/ for D seconds (default 30) at C connections (default 50),
 *      random badges, random room, 85% entries / 15% exits → scans/s, p50, p99, errors;
 *   2. burst: B scans (default 5,000) as fast as C connections go → duration, p99;
 *   then offline uploads: 4 devices upload 500 scans each at once (POST /api/scans/sync/) → time of each upload;
 *   3. pgbench, the database without the app, at the same load: one `door_decide` per transaction at C clients, and
 *      `door_decide_batch` of 16 scans from 2 clients (what the app sends under load) → scans/s, and the ratios
 *      app / pgbench;
 * and checks after each run that every room's occupancy equals the people inside it (and within capacity) and that
 * the check-ins equal the badges ever granted. Each run also prints its slowest 250 ms windows (their own p99) and
 * how many windows are above the run's p99: a tail made of a few stalls (a periodic one: every 2 s was the session
 * cache's expiry) shows as a handful of windows far above the rest. Prints figures; asserts nothing (timing is noisy
 * on a shared machine).
 *
 *   npm test (compiles it), then: node dist/bench/doors.js [--participants N] [--duration S] [--connections C]
 *   [--burst B] [--pgbench-batch N] [--rate R] [--quick] [--keep]. --rate holds the sustained run at R scans/s in all
 *   (its CPU per scan, printed, is then comparable between builds); --quick stops after the sustained run.
 *   DATABASE_URL names a server (default postgres://postgres@127.0.0.1:5432/postgres); the database
 *   makeplus_bench_doors is created there, and dropped again at the end (--keep leaves it).
 */
import 'reflect-metadata';
import { execFile, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { withDataSource } from '../src/database/data-source';
import { runMigrations } from '../src/database/migrate';
import { qrText } from '../src/modules/participants/badge-codes';
import {
  admin,
  BENCH_QR_SECRET,
  cpuSeconds,
  databaseUrl,
  loginOrganizer,
  seedEventWithBadges,
  startBenchServer,
} from './bench-support';

const execFileAsync = promisify(execFile);
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const PARTICIPANTS = arg('participants', 100_000);
const DURATION = arg('duration', 30);
const CONNECTIONS = arg('connections', 50);
const BURST = arg('burst', 5_000);
const PGBENCH_BATCH = arg('pgbench-batch', 16);
/** Requests per second in all for the sustained run (0: as fast as the connections go). */
const RATE = arg('rate', 0);
/** Only the sustained run (quick A/B of a change): no burst, offline uploads or pgbench. */
const QUICK = process.argv.includes('--quick');
const ROOM_CAPACITY = 1_000_000;
const DB_NAME = 'makeplus_bench_doors';

interface Seeded {
  eventId: string;
  rooms: string[];
  qrs: string[];
  organizerEmail: string;
  organizerId: string;
}

async function seed(url: string): Promise<Seeded> {
  return withDataSource(url, { poolSize: 2 }, async (ds) => {
    await runMigrations(ds);
    const started = Date.now();
    const { eventId, organizerEmail, organizerId, participants } = await seedEventWithBadges(
      ds,
      'Bench doors',
      PARTICIPANTS,
    );
    const rooms = (
      (await ds.query(
        `INSERT INTO rooms (event_id, name, capacity) SELECT $1, 'Hall ' || i, $2 FROM generate_series(1, 3) i
         RETURNING id`,
        [eventId, ROOM_CAPACITY],
      )) as { id: string }[]
    ).map((r) => r.id);
    const key = Buffer.from(BENCH_QR_SECRET);
    const qrs = participants.map((b) => qrText(key, b.id, b.qr_salt));
    // For pgbench: the same badges and rooms, numbered.
    await ds.query('CREATE TABLE bench_badges (i integer PRIMARY KEY, qr_hash text NOT NULL)');
    await ds.query('INSERT INTO bench_badges SELECT row_number() OVER (), h FROM unnest($1::text[]) h', [
      participants.map((b) => b.qr_hash),
    ]);
    await ds.query('CREATE TABLE bench_rooms (i integer PRIMARY KEY, id uuid NOT NULL)');
    await ds.query('INSERT INTO bench_rooms SELECT row_number() OVER (), r FROM unnest($1::uuid[]) r', [rooms]);
    await ds.query('VACUUM ANALYZE');
    console.log(`seeded ${qrs.length} badges, 3 rooms in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { eventId, rooms, qrs, organizerEmail, organizerId };
  });
}

interface Run {
  scansPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  seconds: number;
  total: number;
  reasons: Record<string, number>;
  /** The run's slowest 250 ms windows, by their own p99: where a tail comes from (steady, or stalls). */
  windows: { slowest: { at: number; p99: number; scans: number }[]; overRunP99: number; count: number };
  /** CPU milliseconds per scan: the server, PostgreSQL, the load generator (null where /proc is not there). */
  cpu: { server: number; database: number; client: number } | null;
}

async function load(
  base: string,
  token: string,
  s: Seeded,
  opts: { duration?: number; amount?: number; rate?: number; pid?: number },
): Promise<Run> {
  const reasons: Record<string, number> = {};
  const before = opts.pid ? cpuSeconds(opts.pid) : null;
  const client = process.cpuUsage();
  // autocannon ends a run on its next one-second tick: its duration rounds a burst up to whole seconds.
  const started = performance.now();
  let lastAnswer = started;
  const latencies = new Map<number, number[]>(); // by 250 ms window since the start
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: base,
        connections: CONNECTIONS,
        ...(opts.rate ? { overallRate: opts.rate } : {}),
        ...(opts.amount ? { amount: opts.amount } : { duration: opts.duration }),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => {
              const room = s.rooms[Math.floor(Math.random() * s.rooms.length)] as string;
              const qr = s.qrs[Math.floor(Math.random() * s.qrs.length)] as string;
              return {
                ...req,
                path: `/api/rooms/${room}/verify_access/`,
                body: JSON.stringify({ qr_data: qr, direction: Math.random() < 0.85 ? 'in' : 'out' }),
              };
            },
            onResponse: (_status, body) => {
              lastAnswer = performance.now();
              const code = /"reason_code":"(\w+)"/.exec(body)?.[1] ?? 'none';
              reasons[code] = (reasons[code] ?? 0) + 1;
            },
          },
        ],
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, _status, _bytes, ms) => {
      const at = Math.floor((performance.now() - started) / 250);
      const list = latencies.get(at);
      if (list) list.push(ms);
      else latencies.set(at, [ms]);
    });
  });
  const after = opts.pid ? cpuSeconds(opts.pid) : null;
  const clientUsed = process.cpuUsage(client);
  const perScan = (seconds: number) => (seconds * 1000) / Math.max(1, result.requests.total);
  // Until the last answer; autocannon's own duration when nothing answered (every request failed).
  const seconds = lastAnswer > started ? (lastAnswer - started) / 1000 : result.duration;
  return {
    cpu:
      before && after
        ? {
            server: perScan(after.server - before.server),
            database: perScan(after.database - before.database),
            client: perScan((clientUsed.user + clientUsed.system) / 1e6),
          }
        : null,
    scansPerSecond: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    seconds,
    total: result.requests.total,
    reasons,
    windows: slowestWindows(latencies, result.latency.p99),
  };
}

function slowestWindows(latencies: Map<number, number[]>, runP99: number): Run['windows'] {
  const windows = [...latencies].map(([at, list]) => {
    list.sort((a, b) => a - b);
    return { at: at / 4, p99: list[Math.floor(list.length * 0.99)] ?? 0, scans: list.length };
  });
  return {
    slowest: [...windows].sort((a, b) => b.p99 - a.p99).slice(0, 3),
    overRunP99: windows.filter((w) => w.p99 > runP99).length,
    count: windows.length,
  };
}

/**
 * Offline uploads: DEVICES door apps that were offline each upload a full batch of 500 scans (random badges and rooms,
 * device times over the last hour) at the same moment. Answers the time of the slowest upload and scans/s.
 */
async function offlineUploads(base: string, token: string, s: Seeded): Promise<string> {
  const DEVICES = 4;
  const since = Date.now() - 3_600_000;
  const batches = Array.from({ length: DEVICES }, (_, d) => ({
    device_id: `bench-offline-${d}-${Date.now()}`,
    scans: Array.from({ length: 500 }, (_, i) => ({
      nonce: `n${i}`,
      qr_data: s.qrs[Math.floor(Math.random() * s.qrs.length)],
      room_id: s.rooms[Math.floor(Math.random() * s.rooms.length)],
      direction: Math.random() < 0.85 ? 'in' : 'out',
      scanned_at: new Date(since + i * 7_000 + d).toISOString(),
      local_decision: 'granted',
    })),
  }));
  const started = performance.now();
  const times = await Promise.all(
    batches.map(async (body) => {
      const res = await fetch(`${base}/api/scans/sync/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status !== 200) throw new Error(`sync answered ${res.status}: ${await res.text()}`);
      return performance.now() - started;
    }),
  );
  const slowest = Math.max(...times);
  return (
    `offline uploads: ${DEVICES} devices × 500 scans at once, each done in ` +
    `${times.map((t) => t.toFixed(0)).join('/')} ms (${((DEVICES * 500) / (slowest / 1000)).toFixed(0)} scans/s)`
  );
}

/** Occupancy equals the people inside, within capacity; check-ins equal the badges ever granted an entry. */
async function invariants(url: string, s: Seeded): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const rooms = await client.query(
      `SELECT r.id, r.current_participants AS occ, r.capacity,
              (SELECT count(*)::int FROM participants p WHERE p.current_room_id = r.id) AS inside
         FROM rooms r WHERE r.event_id = $1`,
      [s.eventId],
    );
    const bad = rooms.rows.filter((r) => r.occ !== r.inside || r.occ < 0 || r.occ > r.capacity);
    const checks = await client.query(
      `SELECT (SELECT count(*)::int FROM participants WHERE event_id = $1 AND is_checked_in) AS checked_in,
              (SELECT count(DISTINCT participant_id)::int FROM room_access_logs
                WHERE event_id = $1 AND status = 'granted' AND direction = 'in') AS granted`,
      [s.eventId],
    );
    const { checked_in, granted } = checks.rows[0] as { checked_in: number; granted: number };
    const occupancy = rooms.rows.map((r) => r.occ).join('/');
    return (
      `occupancy ${occupancy} = people inside: ${bad.length === 0 ? 'yes' : `NO (${bad.length} rooms off)`}; ` +
      `check-ins ${checked_in} = badges granted ${granted}: ${checked_in === granted ? 'yes' : 'NO'}`
    );
  } finally {
    await client.end();
  }
}

/**
 * The database's side of a scan without the app, two ways:
 *  - `single`: one scan per transaction, at the bench's concurrency: `door_decide` committed without waiting for the
 *    disk, then the flush barrier (see src/modules/access/wal-flush-barrier.ts), as a scan alone would be decided;
 *  - `batch`: what the app sends under load: `door_decide_batch` of BATCH random scans, then the barrier, from 2
 *    clients (the app keeps at most 2 batches in flight). Counted in scans per second.
 */
function pgbenchScript(s: Seeded, mode: 'single' | 'batch'): string {
  const tail = `set_config('synchronous_commit', 'off', true);\nSELECT pg_logical_emit_message(true, 'makeplus', 'flush');\n`;
  if (mode === 'batch') {
    return (
      `SELECT door_decide_batch((SELECT jsonb_agg(jsonb_build_object('event', '${s.eventId}', 'room', r.id, ` +
      `'qr_hash', b.qr_hash, 'direction', CASE WHEN x.o <= 85 THEN 'in' ELSE 'out' END, 'scanner', '${s.organizerId}', ` +
      `'scanner_role', 'organisateur', 'source', 'online')) ` +
      `FROM (SELECT floor(random() * ${s.qrs.length})::int + 1 AS b, floor(random() * ${s.rooms.length})::int + 1 AS r, ` +
      `floor(random() * 100)::int + 1 AS o FROM generate_series(1, ${PGBENCH_BATCH})) x ` +
      `JOIN bench_badges b ON b.i = x.b JOIN bench_rooms r ON r.i = x.r), ` +
      `'900 seconds'::interval, '1800 seconds'::interval), ${tail}`
    );
  }
  return [
    `\\set b random(1, ${s.qrs.length})`,
    `\\set r random(1, ${s.rooms.length})`,
    `\\set o random(1, 100)`,
    `SELECT door_decide('${s.eventId}', (SELECT id FROM bench_rooms WHERE i = :r), ` +
      `(SELECT qr_hash FROM bench_badges WHERE i = :b), NULL, CASE WHEN :o <= 85 THEN 'in' ELSE 'out' END, ` +
      `'${s.organizerId}', 'organisateur', NULL, NULL, NULL, 'online', NULL, NULL, NULL, ` +
      `'900 seconds'::interval, '1800 seconds'::interval), ${tail}`,
  ].join('\n');
}

/** Runs pgbench in one mode; answers scans per second. */
async function pgbench(url: string, s: Seeded, mode: 'single' | 'batch'): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-doors-'));
  const script = join(dir, 'door.sql');
  writeFileSync(script, pgbenchScript(s, mode));
  const clients = mode === 'batch' ? 2 : CONNECTIONS;
  try {
    const { stdout } = await execFileAsync(
      'pgbench',
      ['-n', '-c', String(clients), '-j', '2', '-T', String(DURATION), '-f', script, url],
      { maxBuffer: 10 * 1024 * 1024 },
    );
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1]);
    const latency = /latency average = ([\d.]+) ms/.exec(stdout)?.[1];
    const scans = mode === 'batch' ? tps * PGBENCH_BATCH : tps;
    console.log(
      mode === 'batch'
        ? `pgbench, batches of ${PGBENCH_BATCH} from ${clients} clients: ${scans.toFixed(0)} scans/s ` +
            `(${tps.toFixed(0)} batches/s, latency average ${latency} ms)`
        : `pgbench, one scan per transaction from ${clients} clients: ${scans.toFixed(0)} scans/s, ` +
            `latency average ${latency} ms`,
    );
    return scans;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (r: Run) =>
  `${r.scansPerSecond.toFixed(0)} scans/s over ${r.seconds.toFixed(1)} s (${r.total} scans), p50 ${r.p50} ms, ` +
  `p99 ${r.p99} ms, errors ${r.errors}, non-2xx ${r.non2xx}; ${JSON.stringify(r.reasons)}` +
  (r.cpu
    ? `\n  CPU per scan: server ${r.cpu.server.toFixed(3)} ms, PostgreSQL ${r.cpu.database.toFixed(3)} ms, ` +
      `load generator ${r.cpu.client.toFixed(3)} ms`
    : '') +
  `\n  250 ms windows: ${r.windows.overRunP99} of ${r.windows.count} above the run's p99; slowest ` +
  r.windows.slowest.map((w) => `at ${w.at.toFixed(2)} s p99 ${Math.round(w.p99)} ms (${w.scans} scans)`).join(', ');

async function main(): Promise<void> {
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${DB_NAME}`);
  });
  const url = databaseUrl(DB_NAME);
  let server: { base: string; child: ChildProcess } | undefined;
  try {
    const s = await seed(url);
    server = await startBenchServer(url);
    const access = await loginOrganizer(server.base, s.organizerEmail);
    console.log(`${CONNECTIONS} connections, ${s.qrs.length} badges, 3 rooms of capacity ${ROOM_CAPACITY}`);
    await load(server.base, access, s, { duration: 3 }); // warm-up
    const pid = server.child.pid;
    const sustained = await load(server.base, access, s, { duration: DURATION, rate: RATE, pid });
    console.log(`sustained${RATE ? ` at ${RATE}/s` : ''}: ${fmt(sustained)}`);
    console.log(`  ${await invariants(url, s)}`);
    if (QUICK) return;
    const burst = await load(server.base, access, s, { amount: BURST, pid });
    console.log(`burst of ${BURST}: ${fmt(burst)}`);
    console.log(`  ${await invariants(url, s)}`);
    console.log(await offlineUploads(server.base, access, s));
    console.log(`  ${await invariants(url, s)}`);
    server.child.kill('SIGTERM');
    server = undefined;
    const single = await pgbench(url, s, 'single');
    console.log(`  ${await invariants(url, s)}`);
    const batched = await pgbench(url, s, 'batch');
    console.log(`  ${await invariants(url, s)}`);
    console.log(
      `ratio app / pgbench: ${(sustained.scansPerSecond / single).toFixed(2)} (one scan per transaction), ` +
        `${(sustained.scansPerSecond / batched).toFixed(2)} (batches)`,
    );
  } finally {
    server?.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    if (!process.argv.includes('--keep'))
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
