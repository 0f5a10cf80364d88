/**
 * Real-time fan-out benchmark (socket.io gateway). Seeds a fresh database (makeplus_bench_fanout) with one running
 * event, one organisateur, N client users (default 5,000) of one role (default controlleur_des_badges, a staff role:
 * they receive occupancy), one room and one session (tomorrow, so door scans today mark no attendance);
 * with the doors mode also P participants with badges. Users, memberships and auth sessions are inserted with SQL and
 * the access tokens signed here with the server's JWT_SECRET (no login: argon2 is slow). Then it starts the server as
 * a child process (production mode, the node flags of `npm start`, LOG_LEVEL=warn), connects the N socket.io clients
 * from W forked client processes (websocket only, in batches), and runs:
 *   broadcast: W warm-up rounds (default 3, not counted), then R rounds (default 20, 500 ms apart) of
 *     `PATCH /api/sessions/{id}/` with a title carrying the send time; every client
 *     records receive time − send time of its `sessionUpdated` → per round and overall p50/p95/p99/max and how many
 *     of the N received it; server RSS (VmRSS of the server's pid) before and after connecting and peak in the rounds.
 *     Two canary sockets in this process, one connected before all clients and one after, show when the server
 *     reached the first and the last socket of the room (socket.io sends to a room's sockets in join order), apart
 *     from the queueing in the loaded client processes. Each round also reads the CPU time (schedstat, all threads)
 *     of the server, the client processes and this process from the PATCH's send to the last reply: that work divided
 *     by the machine's cores is a floor under a round's duration here (PostgreSQL's part is not counted).
 *   doors (--with-doors, or --mode doors): with the N clients connected, `POST /api/rooms/{room}/verify_access/` at C
 *     connections (default 50) for D seconds (default 20), random badges, 85% in / 15% out, while the server pushes
 *     `roomOccupancy` (at most every OCCUPANCY_PUSH_INTERVAL_MS, default 500) to the staff sockets (`accessScanned`
 *     goes to organisateurs, gestionnaires and sockets that joined the room, so controllers get none here), and a
 *     `sessionUpdated` goes out every 2 s → scans/s, p50, p99, errors; per client occupancy and
 *     accessScanned messages per second; spread of each occupancy push (arrival − first arrival of that push, the
 *     message carries no timestamp) and its inter-arrival; sessionUpdated latency under scan load; server RSS and CPU.
 * Before all that, in the broadcast modes, the machine's floor (bench/loopback-floor): plain TCP writes to N loopback
 * sockets read by one process, no socket.io, no server, to read the broadcast latencies against.
 * Cleans up (clients, server, database) and prints a summary block. Prints figures; asserts nothing.
 *
 *   npx tsc -p tsconfig.json, then: node dist/bench/fanout.js [--clients N] [--rounds R] [--warmup K] [--interval MS]
 *   [--workers W] [--batch B] [--with-doors | --mode broadcast|doors|both] [--duration S] [--connections C]
 *   [--participants P] [--client-role ROLE] [--redis] [--max-rss-mb M] [--keep]
 * DATABASE_URL names a PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres). BENCH_NODE_FLAGS adds
 * node flags to the server (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"); BENCH_PROFILE=1 is short for --cpu-prof;
 * BENCH_SERVER_MAIN runs another build of the server (an experimental copy of dist/src/main.js) for A/B runs.
 * Client processes: --workers (default 1 up to 5,000 clients, 2 above), forked from this file (--client-process),
 * with a 64 MB young generation (CLIENT_NODE_FLAGS): with node's default, a round's messages were promoted and the old
 * generation's marking ran in the middle of a round, adding up to ~80 ms to the clients of one process (a delay of the
 * load generator, not of the server). BENCH_CLIENT_NODE_FLAGS adds flags to them (a later flag wins).
 * The load generator shares the machine with the server: the bench prints how busy the machine was before and during
 * each phase, and how much of it was other work.
 * Each client process holds one file descriptor per socket and the server one per client: check `ulimit -n`.
 */
import 'reflect-metadata';
import { fork, spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createSecretKey, randomUUID } from 'node:crypto';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import jwt from 'jsonwebtoken';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { withDataSource } from '../src/database/data-source';
import { runMigrations } from '../src/database/migrate';
import { qrText } from '../src/modules/participants/badge-codes';
import { BadgeIssuer } from '../src/modules/participants/badge-issuer';
import type { ClientToServerEvents, ServerToClientEvents } from '../src/realtime/realtime.events';
import { admin, benchRateLimits, databaseUrl, freePort, serverNodeFlags } from './bench-support';
import { describeFloor, measureLoopbackFloor } from './loopback-floor';

type AppClient = ClientSocket<ServerToClientEvents, ClientToServerEvents>;

const argv = process.argv;
const arg = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i > 0 ? Number(argv[i + 1]) : fallback;
};
const argText = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i > 0 ? (argv[i + 1] ?? fallback) : fallback;
};
const CLIENTS = arg('clients', 5_000);
const ROUNDS = arg('rounds', 20);
const WARMUP = arg('warmup', 3);
const INTERVAL_MS = arg('interval', 500);
const WORKERS = arg('workers', CLIENTS > 5_000 ? 2 : 1);
const BATCH = arg('batch', 100);
const DURATION = arg('duration', 20);
const CONNECTIONS = arg('connections', 50);
const PARTICIPANTS = arg('participants', 5_000);
const MAX_RSS_MB = arg('max-rss-mb', 4_096);
const ROUND_TIMEOUT_MS = arg('round-timeout', 15_000);
const MODE = argv.includes('--with-doors') ? 'both' : argText('mode', 'broadcast');
const CLIENT_ROLE = argText('client-role', 'controlleur_des_badges');
const REDIS = argv.includes('--redis');
const KEEP = argv.includes('--keep');
const JWT_SECRET = 'bench-fanout-jwt-secret-bench-fanout-jwt-secret';
const QR_SECRET = 'bench-fanout-qr-secret-bench-fanout-qr-secret';
const DB_NAME = 'makeplus_bench_fanout';
/** The server's entry point; BENCH_SERVER_MAIN runs another build (e.g. an experimental copy) instead. */
const SERVER_MAIN = process.env.BENCH_SERVER_MAIN ?? join(__dirname, '..', 'src', 'main.js');
const ROOM_CAPACITY = 1_000_000;
/** Node flags of the client processes (see the header). */
const CLIENT_NODE_FLAGS = ['--max-semi-space-size=64'];
/** The title of a bench PATCH: round number and send time (ms, wall clock with sub-ms precision). */
const TITLE = /^bench r(\d+) t([\d.]+)$/;

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// Messages between this process and the client processes.

