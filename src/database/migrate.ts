import { MigrationExecutor, type DataSource, type Migration } from 'typeorm';

/** Arbitrary constant shared by every instance: only one of them migrates at a time. */
const MIGRATION_LOCK_ID = 727_001;

/**
 * Runs `work` with an executor bound to one connection that holds a session advisory lock, so that several
 * instances starting together migrate one after the other (the later ones then find nothing pending).
 */
async function withMigrationLock<T>(
  dataSource: DataSource,
  work: (executor: MigrationExecutor) => Promise<T>,
): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      return await work(executor);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    await runner.release();
  }
}

/** Applies pending migrations, each in its own transaction, while holding the advisory lock. */
export function runMigrations(dataSource: DataSource): Promise<Migration[]> {
  return withMigrationLock(dataSource, (executor) => executor.executePendingMigrations());
}

export function revertLastMigration(dataSource: DataSource): Promise<void> {
  return withMigrationLock(dataSource, (executor) => executor.undoLastMigration());
}

/** True when every migration known to the code has been applied. */
export async function migrationsUpToDate(dataSource: DataSource): Promise<boolean> {
  return !(await dataSource.showMigrations());
}
