import { Client } from 'pg';
import { testDatabaseUrl } from './test-app';

export interface ScratchDatabase {
  /** URL of the new, empty database (same server and credentials as the suite's). */
  url: string;
  drop(): Promise<void>;
}

/** A new empty database beside the suite's one, for tests that need their own schema state; drop it in `after`. */
export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${process.pid}_${Date.now()}`;
  const admin = new Client({ connectionString: testDatabaseUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(testDatabaseUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
