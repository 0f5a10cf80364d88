import type { MigrationInterface, QueryRunner } from 'typeorm';
import { replaceOnce } from '../src/database/sql-text';
import { DOOR_DECIDE } from './1796189782943-DoorsAccessLogAndAttendance';

const RETURN_LINE = `RETURN v_resp || jsonb_build_object('_replayed', false, '_conflict', v_conflict);`;

/**
 * `door_decide` also answers `_prev_room`: the room a granted entry took the badge out of (the implied exit), so
 * that live occupancy can be pushed for both rooms without another query. Only that last line of the function
 * changes; the rest is the function of DoorsAccessLogAndAttendance, kept there verbatim.
 */
function withPreviousRoom(): string {
  return replaceOnce(
    DOOR_DECIDE.replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION'),
    RETURN_LINE,
    `RETURN v_resp || jsonb_build_object('_replayed', false, '_conflict', v_conflict,
                                     '_prev_room', CASE WHEN v_move THEN v_prev END);`,
    'door_decide: the line to change',
  );
}

/** The function this migration creates (a constant: TypeORM takes every exported function for a migration). */
export const DOOR_DECIDE_NAMES_ROOM_LEFT = withPreviousRoom();

export class DoorDecisionNamesRoomLeft1796208000000 implements MigrationInterface {
  name = 'DoorDecisionNamesRoomLeft1796208000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOOR_DECIDE_NAMES_ROOM_LEFT);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOOR_DECIDE.replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION'));
  }
}
