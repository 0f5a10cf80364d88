import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { SnakeNamingStrategy } from './naming.strategy';

/** Compiled migrations sit in dist/migrations, two folders up from dist/src/database. */
export const MIGRATIONS_GLOB = join(__dirname, '..', '..', 'migrations', '*.js');

export function dataSourceOptions(
  url: string,
  extra: { poolSize?: number; applicationName?: string } = {},
): DataSourceOptions {
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
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30000,
    },
  };
}

export function createDataSource(url: string, extra?: Parameters<typeof dataSourceOptions>[1]): DataSource {
  return new DataSource(dataSourceOptions(url, extra));
}
