import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres';

export interface ResolvedDatabase {
  url: string;
  /** Set when an embedded cluster was started: stop it on shutdown. */
  embedded: EmbeddedDatabase | null;
}

/** DATABASE_URL when set; otherwise the embedded PostgreSQL in EMBEDDED_DB_DIR, started (and created) on demand. */
export async function resolveDatabase(config: AppConfig, logger: Logger): Promise<ResolvedDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: null };
  logger.info({ dir: config.embeddedDbDir }, 'DATABASE_URL is not set: starting the embedded PostgreSQL');
  const embedded = await startEmbeddedPostgres(config.embeddedDbDir, {
    log: (line) => logger.debug({ pg: line }),
    warn: (line) => logger.warn(line),
  });
  return { url: embedded.url, embedded };
}