type ToWorker =
  | { t: 'connect'; url: string; tokens: string[]; batch: number }
  | { t: 'round'; round: number; timeoutMs: number }
  | { t: 'watch-start' }
  | { t: 'watch-stop'; quietMs: number; maxWaitMs: number }
  | { t: 'close' };

interface Connected {
  t: 'connected';
  ok: number;
  failed: number;
  errors: Record<string, number>;
  connectMs: number[];
}
interface RoundReply {
  t: 'round';
  round: number;
  latencies: number[];
  live: number;
  disconnects: Record<string, number>;
}
interface WatchReply {
  t: 'watch';
  seconds: number;
  drainMs: number;
  occupancy: number[];
  scanned: number[];
  pushes: [string, number[]][];
  gaps: number[];
  cpuMs: number;
  elu: number;
  live: number;
  disconnects: Record<string, number>;
}
type FromWorker = Connected | RoundReply | WatchReply | { t: 'watching' } | { t: 'closed' };

// ---------------------------------------------------------------------------------------------------------------
// The client process: holds its share of the sockets and records what they receive.

function clientProcess(): void {
  const sockets: AppClient[] = [];
  const live = new Set<number>();
  const rounds = new Map<number, number[]>();
  const roundWaiters = new Map<number, () => void>();
  const disconnects: Record<string, number> = {};
  let watching = false;
  let watchStarted = 0;
  let lastMessageAt = 0;
  let occupancy = new Uint32Array(0);
  let scanned = new Uint32Array(0);
  let lastOccupancyAt = new Float64Array(0);
  let gaps: number[] = [];
  let pushes = new Map<string, number[]>();
  let cpuMark = process.cpuUsage();
  let eluMark = performance.eventLoopUtilization();
  const send = (m: FromWorker) => process.send?.(m);

  const attach = (s: AppClient, i: number) => {
    s.on('sessionUpdated', (message) => {
      const at = now();
      lastMessageAt = at;
      const m = TITLE.exec((message.session as { title?: string } | null)?.title ?? '');
      if (!m) return;
      const round = Number(m[1]);
      let list = rounds.get(round);
      if (!list) rounds.set(round, (list = []));
      list.push(at - Number(m[2]));
      if (list.length >= live.size) roundWaiters.get(round)?.();
    });
    // With connection state recovery the server appends the packet's offset (one id per broadcast) to the arguments.
    let seq = 0;
    s.on('roomOccupancy', (...args: unknown[]) => {
      const at = now();
      lastMessageAt = at;
      seq += 1;
      if (!watching) return;
      occupancy[i] += 1;
      if (lastOccupancyAt[i] > 0) gaps.push(at - lastOccupancyAt[i]);
      lastOccupancyAt[i] = at;
      const key = typeof args[1] === 'string' ? args[1] : `#${seq}`;
      let list = pushes.get(key);
      if (!list) pushes.set(key, (list = []));
      list.push(at);
    });
    s.on('accessScanned', () => {
      lastMessageAt = now();
      if (watching) scanned[i] += 1;
    });
    s.on('disconnect', (reason) => {
      if (live.delete(i)) disconnects[reason] = (disconnects[reason] ?? 0) + 1;
    });
  };

  const connectOne = (url: string, token: string, i: number) =>
    new Promise<{ ok: boolean; ms: number; error?: string }>((resolve) => {
      const started = performance.now();
      const s: AppClient = io(url, {
        path: '/socket.io',
        transports: ['websocket'],
        auth: { token },
        reconnection: false,
        forceNew: true,
        timeout: 30_000,
      });
      sockets[i] = s;
      attach(s, i);
      s.once('connect', () => {
        live.add(i);
        resolve({ ok: true, ms: performance.now() - started });
      });
      s.once('connect_error', (error: Error) =>
        resolve({ ok: false, ms: performance.now() - started, error: error.message }),
      );
    });

  const handle = async (m: ToWorker): Promise<void> => {
    switch (m.t) {
      case 'connect': {
        const errors: Record<string, number> = {};
        const connectMs: number[] = [];
        let ok = 0;
        occupancy = new Uint32Array(m.tokens.length);
        scanned = new Uint32Array(m.tokens.length);
        lastOccupancyAt = new Float64Array(m.tokens.length);
        for (let start = 0; start < m.tokens.length; start += m.batch) {
          const batch = m.tokens.slice(start, start + m.batch);
          const results = await Promise.all(batch.map((token, j) => connectOne(m.url, token, start + j)));
          for (const r of results) {
            connectMs.push(r.ms);
            if (r.ok) ok += 1;
            else errors[r.error ?? 'unknown'] = (errors[r.error ?? 'unknown'] ?? 0) + 1;
          }
        }
        send({ t: 'connected', ok, failed: m.tokens.length - ok, errors, connectMs });
        break;
      }
      case 'round': {
        const have = () => rounds.get(m.round)?.length ?? 0;
        if (have() < live.size) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, m.timeoutMs);
            roundWaiters.set(m.round, () => {
              clearTimeout(timer);
              resolve();
            });
          });
          roundWaiters.delete(m.round);
        }
        send({
          t: 'round',
          round: m.round,
          latencies: rounds.get(m.round) ?? [],
          live: live.size,
          disconnects: { ...disconnects },
        });
        rounds.delete(m.round);
        break;
      }
      case 'watch-start': {
        occupancy.fill(0);
        scanned.fill(0);
        lastOccupancyAt.fill(0);
        gaps = [];
        pushes = new Map();
        cpuMark = process.cpuUsage();
        eluMark = performance.eventLoopUtilization();
        watchStarted = now();
        watching = true;
        send({ t: 'watching' });
        break;
      }
      case 'watch-stop': {
        // The scans have ended: wait until the sockets fall quiet (a backlog drains) before counting.
        const asked = now();
        while (now() - lastMessageAt < m.quietMs && now() - asked < m.maxWaitMs) await sleep(100);
        watching = false;
        const cpu = process.cpuUsage(cpuMark);
        send({
          t: 'watch',
          seconds: (now() - watchStarted) / 1000,
          drainMs: Math.max(0, lastMessageAt - asked),
          occupancy: [...occupancy],
          scanned: [...scanned],
          pushes: [...pushes.entries()],
          gaps,
          cpuMs: (cpu.user + cpu.system) / 1000,
          elu: performance.eventLoopUtilization(eluMark).utilization,
          live: live.size,
          disconnects: { ...disconnects },
        });
        break;
      }
      case 'close': {
        for (const s of sockets) s?.disconnect();
        send({ t: 'closed' });
        setTimeout(() => process.exit(0), 200);
        break;
      }
    }
  };
  process.on('message', (m: ToWorker) => void handle(m));
  // The bench went away (crashed or killed): do not linger with thousands of sockets.
  process.on('disconnect', () => process.exit(0));
}

