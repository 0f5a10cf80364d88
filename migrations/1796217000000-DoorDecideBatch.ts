import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `door_decide_batch`: several door decisions in one round trip and one transaction, each decided by `door_decide`
 * exactly as if it came alone, in the order given (a later scan sees what an earlier one did).
 *
 * Every lock the decisions will need is taken first, in the one order every door decision follows: the (device,
 * nonce) advisory locks by key, then the badges by id, then the rooms by id (the rooms asked for and the rooms the
 * badges are in now, which are all the rooms the batch can change). A single `door_decide` takes them in that order
 * too (nonce, badge, rooms by id), so batches and single decisions, on one instance or several, cannot deadlock.
 *
 * An item is `{event, room, qr_hash, participant, direction, scanner, scanner_role, device, nonce, device_time, source,
 * local, override_status, note}` (the arguments of `door_decide`); the answer is the array of their answers.
 */
export const DOOR_DECIDE_BATCH = `
CREATE FUNCTION door_decide_batch(p_items jsonb, p_grace interval, p_conflict_window interval)
RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
  v_item jsonb;
  v_out jsonb[] := '{}';
  v_badges uuid[];
BEGIN
  PERFORM pg_advisory_xact_lock(k)
     FROM (SELECT DISTINCT hashtextextended((i ->> 'event') || '/' || (i ->> 'device') || '/' || (i ->> 'nonce'), 727) k
             FROM jsonb_array_elements(p_items) i
            WHERE i ->> 'device' IS NOT NULL AND i ->> 'nonce' IS NOT NULL
            ORDER BY 1) keys;

  SELECT coalesce(array_agg(DISTINCT id), '{}') INTO v_badges
    FROM (SELECT x.id FROM jsonb_array_elements(p_items) i
            JOIN participants x ON x.event_id = (i ->> 'event')::uuid AND x.qr_hash = i ->> 'qr_hash'
          UNION ALL
          SELECT (i ->> 'participant')::uuid FROM jsonb_array_elements(p_items) i
           WHERE i ->> 'participant' IS NOT NULL) ids;
  PERFORM 1 FROM participants WHERE id = ANY (v_badges) ORDER BY id FOR NO KEY UPDATE;

  -- Read after the badges are locked: where they are now is where they will be left from.
  PERFORM 1 FROM rooms
   WHERE id IN (SELECT (i ->> 'room')::uuid FROM jsonb_array_elements(p_items) i
                UNION ALL
                SELECT current_room_id FROM participants WHERE id = ANY (v_badges))
   ORDER BY id FOR NO KEY UPDATE;

  FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
    v_out := v_out || door_decide(
      (v_item ->> 'event')::uuid, (v_item ->> 'room')::uuid, v_item ->> 'qr_hash', (v_item ->> 'participant')::uuid,
      v_item ->> 'direction', (v_item ->> 'scanner')::uuid, v_item ->> 'scanner_role', v_item ->> 'device',
      v_item ->> 'nonce', (v_item ->> 'device_time')::timestamptz, v_item ->> 'source', v_item ->> 'local',
      v_item ->> 'override_status', v_item ->> 'note', p_grace, p_conflict_window);
  END LOOP;
  RETURN to_jsonb(v_out);
END;
$fn$;
`;

export class DoorDecideBatch1796217000000 implements MigrationInterface {
  name = 'DoorDecideBatch1796217000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOOR_DECIDE_BATCH);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP FUNCTION door_decide_batch(jsonb, interval, interval)');
  }
}
