import type { MigrationInterface, QueryRunner } from 'typeorm';
import { replaceOnce } from '../src/database/sql-text';
import { DOOR_DECIDE_CONFLICT_BY_BADGE } from './1796218000000-DoorConflictByBadge';

const STORED = `          p_local, p_qr_hash, v_resp);`;

/**
 * `room_access_logs.response` (the answer given, returned again for a repeated device and nonce) is kept only for the
 * scans that can be repeated: those with a device and a nonce. A scan without them cannot be replayed, and its answer
 * was about two thirds of its row (some 580 of 850 bytes): the access log is the largest table of an event.
 */
function withResponseForReplaysOnly(): string {
  return replaceOnce(
    DOOR_DECIDE_CONFLICT_BY_BADGE,
    STORED,
    `          p_local, p_qr_hash, CASE WHEN p_device IS NOT NULL AND p_nonce IS NOT NULL THEN v_resp END);`,
    'door_decide: the stored response',
  );
}

/** The function this migration creates (a constant: TypeORM takes every exported function for a migration). */
export const DOOR_DECIDE_RESPONSE_FOR_REPLAYS = withResponseForReplaysOnly();

export class AccessResponseOnlyForReplays1796219000000 implements MigrationInterface {
  name = 'AccessResponseOnlyForReplays1796219000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "room_access_logs" ALTER COLUMN "response" DROP NOT NULL`);
    await queryRunner.query(DOOR_DECIDE_RESPONSE_FOR_REPLAYS);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOOR_DECIDE_CONFLICT_BY_BADGE);
    // The log is append-only (a trigger refuses updates); going back fills the answers that were not kept.
    await queryRunner.query(`ALTER TABLE "room_access_logs" DISABLE TRIGGER "trg_room_access_logs_append_only"`);
    await queryRunner.query(
      `UPDATE "room_access_logs" SET "response" = jsonb_build_object('status', "status", 'reason_code', "reason_code",
         'message', "denial_reason", 'duplicate', "duplicate", 'access_id', "id") WHERE "response" IS NULL`,
    );
    await queryRunner.query(`ALTER TABLE "room_access_logs" ENABLE TRIGGER "trg_room_access_logs_append_only"`);
    await queryRunner.query(`ALTER TABLE "room_access_logs" ALTER COLUMN "response" SET NOT NULL`);
  }
}
