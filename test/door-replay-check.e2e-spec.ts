import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { DOOR_DECIDE_BATCH_ONLINE_FIRST } from '../migrations/1796220000000-DoorDecideOnlineAsSet';
import { DOOR_DECIDE_BATCH_REPLAY_BY_INDEX } from '../migrations/1796221000000-DoorReplayCheckByIndex';
import { withDataSource } from '../src/database/data-source';
import { runMigrations } from '../src/database/migrate';
import { createRoom, createWorld } from './helpers/factories';
import { createScratchDatabase, type ScratchDatabase } from './helpers/scratch-database';
import { bootTestApp, type TestApp } from './helpers/test-app';

/*
 * A batch of online scans first looks for its (device, nonce) pairs in the access log. PL/pgSQL keeps a statement's
 * plan for the connection's life, so that lookup must use the unique index whatever the log's size was when it was
 * planned: an event starts with an empty log and grows it by thousands of rows a minute. Here, on a database of its
 * own (a new log, never analyzed, as at a first event), batches are decided on one connection, the log then grows by
 * 5,000 rows, and the log rows read by sequential scan in the next batches are counted (this transaction's statistics).
 * Negative control: the lookup as a join (the function before this change) reads the whole log for every batch.
 */
describe('door batches look up replays through the index, whatever the log size when planned', () => {
  let scratch: ScratchDatabase;
  let t: TestApp;
  let db: Client;
  let items: { nonce: string }[];

  before(async () => {
    scratch = await createScratchDatabase('makeplus_replay_check');
    await withDataSource(scratch.url, { poolSize: 1 }, runMigrations);
    t = await bootTestApp({}, scratch.url);
    const w = await createWorld(t);
    const room = await createRoom(t, w.event.id, { capacity: 1000 });
    db = new Client({ connectionString: scratch.url });
    await db.connect();
    let nonce = 0;
    items = Array.from({ length: 20 }, () => ({
      event: w.event.id,
      room,
      qr_hash: 'no-such-badge',
      direction: 'in',
      scanner: w.users.organisateur.id,
      scanner_role: 'organisateur',
      device: 'replay-check-device',
      nonce: `n${(nonce += 1)}`,
      device_time: null,
      source: 'online',
    }));
  });
  after(async () => {
    await db?.end();
    await t?.close();
    await scratch?.drop();
  });

  /** Log rows read by sequential scan in `batches` batches (of new nonces) after the log grew by 5,000 rows. */
  async function logRowsScannedAfterGrowth(functionText: string): Promise<number> {
    await db.query('BEGIN');
    try {
      await db.query(functionText);
      const batch = async (round: number) => {
        const fresh = items.map((i) => ({ ...i, nonce: `${round}-${i.nonce}` }));
        await db.query(`SELECT door_decide_batch($1::jsonb, '0 seconds', '120 seconds')`, [JSON.stringify(fresh)]);
      };
      // Past the first five executions, after which PL/pgSQL may keep a generic plan.
      for (let round = 0; round < 8; round += 1) await batch(round);
      await db.query(
        `INSERT INTO room_access_logs
         SELECT (jsonb_populate_record(l, jsonb_build_object('id', gen_random_uuid(), 'nonce', 'bulk-' || g))).*
           FROM (SELECT l FROM room_access_logs l LIMIT 1) s(l), generate_series(1, 5000) g`,
      );
      const read = async () =>
        Number(
          (
            await db.query<{ n: string }>(
              `SELECT seq_tup_read AS n FROM pg_stat_xact_user_tables WHERE relname = 'room_access_logs'`,
            )
          ).rows[0]?.n ?? 0,
        );
      const before = await read();
      for (let round = 8; round < 11; round += 1) await batch(round);
      return (await read()) - before;
    } finally {
      await db.query('ROLLBACK');
    }
  }

  it('negative control: the join reads the whole log for every batch', async () => {
    const scanned = await logRowsScannedAfterGrowth(DOOR_DECIDE_BATCH_ONLINE_FIRST);
    assert.ok(scanned >= 3 * 5000, `${scanned} log rows read by sequential scan in 3 batches`);
  });

  it('the lookup per scan reads no log row by sequential scan', async () => {
    assert.equal(await logRowsScannedAfterGrowth(DOOR_DECIDE_BATCH_REPLAY_BY_INDEX), 0);
  });
});
