import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { SnakeNamingStrategy } from './naming.strategy';

/** Compiled migrations sit in dist/migrations, two folders up from dist/src/database. */
export const MIGRATIONS_GLOB = join(__dirname, '..', '..', 'migrations', '*.js');

export interface PoolOptions {
  poolSize?: number;
  applicationName?: string;
  /** Client-side limit per query; unset for migrations, which may legitimately run long. */
  queryTimeoutMs?: number;
  /** Limit on opening a connection or waiting for a free one in the pool (default 5 s). */
  connectTimeoutMs?: number;
}

export function dataSourceOptions(url: string, extra: PoolOptions = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: [MIGRATIONS_GLOB],
    migrationsTableName: 'typeorm_migrations',
    migrationsRun: false,
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+: no extension to install.
    uuidExtension: 'pgcrypto',
    namingStrategy: new SnakeNamingStrategy(),
    logging: false,
    poolSize: extra.poolSize ?? 20,
    applicationName: extra.applicationName ?? 'makeplus-api',
    extra: {
      // Fail fast when the database is unreachable so requests answer 503 instead of hanging.
      connectionTimeoutMillis: extra.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30000,
      ...(extra.queryTimeoutMs ? { query_timeout: extra.queryTimeoutMs } : {}),
    },
  };
}

export function createDataSource(url: string, extra?: PoolOptions): DataSource {
  return new DataSource(dataSourceOptions(url, extra));
}

/** Opens a data source on `url` for `work` and closes it afterwards, also when `work` fails. */
export async function withDataSource<T>(
  url: string,
  extra: PoolOptions,
  work: (dataSource: DataSource) => Promise<T>,
): Promise<T> {
  const dataSource = createDataSource(url, extra);
  await dataSource.initialize();
  try {
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
