import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { loadConfigOrExit } from '../config/app-config';
import { createDataSource } from './data-source';
import { resolveDatabase } from './database-url';
import { revertLastMigration, runMigrations } from './migrate';
import { schemaDiff } from './schema-diff';

const USAGE = 'usage: migration <run|revert|show|generate PascalCaseName>';

function migrationSource(className: string, up: string[], down: string[]): string {
  const lines = (queries: string[]) =>
    queries.map((q) => `    await queryRunner.query(\`${q.replace(/\s+/g, ' ').trim()}\`);`).join('\n');
  return `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  public async up(queryRunner: QueryRunner): Promise<void> {
${lines(up)}
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
${lines(down)}
  }
}
`;
}

async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  const logger = pino({ name: 'migration' });
  const config = loadConfigOrExit();
  const database = await resolveDatabase(config, logger);
  const dataSource = createDataSource(database.url, { poolSize: 2, applicationName: 'makeplus-migration-cli' });
  await dataSource.initialize();
  try {
    switch (command) {
      case 'run': {
        const applied = await runMigrations(dataSource);
        logger.info(
          { applied: applied.map((m) => m.name) },
          applied.length ? 'Migrations applied' : 'Nothing to apply',
        );
        break;
      }
      case 'revert':
        await revertLastMigration(dataSource);
        logger.info('Last migration reverted');
        break;
      case 'show':
        logger.info({ pending: await dataSource.showMigrations() }, 'Pending migrations?');
        break;
      case 'generate': {
        if (!name || !/^[A-Z][A-Za-z0-9]+$/.test(name)) throw new Error(`${USAGE} (name in PascalCase)`);
        await runMigrations(dataSource);
        const diff = await schemaDiff(dataSource);
        if (diff.up.length === 0) {
          logger.info('Entities and migrations agree: nothing to generate');
          break;
        }
        const millis = Date.now();
        const file = resolve(join(__dirname, '..', '..', '..', 'migrations', `${millis}-${name}.ts`));
        writeFileSync(file, migrationSource(`${name}${millis}`, diff.up, diff.down));
        logger.info({ file }, 'Migration written: read it, trim it, then build');
        break;
      }
      default:
        throw new Error(USAGE);
    }
  } finally {
    await dataSource.destroy();
    await database.embedded?.stop();
  }
}

main().catch((error: unknown) => {
  pino({ name: 'migration' }).fatal({ err: error }, 'Migration command failed');
  process.exit(1);
});