class Worker {
  readonly child: ChildProcess;
  readonly count: number;

  constructor(count: number) {
    this.count = count;
    this.child = fork(__filename, ['--client-process'], {
      serialization: 'advanced',
      stdio: 'inherit',
      execArgv: [
        ...process.execArgv,
        ...CLIENT_NODE_FLAGS,
        ...(process.env.BENCH_CLIENT_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean),
      ],
    });
  }

  request<T extends FromWorker['t']>(
    message: ToWorker,
    reply: T,
    match: (m: FromWorker) => boolean = () => true,
  ): Promise<Extract<FromWorker, { t: T }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.t !== reply || !match(m)) return;
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        resolve(m as Extract<FromWorker, { t: T }>);
      };
      const onExit = (code: number | null, signal: string | null) => {
        this.child.off('message', onMessage);
        reject(new Error(`client process ${this.child.pid} exited (${code ?? signal}) while waiting for "${reply}"`));
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
      this.child.send(message);
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Figures.

interface Stats {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function stats(values: number[]): Stats {
  const v = Float64Array.from(values).sort();
  const at = (p: number) =>
    v.length === 0 ? NaN : v[Math.min(v.length - 1, Math.max(0, Math.ceil(p * v.length) - 1))];
  return { n: v.length, min: at(0), p50: at(0.5), p95: at(0.95), p99: at(0.99), max: v.length ? v[v.length - 1] : NaN };
}

const num = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const ms = (x: number) => num(x, 1);
const fmtStats = (s: Stats, unit = 'ms') =>
  `p50 ${ms(s.p50)}, p95 ${ms(s.p95)}, p99 ${ms(s.p99)}, max ${ms(s.max)} ${unit}`;
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const fmtCpu = (c: CpuWindow) =>
  `machine ${c.machineCores.toFixed(2)}/${availableParallelism()} cores busy (server ${c.serverCores.toFixed(2)}, ` +
  `clients and bench ${c.clientCores.toFixed(2)}, PostgreSQL for the bench ${c.postgresCores.toFixed(2)}, other work ` +
  `${c.otherCores.toFixed(2)}${c.otherCores > 0.25 ? ' — DISTURBED by other work' : ''})`;

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** VmRSS and VmHWM (kB) of a process. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** CPU seconds (user + system) a process has used. */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Time on a CPU of all threads of a process, in ms (schedstat: ns, user and system, not rounded to jiffies). */
function onCpuMs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended
    }
  }
  return ns / 1e6;
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat. */
function machineJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

/** CPU use over a window, in cores: the machine, the server, the clients and this process, our database backends, the rest. */
interface CpuWindow {
  machineCores: number;
  serverCores: number;
  clientCores: number;
  postgresCores: number;
  otherCores: number;
}

/** CPU seconds of the PostgreSQL backends serving the bench database, by pid. */
function postgresBackends(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(` ${DB_NAME} `)) {
        out.set(Number(entry), cpuSecondsOf(Number(entry)));
      }
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Samples a process's RSS every 100 ms and its CPU use over the window; may call a hook when RSS passes a limit. */
class Sampler {
  private timer: NodeJS.Timeout | null = null;
  private peakKb = 0;
  private cpu0 = 0;
  private t0 = 0;
  private machine0 = { busy: 0, total: 0 };
  private self0 = process.cpuUsage();
  private pg0 = new Map<number, number>();
  private readonly others: Map<number, number> = new Map();

  constructor(
    private readonly pid: number,
    private readonly otherPids: number[] = [],
    private readonly overLimit?: (rssKb: number) => void,
  ) {}

  start(): void {
    this.peakKb = memoryOf(this.pid).rss;
    this.cpu0 = cpuSecondsOf(this.pid);
    for (const p of this.otherPids) this.others.set(p, cpuSecondsOf(p));
    this.machine0 = machineJiffies();
    this.pg0 = postgresBackends();
    this.self0 = process.cpuUsage();
    this.t0 = performance.now();
    this.timer = setInterval(() => {
      try {
        const { rss } = memoryOf(this.pid);
        this.peakKb = Math.max(this.peakKb, rss);
        if (rss > MAX_RSS_MB * 1024) this.overLimit?.(rss);
      } catch {
        // the process is gone; the caller will notice
      }
    }, 100);
  }

