/**
 * Start-up time of the built server on the embedded PostgreSQL: first run (creates the cluster and migrates) and warm
 * run (cluster exists). Run after `npm run build`: `node dist/bench/cold-start.js`. Prints figures; asserts nothing.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/database/embedded-postgres';

const MAIN = join(__dirname, '..', 'src', 'main.js');

async function timeToReady(dataDir: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, DATABASE_URL: '', EMBEDDED_DB_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  try {
    for (let i = 0; i < 600; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
        if (res.status === 200) return performance.now() - started;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('server did not become ready in 30 s');
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'makeplus-bench-'));
  chmodSync(dir, 0o755);
  try {
    const dataDir = join(dir, 'pg');
    const first = await timeToReady(dataDir);
    const warm: number[] = [];
    for (let i = 0; i < 3; i++) warm.push(await timeToReady(dataDir));
    const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    process.stdout.write(`first start (initdb + migrations): ${fmt(first)}\n`);
    process.stdout.write(`warm starts: ${warm.map(fmt).join(', ')}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
