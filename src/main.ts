import 'reflect-metadata';
import pino from 'pino';
import { createApp } from './app.factory';
import { loadConfigOrExit, type AppConfig } from './config/app-config';
import { withDataSource } from './database/data-source';
import { resolveDatabase } from './database/database-url';
import { runMigrations } from './database/migrate';
import { gracefulShutdown } from './modules/health/graceful-shutdown';

async function bootstrap(config: AppConfig): Promise<void> {
  const logger = pino({ level: config.logLevel, name: 'bootstrap' });
  const started = Date.now();
  if (config.jwtSecretGenerated) {
    logger.warn('JWT_SECRET is not set: using a random per-process secret (tokens die with the process)');
  }
  const database = await resolveDatabase(config, logger);

  const applied = await withDataSource(
    database.url,
    { poolSize: 1, applicationName: 'makeplus-migrate' },
    runMigrations,
  );
  if (applied.length > 0) logger.info({ migrations: applied.map((m) => m.name) }, 'Applied migrations');

  const app = await createApp(config, database.url);
  await app.listen({ port: config.port, host: config.host });
  logger.info(
    {
      url: await app.getUrl(),
      docs: '/api/docs',
      embedded_db: database.embedded !== null,
      startup_ms: Date.now() - started,
    },
    'MakePlus API is listening',
  );

  const stop = gracefulShutdown(app, config, logger, () => database.embedded?.stop());
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function main(): void {
  const config = loadConfigOrExit();
  bootstrap(config).catch((error: unknown) => {
    pino({ name: 'bootstrap' }).fatal({ err: error }, 'Start-up failed');
    process.exit(1);
  });
}

main();
