import { createServer } from 'node:net';
import { Client } from 'pg';

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
