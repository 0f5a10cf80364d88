import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { bootTestApp, TEST_JWT_SECRET, TEST_QR_SECRET, testDatabaseUrl, type TestApp } from './test-app';

export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set: run the suite with `npm test`');
  return url;
}

/** The suite's Redis under a prefix of its own, so that specs running at the same time do not hear each other. */
export function sharedRedisEnv(): Record<string, string> {
  return { REDIS_URL: testRedisUrl(), REDIS_PREFIX: `test-${randomUUID()}` };
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface Instance {
  port: number;
  process: ChildProcess;
  /** The exit code (null when killed by a signal), once the process has exited. */
  exited: Promise<number | null>;
  /** What the process wrote so far (its JSON log lines on stdout, then stderr). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Another instance of the app as its own process (`node dist/src/main.js`, as `npm start` runs it), on the suite's
 * database, with the same secrets as the in-process test app.
 */
export async function startInstance(env: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(__dirname, '..', '..', 'src', 'main.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: testDatabaseUrl(),
      JWT_SECRET: TEST_JWT_SECRET,
      QR_SECRET: TEST_QR_SECRET,
      ANNONCE_SCHEDULER_INTERVAL_MS: '0', // as in bootTestApp
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`instance exited (${child.exitCode}): ${stderr}`);
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`instance not ready after 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    process: child,
    exited,
    output: () => stdout + stderr,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Two instances with the same environment: A in this process (a TestApp), B as its own process. */
export async function startPair(
  env: Record<string, string>,
): Promise<{ a: TestApp; b: Instance; close: () => Promise<void> }> {
  const [a, b] = await Promise.all([bootTestApp(env), startInstance(env)]);
  return { a, b, close: async () => void (await Promise.all([a.close(), b.stop()])) };
}
