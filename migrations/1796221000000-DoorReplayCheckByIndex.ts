import type { MigrationInterface, QueryRunner } from 'typeorm';
import { replaceOnce } from '../src/database/sql-text';
import { DOOR_DECIDE_BATCH_ONLINE_FIRST } from './1796220000000-DoorDecideOnlineAsSet';

const JOINED = `       SELECT 1 FROM i JOIN room_access_logs l
           ON l.event_id = i.event::uuid AND l.device_id = i.device AND l.nonce = i.nonce) THEN`;

const PER_SCAN = `       SELECT 1 FROM i
        WHERE device IS NOT NULL AND nonce IS NOT NULL
          AND (SELECT count(*) FROM room_access_logs l
                WHERE l.event_id = i.event::uuid AND l.device_id = i.device AND l.nonce = i.nonce) > 0) THEN`;

/**
 * `door_decide_batch` looks for a batch's (device, nonce) already in the log one scan at a time, through the unique
 * index. It joined the batch to the log, and PL/pgSQL keeps a statement's plan for the connection's life (until the
 * table is next analyzed): planned while the log was nearly empty, that join read the whole log into a hash for every
 * batch. In bench/doors (which starts from an empty log) a 30 s run read 27 million log rows in 1,877 such scans, and
 * the database's time per door scan grew with the log. A scalar subquery per scan cannot become a join: only the index
 * probe or a scan per scan are left to choose from, and the probe is the cheaper even for a log of a few pages. Scans
 * without a device and nonce cannot be replays and are not looked up.
 */
function withReplayCheckPerScan(): string {
  return replaceOnce(DOOR_DECIDE_BATCH_ONLINE_FIRST, JOINED, PER_SCAN, 'door_decide_batch: the replay join');
}

/** The function this migration creates (a constant: TypeORM takes every exported function for a migration). */
export const DOOR_DECIDE_BATCH_REPLAY_BY_INDEX = withReplayCheckPerScan();

export class DoorReplayCheckByIndex1796221000000 implements MigrationInterface {
  name = 'DoorReplayCheckByIndex1796221000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOOR_DECIDE_BATCH_REPLAY_BY_INDEX);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOOR_DECIDE_BATCH_ONLINE_FIRST);
  }
}