  /** Peak RSS (kB), CPU % of one core of the process and of each other process over the window, machine CPU. */
  stop(): { peakKb: number; cpuPct: number; otherCpuPct: number[]; cpu: CpuWindow } {
    if (this.timer) clearInterval(this.timer);
    const seconds = (performance.now() - this.t0) / 1000;
    const machine = machineJiffies();
    const self = process.cpuUsage(this.self0);
    const pct = (pid: number, start: number) => {
      try {
        return ((cpuSecondsOf(pid) - start) / seconds) * 100;
      } catch {
        return NaN;
      }
    };
    const cpuPct = pct(this.pid, this.cpu0);
    const otherCpuPct = this.otherPids.map((p) => pct(p, this.others.get(p) ?? 0));
    const cores = availableParallelism();
    const machineCores =
      ((machine.busy - this.machine0.busy) / Math.max(1, machine.total - this.machine0.total)) * cores;
    const serverCores = cpuPct / 100;
    const clientCores =
      otherCpuPct.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0) / 100 +
      (self.user + self.system) / 1e6 / seconds;
    let pgSeconds = 0;
    for (const [pid, cpu] of postgresBackends()) pgSeconds += cpu - (this.pg0.get(pid) ?? 0);
    const postgresCores = pgSeconds / seconds;
    return {
      peakKb: Math.max(this.peakKb, memoryOf(this.pid).rss),
      cpuPct,
      otherCpuPct,
      cpu: {
        machineCores,
        serverCores,
        clientCores,
        postgresCores,
        otherCores: Math.max(0, machineCores - serverCores - clientCores - postgresCores),
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Database and server.

interface Seeded {
  eventId: string;
  roomId: string;
  sessionId: string;
  organizerToken: string;
  clientTokens: string[];
  canaryTokens: string[];
  qrs: string[];
}

const jwtKey = createSecretKey(Buffer.from(JWT_SECRET, 'utf8'));

/** An access token as SessionsService.issue() signs it. */
function accessToken(userId: string, sessionId: string, eventId: string): string {
  const claims = { sub: userId, sid: sessionId, event_id: eventId, jti: randomUUID(), typ: 'access' };
  return jwt.sign(claims, jwtKey, { algorithm: 'HS256', expiresIn: 6 * 3600 });
}

async function seed(url: string, withBadges: boolean): Promise<Seeded> {
  return withDataSource(url, { poolSize: 2 }, async (ds) => {
    await runMigrations(ds);
    const started = Date.now();
    const [{ id: eventId }] = (await ds.query(
      `INSERT INTO events (name, start_date, end_date) VALUES ('Bench fan-out', now() - interval '1 hour',
              now() + interval '2 days') RETURNING id`,
    )) as { id: string }[];
    const [{ id: roomId }] = (await ds.query(
      `INSERT INTO rooms (event_id, name, capacity) VALUES ($1, 'Main hall', $2) RETURNING id`,
      [eventId, ROOM_CAPACITY],
    )) as { id: string }[];
    // Tomorrow: a session running now would make every granted scan mark attendance (one more fan-out per scan).
    const [{ id: sessionId }] = (await ds.query(
      `INSERT INTO sessions (event_id, room_id, title, start_time, end_time)
       VALUES ($1, $2, 'Opening', now() + interval '1 day', now() + interval '1 day 1 hour') RETURNING id`,
      [eventId, roomId],
    )) as { id: string }[];
    /** Users of one role with one live auth session each; returns their access tokens. */
    const members = async (prefix: string, count: number, role: string): Promise<string[]> => {
      const rows = (await ds.query(
        `WITH u AS (
           INSERT INTO users (email, first_name, last_name)
           SELECT $1 || i || '@bench.test', 'Bench', $1 || ' ' || i FROM generate_series(1, $2) i RETURNING id
         ), a AS (
           INSERT INTO user_event_assignments (event_id, user_id, role) SELECT $3, id, $4 FROM u RETURNING user_id
         )
         INSERT INTO auth_sessions (user_id, event_id, user_agent) SELECT user_id, $3, 'bench-fanout' FROM a
         RETURNING id, user_id`,
        [prefix, count, eventId, role],
      )) as { id: string; user_id: string }[];
      return rows.map((r) => accessToken(r.user_id, r.id, eventId));
    };
    const [organizerToken] = await members('organizer', 1, 'organisateur');
    const clientTokens = await members('client', CLIENTS, CLIENT_ROLE);
    const canaryTokens = await members('canary', 2, CLIENT_ROLE);
    let qrs: string[] = [];
    if (withBadges) {
      const users = (
        (await ds.query(
          `WITH u AS (
             INSERT INTO users (email, first_name, last_name)
             SELECT 'visitor' || i || '@bench.test', 'Bench', 'Visitor ' || i FROM generate_series(1, $1) i RETURNING id
           )
           INSERT INTO user_event_assignments (event_id, user_id, role) SELECT $2, id, 'participant' FROM u
           RETURNING user_id`,
          [PARTICIPANTS, eventId],
        )) as { user_id: string }[]
      ).map((u) => u.user_id);
      const key = Buffer.from(QR_SECRET);
      const issuer = new BadgeIssuer(key);
      for (let i = 0; i < users.length; i += 10_000)
        await issuer.ensure(ds.manager, eventId, users.slice(i, i + 10_000));
      const badges: { id: string; qr_salt: string }[] = await ds.query(
        'SELECT id, qr_salt FROM participants WHERE event_id = $1',
        [eventId],
      );
      qrs = badges.map((b) => qrText(key, b.id, b.qr_salt));
    }
    await ds.query('VACUUM ANALYZE');
    console.log(
      `seeded 1 event, 1 room, 1 session, 1 organisateur, ${CLIENTS} + 2 canary ${CLIENT_ROLE}` +
        `${withBadges ? `, ${qrs.length} badges` : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return { eventId, roomId, sessionId, organizerToken, clientTokens, canaryTokens, qrs };
  });
}

/** The server's output goes to a file; lines are counted by level and message for the summary. */
const serverLog = { path: '', counts: new Map<string, number>(), echoed: 0 };

async function startServer(url: string): Promise<{ base: string; child: ChildProcess; pid: number }> {
  const port = await freePort();
  const flags = serverNodeFlags();
  // node itself, not npm or a shell: the child's pid is the server's, whose /proc/<pid>/status is read.
  const child = spawn(process.execPath, [...flags, SERVER_MAIN], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: url,
      JWT_SECRET,
      QR_SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      REDIS_URL: REDIS ? (process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379') : '',
      ...benchRateLimits(),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid as number;
  serverLog.path = join(tmpdir(), `bench-fanout-server-${pid}.log`);
  const file = createWriteStream(serverLog.path);
  for (const stream of [child.stdout, child.stderr]) {
    stream?.pipe(file, { end: false });
    createInterface({ input: stream! }).on('line', (line) => {
      // pino JSON lines: count them by level and message, and echo only the first few.
      let key = line.slice(0, 120);
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string };
        key = `${entry.level === 40 ? 'warn' : entry.level === 50 ? 'error' : entry.level === 60 ? 'fatal' : String(entry.level)} "${entry.msg}"`;
      } catch {
        // not JSON: keep the start of the line
      }
      serverLog.counts.set(key, (serverLog.counts.get(key) ?? 0) + 1);
      if (serverLog.echoed < 5) {
        serverLog.echoed += 1;
        console.log(`  [server] ${line.slice(0, 300)}`);
      }
    });
  }
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  if (!cmdline.some((a) => a.endsWith(join('src', 'main.js')))) throw new Error(`pid ${pid} is not the server`);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${base}/health/ready`)).ok) return { base, child, pid };
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  child.kill('SIGKILL');
  throw new Error('the server did not become ready');
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------------------------
// The phases.

interface Ctx {
  base: string;
  pid: number;
  s: Seeded;
  workers: Worker[];
  canaries: { first: number[]; last: number[] };
}

async function patchTitle(ctx: Ctx, round: number): Promise<{ sent: number; httpMs: number; status: number }> {
  const sent = now();
  const res = await fetch(`${ctx.base}/api/sessions/${ctx.s.sessionId}/`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${ctx.s.organizerToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: `bench r${round} t${sent.toFixed(3)}` }),
  });
  await res.arrayBuffer();
  return { sent, httpMs: now() - sent, status: res.status };
}

/** One canary socket in this process; records the sessionUpdated latency per round into `sink`. */
function canary(ctx: Ctx, token: string, sink: number[]): Promise<AppClient> {
  const s: AppClient = io(ctx.base, {
    path: '/socket.io',
    transports: ['websocket'],
    auth: { token },
    reconnection: false,
    forceNew: true,
  });
  s.on('sessionUpdated', (message) => {
    const at = now();
    const m = TITLE.exec((message.session as { title?: string } | null)?.title ?? '');
    if (m) sink[Number(m[1])] = at - Number(m[2]);
  });
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

interface RoundResult {
  round: number;
  received: number;
  latencies: number[];
  httpMs: number;
}
/** CPU time (ms) from the PATCH's send to the last client process's reply: server, client processes, this one. */
interface RoundCpu {
  server: number;
  clients: number;
  bench: number;
}

async function collectRound(ctx: Ctx, round: number, timeoutMs: number): Promise<RoundReply[]> {
  return Promise.all(
    ctx.workers.map((w) =>
      w.request({ t: 'round', round, timeoutMs }, 'round', (m) => (m as RoundReply).round === round),
    ),
  );
}

async function broadcastPhase(ctx: Ctx) {
  let disconnects: Record<string, number> = {};
  const clientPids = ctx.workers.map((w) => w.child.pid as number);
  const cpuNow = () => ({
    server: onCpuMs(ctx.pid),
    clients: clientPids.reduce((sum, pid) => sum + onCpuMs(pid), 0),
    bench: onCpuMs(process.pid),
  });
  const oneRound = async (round: number, label: string): Promise<RoundResult & { cpu: RoundCpu }> => {
    const cpu0 = cpuNow();
    const { httpMs, status } = await patchTitle(ctx, round);
    if (status !== 200) throw new Error(`PATCH answered ${status}`);
    const replies = await collectRound(ctx, round, ROUND_TIMEOUT_MS);
    const cpu1 = cpuNow();
    const cpu = {
      server: cpu1.server - cpu0.server,
      clients: cpu1.clients - cpu0.clients,
      bench: cpu1.bench - cpu0.bench,
    };
    const latencies = replies.flatMap((r) => r.latencies);
    disconnects = Object.assign({}, ...replies.map((r) => r.disconnects)) as Record<string, number>;
    const st = stats(latencies);
    console.log(
      `${label}: ${latencies.length}/${CLIENTS} received, PATCH ${ms(httpMs)} ms; ` +
        `min ${ms(st.min)}, ${fmtStats(st)}; canary first ${ms(ctx.canaries.first[round])} / ` +
        `last ${ms(ctx.canaries.last[round])} ms; CPU server ${ms(cpu.server)}, clients ${ms(cpu.clients)}, ` +
        `bench ${ms(cpu.bench)} ms`,
    );
    await sleep(INTERVAL_MS);
    return { round, received: latencies.length, latencies, httpMs, cpu };
  };
  // Warm-up rounds (numbered from 901, not counted): the first broadcasts run cold code.
  for (let w = 1; w <= WARMUP; w++) await oneRound(900 + w, `warm-up ${w}/${WARMUP}`);
  const sampler = new Sampler(
    ctx.pid,
    ctx.workers.map((w) => w.child.pid as number),
  );
  sampler.start();
  const results: (RoundResult & { cpu: RoundCpu })[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    results.push(await oneRound(round, `round ${String(round).padStart(2)}/${ROUNDS}`));
  }
  const window = sampler.stop();
  const all = stats(results.flatMap((r) => r.latencies));
  const perRoundP99 = stats(results.map((r) => stats(r.latencies).p99));
  const allReceived = results.every((r) => r.received === CLIENTS);
  const canaryFirst = stats(results.map((r) => ctx.canaries.first[r.round] ?? NaN).filter(Number.isFinite));
  const canaryLast = stats(results.map((r) => ctx.canaries.last[r.round] ?? NaN).filter(Number.isFinite));
  const http = stats(results.map((r) => r.httpMs));
  const cpu = {
    server: stats(results.map((r) => r.cpu.server)),
    clients: stats(results.map((r) => r.cpu.clients)),
    bench: stats(results.map((r) => r.cpu.bench)),
    total: stats(results.map((r) => r.cpu.server + r.cpu.clients + r.cpu.bench)),
  };
  return { results, all, perRoundP99, allReceived, canaryFirst, canaryLast, http, window, disconnects, cpu };
}

interface ScanRun {
  scansPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  seconds: number;
  total: number;
  reasons: Record<string, number>;
  stoppedForMemory: boolean;
}

async function scanLoad(
  ctx: Ctx,
  seconds: number,
  sampler?: { stopHook: (stop: () => void) => void },
): Promise<ScanRun> {
  const reasons: Record<string, number> = {};
  const { s } = ctx;
  let stoppedForMemory = false;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: ctx.base,
        connections: CONNECTIONS,
        duration: seconds,
        headers: { authorization: `Bearer ${s.organizerToken}`, 'content-type': 'application/json' },
        requests: [
          {
            method: 'POST',
            path: `/api/rooms/${s.roomId}/verify_access/`,
            setupRequest: (req) => {
              const qr = s.qrs[Math.floor(Math.random() * s.qrs.length)] as string;
              return { ...req, body: JSON.stringify({ qr_data: qr, direction: Math.random() < 0.85 ? 'in' : 'out' }) };
            },
            onResponse: (_status, body) => {
              const code = /"reason_code":"(\w+)"/.exec(body)?.[1] ?? 'none';
              reasons[code] = (reasons[code] ?? 0) + 1;
            },
          },
        ],
      },
      (error, r) => (error ? reject(error as Error) : resolve(r)),
    );
    sampler?.stopHook(() => {
      stoppedForMemory = true;
      instance.stop();
    });
  });
  return {
    scansPerSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    seconds: result.duration,
    total: result.requests.total,
    reasons,
    stoppedForMemory,
  };
}

