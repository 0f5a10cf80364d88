/**
 * The machine's floor for a broadcast: one process writes one small buffer to each of N loopback TCP sockets (plain
 * `net.Socket.write`, no socket.io, no framing, no server work), and one other process reads them all. Prints, per
 * round, how long the writes took and when the last socket was read (from the start of the writes). A socket.io
 * broadcast to N sockets on this machine cannot reach them all sooner than this: the figure to read beside
 * bench/fanout's latencies. bench/fanout measures it before its broadcast rounds; alone:
 *
 *   node dist/bench/loopback-floor.js [--clients N] [--rounds R] [--bytes B]
 */
import { fork } from 'node:child_process';
import { createServer, connect, type Socket } from 'node:net';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LoopbackFloor {
  clients: number;
  bytes: number;
  /** Per round: the time of the write loop, ms. */
  writeMs: number[];
  /** Per round: from the start of the writes to the last socket read, ms. */
  lastReadMs: number[];
}

type FromReader = { t: 'connected' } | { t: 'read'; round: number; at: number };

/** The reading side: N sockets to `port`; tells when every socket has read `bytes` more. */
function reader(port: number, clients: number, bytes: number): void {
  let read = 0;
  let round = 0;
  let connected = 0;
  for (let i = 0; i < clients; i++) {
    const s = connect(port, '127.0.0.1', () => {
      connected += 1;
      if (connected === clients) process.send?.({ t: 'connected' } satisfies FromReader);
    });
    s.on('data', (chunk) => {
      read += chunk.length;
      if (read >= clients * bytes * (round + 1)) {
        round += 1;
        process.send?.({ t: 'read', round, at: now() } satisfies FromReader);
      }
    });
  }
  process.on('disconnect', () => process.exit(0));
}

export async function measureLoopbackFloor(clients: number, rounds = 10, bytes = 300): Promise<LoopbackFloor> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    s.setNoDelay(true);
    sockets.push(s);
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 8192 }, resolve));
  const port = (server.address() as { port: number }).port;
  const child = fork(__filename, ['--floor-reader', String(port), String(clients), String(bytes)], {
    stdio: 'inherit',
  });
  let waiter: { resolve: (m: FromReader) => void; reject: (e: Error) => void } | null = null;
  child.on('message', (m) => waiter?.resolve(m as FromReader));
  child.once('exit', (code) => waiter?.reject(new Error(`loopback reader exited (${code})`)));
  const next = () => new Promise<FromReader>((resolve, reject) => (waiter = { resolve, reject }));
  const result: LoopbackFloor = { clients, bytes, writeMs: [], lastReadMs: [] };
  try {
    await next();
    while (sockets.length < clients) await sleep(10);
    const payload = Buffer.alloc(bytes, 'x');
    for (let r = 0; r < rounds; r++) {
      await sleep(300);
      const read = next();
      const start = now();
      for (const s of sockets) s.write(payload);
      result.writeMs.push(now() - start);
      result.lastReadMs.push(((await read) as { at: number }).at - start);
    }
  } finally {
    child.kill();
    for (const s of sockets) s.destroy();
    server.close();
  }
  return result;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** One line for a summary. */
export function describeFloor(f: LoopbackFloor): string {
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
  return (
    `plain TCP writes of ${f.bytes} B to ${f.clients} loopback sockets, read by one process: writes p50 ` +
    `${median(f.writeMs).toFixed(1)} ms (${range(f.writeMs)}), last socket read p50 ${median(f.lastReadMs).toFixed(1)} ms ` +
    `(${range(f.lastReadMs)}) over ${f.writeMs.length} rounds`
  );
}

if (require.main === module) {
  const argv = process.argv;
  const at = argv.indexOf('--floor-reader');
  if (at > 0) {
    reader(Number(argv[at + 1]), Number(argv[at + 2]), Number(argv[at + 3]));
  } else {
    const arg = (name: string, fallback: number) => {
      const i = argv.indexOf(`--${name}`);
      return i > 0 ? Number(argv[i + 1]) : fallback;
    };
    measureLoopbackFloor(arg('clients', 5_000), arg('rounds', 10), arg('bytes', 300)).then(
      (f) => {
        console.log(`loopback floor: ${describeFloor(f)}`);
        console.log(
          `  per round: writes ${f.writeMs.map((x) => x.toFixed(1)).join(' ')} ms; last read ` +
            `${f.lastReadMs.map((x) => x.toFixed(1)).join(' ')} ms`,
        );
        process.exit(0);
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  }
}
