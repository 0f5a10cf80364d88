import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { withDataSource } from '../../src/database/data-source';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { runMigrations } from '../../src/database/migrate';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own, migrated, that the test can really stop (`pg_ctl stop -m fast` or
 * `-m immediate`, the latter as a crash: commits not yet flushed are lost) and start again on the same port.
 * embedded-postgres creates it (binaries, initdb, the database); pg_ctl runs it from then on, as the cluster's owner
 * (PostgreSQL refuses to run as root).
 */
export class OwnPostgres {
  private constructor(
    private readonly dir: string,
    private readonly pgCtl: string,
    readonly url: string,
    private readonly port: number,
  ) {}

  static async create(database = 'makeplus_faults'): Promise<OwnPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'makeplus-faults-pg-'));
    chmodSync(dir, 0o755); // as root, the cluster runs as the `postgres` user, which must reach it
    const embedded = await startEmbeddedPostgres(join(dir, 'data'), { database });
    await embedded.stop(); // from here on, pg_ctl owns the cluster (embedded-postgres would not see it stop)
    // The platform package that embedded-postgres itself loads its binaries from.
    const binaries = `@embedded-postgres/${platform()}-${arch()}`;
    const { pg_ctl: pgCtl } = (await import(binaries)) as { pg_ctl: string };
    const url = new URL(embedded.url);
    const pg = new OwnPostgres(dir, pgCtl, embedded.url, Number(url.port));
    await pg.start();
    await withDataSource(pg.url, { poolSize: 1 }, runMigrations);
    return pg;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  private async pgCtlRun(args: string[]): Promise<void> {
    // The owner of the data folder (the `postgres` user when the tests run as root).
    const { uid, gid } = statSync(this.dataDir);
    await run(this.pgCtl, ['-D', this.dataDir, ...args], {
      uid: process.getuid?.() === 0 ? uid : undefined,
      gid: process.getuid?.() === 0 ? gid : undefined,
      timeout: 30_000,
    });
  }

  /** Starts the cluster and waits until it accepts connections. */
  start(): Promise<void> {
    return this.pgCtlRun([
      'start',
      '-w',
      '-s',
      '-o',
      `-p ${this.port} -c listen_addresses=127.0.0.1`,
      '-l',
      join(this.dataDir, 'server.log'),
    ]);
  }

  /** `fast`: sessions are ended, a clean shutdown. `immediate`: every process quits at once, as in a crash. */
  stop(mode: 'fast' | 'immediate'): Promise<void> {
    return this.pgCtlRun(['stop', '-w', '-s', '-m', mode]);
  }

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