async function doorsPhase(ctx: Ctx) {
  console.log(`doors: warm-up 3 s at ${CONNECTIONS} connections`);
  await scanLoad(ctx, 3);
  // Let the warm-up's backlog drain before counting.
  await Promise.all(ctx.workers.map((w) => w.request({ t: 'watch-start' }, 'watching')));
  await Promise.all(ctx.workers.map((w) => w.request({ t: 'watch-stop', quietMs: 1_000, maxWaitMs: 60_000 }, 'watch')));
  await Promise.all(ctx.workers.map((w) => w.request({ t: 'watch-start' }, 'watching')));
  let stop: (() => void) | null = null;
  let overKb = 0;
  const sampler = new Sampler(
    ctx.pid,
    ctx.workers.map((w) => w.child.pid as number),
    (rss) => {
      overKb = rss;
      stop?.();
    },
  );
  sampler.start();
  // A sessionUpdated every 2 s during the scans: its delivery latency under load.
  const sent: { round: number; httpMs: number }[] = [];
  let round = 1000;
  const ticker = setInterval(() => {
    const r = ++round;
    void patchTitle(ctx, r).then(
      ({ httpMs }) => sent.push({ round: r, httpMs }),
      () => undefined,
    );
  }, 2_000);
  console.log(`doors: ${DURATION} s of scans at ${CONNECTIONS} connections with ${CLIENTS} sockets connected`);
  const run = await scanLoad(ctx, DURATION, { stopHook: (fn) => (stop = fn) });
  clearInterval(ticker);
  const scanEnd = performance.now();
  const watch = await Promise.all(
    ctx.workers.map((w) => w.request({ t: 'watch-stop', quietMs: 1_000, maxWaitMs: 120_000 }, 'watch')),
  );
  const drainMs = Math.max(...watch.map((w) => w.drainMs));
  const window = sampler.stop();
  const rounds: RoundResult[] = [];
  for (const { round: r, httpMs } of sent) {
    const latencies = (await collectRound(ctx, r, 100)).flatMap((x) => x.latencies);
    rounds.push({ round: r, received: latencies.length, latencies, httpMs });
  }
  // Rates over the scan duration; counts include what arrived while the backlog drained.
  const occRates = stats(watch.flatMap((w) => w.occupancy).map((c) => c / run.seconds));
  const scanRates = stats(watch.flatMap((w) => w.scanned).map((c) => c / run.seconds));
  const byPush = new Map<string, number[]>();
  for (const w of watch) {
    for (const [key, times] of w.pushes) {
      const list = byPush.get(key) ?? [];
      for (const t of times) list.push(t);
      byPush.set(key, list);
    }
  }
  const spreads: number[] = [];
  for (const times of byPush.values()) {
    const first = Math.min(...times);
    for (const t of times) spreads.push(t - first);
  }
  return {
    run,
    overKb,
    pushes: byPush.size,
    occRates,
    scanRates,
    spread: stats(spreads),
    gaps: stats(watch.flatMap((w) => w.gaps)),
    drainMs,
    afterScansMs: performance.now() - scanEnd,
    workerElu: watch.map((w) => w.elu),
    window,
    broadcast: stats(rounds.flatMap((r) => r.latencies)),
    broadcastRounds: rounds.length,
    broadcastAllReceived: rounds.every((r) => r.received === CLIENTS),
    broadcastReceived: rounds.map((r) => r.received),
    live: watch.reduce((n, w) => n + w.live, 0),
    disconnects: Object.assign({}, ...watch.map((w) => w.disconnects)) as Record<string, number>,
  };
}

