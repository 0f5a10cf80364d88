import type { MigrationInterface, QueryRunner } from 'typeorm';
import { replaceOnce } from '../src/database/sql-text';
import { DOOR_DECIDE_WITH_DOOR_MESSAGE } from './1796220000000-DoorDecideOnlineAsSet';

/**
 * An offline scan is decided at its device time, but it was applied to where the badge is now. Uploaded after a later
 * scan of the same badge (online, or an earlier upload), it moved the badge back: someone who entered room A online at
 * 10:10 was put in room B by a scan of 10:00 uploaded at 10:15 (A −1, B +1), and an offline exit of A at 10:00 took
 * out of A someone who entered it at 10:10. Where a badge is was decided by its latest scan by time (PRODUCT.md:
 * presence follows the scans; the first scan by device time wins).
 *
 * Now such a scan ("behind" a later granted scan of the badge at a room) is still decided and logged at its time,
 * and still checks the badge in and records the session's attendance at that time, but it moves nobody: an entry is
 * granted without occupancy change or capacity check (it adds nobody now), an exit changes nothing (as for someone
 * not inside). Online scans are decided now and are never behind; offline scans of one upload are decided in
 * device-time order, so each is behind only scans that really came later.
 */
function withScansBehindMovingNobody(): string {
  let text = DOOR_DECIDE_WITH_DOOR_MESSAGE;
  text = replaceOnce(
    text,
    '  v_move boolean := false;\n',
    '  v_move boolean := false;\n  v_behind boolean := false;\n',
    'door_decide: the declarations',
  );
  text = replaceOnce(
    text,
    '  v_found := FOUND;\n',
    `  v_found := FOUND;
  -- An offline scan behind a later granted scan of the badge at a room: that scan decided where the badge is.
  IF p_source = 'offline' AND v_found AND p_room IS NOT NULL THEN
    v_behind := EXISTS (SELECT 1 FROM room_access_logs
                         WHERE event_id = p_event AND participant_id = v_badge.id AND room_id IS NOT NULL
                           AND status = 'granted' AND scanned_at > v_t);
  END IF;
`,
    'door_decide: after the badge is read',
  );
  text = replaceOnce(
    text,
    '    IF v_badge.current_room_id = p_room THEN\n      UPDATE rooms SET current_participants = current_participants - 1',
    '    IF v_badge.current_room_id = p_room AND NOT v_behind THEN\n' +
      '      UPDATE rooms SET current_participants = current_participants - 1',
    'door_decide: the exit',
  );
  text = replaceOnce(
    text,
    '    -- Rule 7\n    ELSIF v_badge.current_room_id = p_room THEN\n',
    `    ELSIF v_behind THEN
      -- Entered at its device time; a later scan decided where the badge is now: nobody moves.
      v_status := 'granted';
      v_reason := 'OK';
    -- Rule 7
    ELSIF v_badge.current_room_id = p_room THEN
`,
    'door_decide: rule 7',
  );
  return text;
}

/** The function this migration creates (a constant: TypeORM takes every exported function for a migration). */
export const DOOR_DECIDE_BEHIND_MOVES_NOBODY = withScansBehindMovingNobody();

export class OfflineScanBehindALaterScanMovesNobody1796222000000 implements MigrationInterface {
  name = 'OfflineScanBehindALaterScanMovesNobody1796222000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOOR_DECIDE_BEHIND_MOVES_NOBODY);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOOR_DECIDE_WITH_DOOR_MESSAGE);
  }
}
