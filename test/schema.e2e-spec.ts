import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDataSource } from '../src/database/data-source';
import { revertLastMigration, runMigrations } from '../src/database/migrate';
import { schemaDiff } from '../src/database/schema-diff';
import { createScratchDatabase, type ScratchDatabase } from './helpers/scratch-database';
import { testDatabaseUrl } from './helpers/test-app';

describe('database schema', () => {
  it('entities and migrations agree (generating a migration would produce nothing)', async () => {
    const ds = createDataSource(testDatabaseUrl(), { poolSize: 1 });
    await ds.initialize();
    try {
      const diff = await schemaDiff(ds);
      assert.deepEqual(diff.up, [], 'run `npm run migration:generate -- Name` and commit the migration');
    } finally {
      await ds.destroy();
    }
  });

  describe('on an empty database', () => {
    let scratch: ScratchDatabase;
    let url: string;
    before(async () => {
      scratch = await createScratchDatabase('makeplus_migrations');
      url = scratch.url;
    });
    after(() => scratch.drop());

    it('migrates up, down to nothing and up again; concurrent runners apply each migration once', async () => {
      const ds = createDataSource(url, { poolSize: 4 });
      await ds.initialize();
      try {
        const runs = await Promise.all([runMigrations(ds), runMigrations(ds), runMigrations(ds)]);
        const applied = runs.map((r) => r.length).sort();
        assert.equal(applied.filter((n) => n > 0).length, 1, `migrations applied by several runners: ${applied}`);
        const total = ds.migrations.length;
        assert.ok(total >= 1);
        for (let i = 0; i < total; i++) await revertLastMigration(ds);
        const tables: { n: string }[] = await ds.query(
          `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'typeorm_migrations'`,
        );
        assert.equal(Number(tables[0]?.n), 0, 'down() left tables behind');
        assert.equal((await runMigrations(ds)).length, total);
        assert.deepEqual((await schemaDiff(ds)).up, []);
      } finally {
        await ds.destroy();
      }
    });
  });
});