// ---------------------------------------------------------------------------------------------------------------

function openFilesLimit(): string {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  return m ? `${m[1]} (hard ${m[2]})` : 'unknown';
}

async function main(): Promise<void> {
  const withDoors = MODE === 'both' || MODE === 'doors';
  const withBroadcast = MODE === 'both' || MODE === 'broadcast';
  if (!withDoors && !withBroadcast) throw new Error(`--mode must be broadcast, doors or both (got ${MODE})`);
  const fdLimit = openFilesLimit();
  console.log(
    `fan-out bench: ${CLIENTS} clients (${CLIENT_ROLE}) over ${WORKERS} client process(es), mode ${MODE}, ` +
      `ulimit -n ${fdLimit}, ${REDIS ? 'Redis adapter' : 'in-memory adapter'}; server ${SERVER_MAIN}`,
  );
  const busy0 = machineJiffies();
  await sleep(1_000);
  const busy1 = machineJiffies();
  const idleLoad = ((busy1.busy - busy0.busy) / Math.max(1, busy1.total - busy0.total)) * availableParallelism();
  console.log(
    `machine before the bench: load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${idleLoad.toFixed(2)}/${availableParallelism()} cores busy` +
      `${idleLoad > 0.3 ? ' — WARNING: other work is running; figures will be disturbed' : ''}`,
  );
  const perProcess = Math.ceil(CLIENTS / WORKERS) + 100;
  const soft = Number(fdLimit.split(' ')[0]);
  if (Number.isFinite(soft) && soft < Math.max(perProcess, CLIENTS + 200)) {
    console.warn(`warning: ulimit -n ${soft} is below the ~${CLIENTS + 200} descriptors the server needs`);
  }
  // What the machine itself allows, before anything else runs: the broadcast latencies are to be read beside it.
  const floor = withBroadcast ? describeFloor(await measureLoopbackFloor(CLIENTS)) : null;
  if (floor) console.log(`loopback floor: ${floor}`);
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${DB_NAME}`);
  });
  const url = databaseUrl(DB_NAME);
  let server: { base: string; child: ChildProcess; pid: number } | undefined;
  const workers: Worker[] = [];
  const canarySockets: AppClient[] = [];
  const summary: string[] = [];
  const cleanup = async () => {
    for (const s of canarySockets) s.disconnect();
    await Promise.all(
      workers.map((w) => Promise.race([w.request({ t: 'close' }, 'closed'), sleep(20_000)]).catch(() => undefined)),
    );
    // A client process exits on its own 200 ms after 'closed' (later with --cpu-prof: it writes its profile first).
    await Promise.all(
      workers.map((w) =>
        w.child.exitCode === null
          ? Promise.race([new Promise((r) => w.child.once('exit', r)), sleep(10_000)])
          : undefined,
      ),
    );
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    if (server) await stopServer(server.child);
    server = undefined;
    if (!KEEP) await admin((c) => c.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`));
  };
  process.once('SIGINT', () => {
    console.error('interrupted: cleaning up');
    void cleanup().finally(() => process.exit(130));
  });
  try {
    const s = await seed(url, withDoors);
    server = await startServer(url);
    const { pid } = server;
    await sleep(1_000);
    const before = memoryOf(pid);
    console.log(`server pid ${pid} ready; RSS before connecting ${mb(before.rss)}`);
    const ctx: Ctx = { base: server.base, pid, s, workers, canaries: { first: [], last: [] } };
    canarySockets.push(await canary(ctx, s.canaryTokens[0] as string, ctx.canaries.first));

    // Connect: the client processes each take their share, in batches.
    for (let i = 0; i < WORKERS; i++) {
      const from = Math.floor((i * CLIENTS) / WORKERS);
      const to = Math.floor(((i + 1) * CLIENTS) / WORKERS);
      workers.push(new Worker(to - from));
    }
    const connectSampler = new Sampler(
      pid,
      workers.map((w) => w.child.pid as number),
    );
    connectSampler.start();
    const connectStart = performance.now();
    const connected = await Promise.all(
      workers.map((w, i) => {
        const from = Math.floor((i * CLIENTS) / WORKERS);
        return w.request(
          { t: 'connect', url: server!.base, tokens: s.clientTokens.slice(from, from + w.count), batch: BATCH },
          'connected',
        );
      }),
    );
    const connectSeconds = (performance.now() - connectStart) / 1000;
    const connectWindow = connectSampler.stop();
    const last = await canary(ctx, s.canaryTokens[1] as string, ctx.canaries.last);
    canarySockets.push(last);
    // A client → server message with its acknowledgement, through the gateway's checks.
    const ack = await last.timeout(10_000).emitWithAck('joinRoom', { room_id: s.roomId });
    console.log(`canary joinRoom acknowledged: ${JSON.stringify(ack)}`);
    const ok = connected.reduce((n, c) => n + c.ok, 0);
    const failed = connected.reduce((n, c) => n + c.failed, 0);
    const errors: Record<string, number> = {};
    for (const c of connected) for (const [k, v] of Object.entries(c.errors)) errors[k] = (errors[k] ?? 0) + v;
    const handshake = stats(connected.flatMap((c) => c.connectMs));
    console.log(
      `connected ${ok}/${CLIENTS} in ${connectSeconds.toFixed(1)} s (${(ok / connectSeconds).toFixed(0)}/s, batches ` +
        `of ${BATCH} per process), failed ${failed}${failed ? ` ${JSON.stringify(errors)}` : ''}; handshake ` +
        `${fmtStats(handshake)}; server CPU ${connectWindow.cpuPct.toFixed(0)}%; ${fmtCpu(connectWindow.cpu)}`,
    );
    await sleep(2_000);
    const after = memoryOf(pid);
    const perSocketKb = (after.rss - before.rss) / Math.max(1, ok);
    console.log(`server RSS after connecting ${mb(after.rss)} (+${perSocketKb.toFixed(1)} kB per socket)`);
    summary.push(
      `machine            ${availableParallelism()} cores; busy before the bench ${idleLoad.toFixed(2)} cores; ` +
        `server ${SERVER_MAIN}`,
      `clients            ${CLIENTS} ${CLIENT_ROLE} over ${WORKERS} client process(es) (+2 canaries), node flags ` +
        `${[...CLIENT_NODE_FLAGS, process.env.BENCH_CLIENT_NODE_FLAGS ?? ''].join(' ').trim()}; ulimit -n ${fdLimit}`,
      `connect            ${ok} ok / ${failed} failed in ${connectSeconds.toFixed(1)} s ` +
        `(${(ok / connectSeconds).toFixed(0)}/s, batches of ${BATCH}); handshake ${fmtStats(handshake)}` +
        `${failed ? `; errors ${JSON.stringify(errors)}` : ''}`,
      `server RSS         before ${mb(before.rss)}, after connect ${mb(after.rss)} ` +
        `(+${perSocketKb.toFixed(1)} kB/socket)`,
    );

    if (withBroadcast) {
      const b = await broadcastPhase(ctx);
      const target = CLIENTS <= 5_000 ? 100 : 300;
      const hwm = memoryOf(pid).hwm;
      console.log(
        `broadcast overall (${b.all.n} deliveries): min ${ms(b.all.min)}, ${fmtStats(b.all)}; all ${CLIENTS} ` +
          `received every round: ${b.allReceived ? 'yes' : 'NO'}; server RSS peak ${mb(b.window.peakKb)}, CPU ` +
          `${b.window.cpuPct.toFixed(0)}%, client processes CPU ${b.window.otherCpuPct.map((c) => c.toFixed(0) + '%').join(' ')}; ` +
          fmtCpu(b.window.cpu),
      );
      summary.push(
        `broadcast          ${ROUNDS} rounds × ${CLIENTS}: received ${b.results.reduce((n, r) => n + r.received, 0)}/` +
          `${ROUNDS * CLIENTS} (every round all: ${b.allReceived ? 'yes' : 'NO'}); PATCH ${fmtStats(b.http)}`,
        `  latency          ${fmtStats(b.all)}; per-round p99 from ${ms(b.perRoundP99.min)} to ${ms(b.perRoundP99.max)}` +
          ` ms → target p99 ≤ ${target} ms: ${b.all.p99 <= target ? 'met' : 'MISSED'}`,
        `  CPU per round    p50 server ${ms(b.cpu.server.p50)} + client processes ${ms(b.cpu.clients.p50)} + bench ` +
          `${ms(b.cpu.bench.p50)} = ${ms(b.cpu.total.p50)} ms (min ${ms(b.cpu.total.min)}), from the PATCH to the last ` +
          `reply; on ${availableParallelism()} cores that work alone needs ${ms(b.cpu.total.min / availableParallelism())} ` +
          `to ${ms(b.cpu.total.max / availableParallelism())} ms per round`,
        `  canaries         first socket p50 ${ms(b.canaryFirst.p50)} / max ${ms(b.canaryFirst.max)} ms; last socket ` +
          `p50 ${ms(b.canaryLast.p50)} / max ${ms(b.canaryLast.max)} ms (server-side reach, no client backlog)`,
        `  server           RSS peak ${mb(b.window.peakKb)} (VmHWM ${mb(hwm)})` +
          (CLIENTS <= 5_000
            ? ` → target ≤ 250 MB at 5,000: ${b.window.peakKb <= 250 * 1024 ? 'met' : 'MISSED'}`
            : ' (the RSS target is for 5,000 clients)') +
          `; CPU ${b.window.cpuPct.toFixed(0)}% of a core; client ` +
          `processes ${b.window.otherCpuPct.map((c) => c.toFixed(0) + '%').join(' ')}` +
          `${Object.keys(b.disconnects).length ? `; disconnects ${JSON.stringify(b.disconnects)}` : ''}`,
        `  cpu              ${fmtCpu(b.window.cpu)}`,
        `  machine floor    ${floor}`,
      );
    }

    if (withDoors) {
      const d = await doorsPhase(ctx);
      const r = d.run;
      console.log(
        `doors: ${r.scansPerSecond.toFixed(0)} scans/s over ${r.seconds.toFixed(1)} s (${r.total}), p50 ${r.p50} ms, ` +
          `p99 ${r.p99} ms, errors ${r.errors}, non-2xx ${r.non2xx}; ${JSON.stringify(r.reasons)}` +
          `${r.stoppedForMemory ? ` — STOPPED: server RSS ${mb(d.overKb)} > ${MAX_RSS_MB} MB` : ''}`,
      );
      console.log(
        `  per client: roomOccupancy ${num(d.occRates.p50, 2)}/s (min ${num(d.occRates.min, 2)}, max ` +
          `${num(d.occRates.max, 2)}), accessScanned ${num(d.scanRates.p50, 0)}/s (min ` +
          `${num(d.scanRates.min, 0)}); ${d.pushes} occupancy pushes; push spread ${fmtStats(d.spread)}; ` +
          `inter-arrival ${fmtStats(d.gaps)}; sockets quiet ${(d.drainMs / 1000).toFixed(1)} s after the scans; ` +
          `client process ELU ${d.workerElu.map((e) => e.toFixed(2)).join(' ')}`,
      );
      console.log(
        `  sessionUpdated during scans (${d.broadcastRounds} rounds, received ${d.broadcastReceived.join('/')}): ` +
          `${fmtStats(d.broadcast)}; server RSS peak ${mb(d.window.peakKb)}, CPU ${d.window.cpuPct.toFixed(0)}%, ` +
          `${fmtCpu(d.window.cpu)}, ` +
          `sockets still connected ${d.live}/${CLIENTS}${Object.keys(d.disconnects).length ? ` ${JSON.stringify(d.disconnects)}` : ''}`,
      );
      summary.push(
        `doors              ${r.scansPerSecond.toFixed(0)} scans/s, p50 ${r.p50} ms, p99 ${r.p99} ms, errors ` +
          `${r.errors}, non-2xx ${r.non2xx} (${CONNECTIONS} conn, ${r.seconds.toFixed(0)} s, ${CLIENTS} sockets) → ` +
          `target p99 ≤ 100 ms: ${r.p99 <= 100 ? 'met' : 'MISSED'}${r.stoppedForMemory ? ' (stopped: RSS limit)' : ''}`,
        `  per client       roomOccupancy ${num(d.occRates.p50, 2)}/s (min ${num(d.occRates.min, 2)}, max ` +
          `${num(d.occRates.max, 2)}); accessScanned ${num(d.scanRates.p50, 0)}/s; push spread ` +
          `${fmtStats(d.spread)}; inter-arrival p50 ${ms(d.gaps.p50)}, p99 ${ms(d.gaps.p99)} ms; backlog drained ` +
          `${(d.drainMs / 1000).toFixed(1)} s after the scans`,
        `  sessionUpdated   under scans ${fmtStats(d.broadcast)} (all received: ${d.broadcastAllReceived ? 'yes' : 'NO'})`,
        `  server           RSS peak ${mb(d.window.peakKb)}, CPU ${d.window.cpuPct.toFixed(0)}% of a core; client ` +
          `processes ${d.window.otherCpuPct.map((c) => c.toFixed(0) + '%').join(' ')}; still connected ${d.live}/${CLIENTS}`,
        `  cpu              ${fmtCpu(d.window.cpu)}`,
      );
    }
    summary.push(`server VmHWM       ${mb(memoryOf(pid).hwm)} (peak RSS over the whole run)`);
    const logged = [...serverLog.counts].map(([k, n]) => `${n}× ${k}`).join('; ');
    summary.push(`server log         ${logged || 'nothing at warn or above'} (${serverLog.path})`);
  } finally {
    await cleanup();
  }
  console.log(['', '==== fan-out summary ====', ...summary, '========================='].join('\n'));
}

if (process.argv.includes('--client-process')) {
  clientProcess();
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
