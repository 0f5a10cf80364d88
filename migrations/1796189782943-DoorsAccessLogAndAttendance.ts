import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The door decision (PRODUCT.md, "The door decision"): one call, one round trip, one short transaction. It returns
 * the answer of API.md ("Scans") plus `_`-prefixed fields for the server (`_error`: ROOM_NOT_FOUND or FORBIDDEN, in
 * which case nothing was written; `_replayed`; `_conflict`). A later change is a new migration that replaces it.
 */
export const DOOR_DECIDE = `
CREATE FUNCTION door_decide(
  p_event uuid,
  p_room uuid,
  p_qr_hash text,
  p_participant uuid,
  p_direction text,
  p_scanner uuid,
  p_scanner_role text,
  p_device text,
  p_nonce text,
  p_device_time timestamptz,
  p_source text,
  p_local text,
  p_override_status text,
  p_note text,
  p_grace interval,
  p_conflict_window interval
) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
  v_now timestamptz := now();
  v_t timestamptz := v_now;
  v_adjusted boolean := false;
  v_room_name text;
  v_capacity integer;
  v_room_active boolean;
  v_badge record;
  v_event record;
  v_session_id uuid;
  v_session_title text;
  v_session_type text;
  v_session_paid boolean;
  v_has_session boolean := false;
  v_status text := 'denied';
  v_reason text;
  v_dup boolean := false;
  v_first boolean := false;
  v_occ integer;
  v_prev uuid;
  v_id uuid := gen_random_uuid();
  v_found boolean;
  v_resp jsonb;
  v_other uuid;
  v_conflict boolean := false;
  v_move boolean := false;
BEGIN
  -- Offline scans are decided at the device's time, unless it is absurd (ahead of the server, or more than a day
  -- before the event): then at the upload time, and flagged.
  SELECT start_date, end_date, is_cancelled INTO v_event FROM events WHERE id = p_event;
  IF p_source = 'offline' AND p_device_time IS NOT NULL THEN
    IF p_device_time > v_now + interval '2 minutes' OR p_device_time < v_event.start_date - interval '1 day' THEN
      v_adjusted := true;
    ELSE
      v_t := least(p_device_time, v_now);
    END IF;
  END IF;

  IF p_room IS NOT NULL THEN
    SELECT name, capacity, is_active INTO v_room_name, v_capacity, v_room_active
      FROM rooms WHERE id = p_room AND event_id = p_event;
    IF NOT FOUND THEN RETURN jsonb_build_object('_error', 'ROOM_NOT_FOUND'); END IF;
  END IF;

  -- Rule 1: staff with shifts scan only at the rooms of their current shift (the caller's fault: 403, not logged;
  -- an offline scan already happened, so it is logged as refused and flagged instead).
  IF p_room IS NOT NULL
     AND p_scanner_role IN ('controlleur_des_badges', 'gestionnaire_des_salles')
     AND EXISTS (SELECT 1 FROM room_assignments WHERE event_id = p_event AND user_id = p_scanner AND is_active)
     AND NOT EXISTS (SELECT 1 FROM room_assignments
                      WHERE event_id = p_event AND user_id = p_scanner AND is_active AND room_id = p_room
                        AND start_time <= v_t AND end_time > v_t) THEN
    IF p_source <> 'offline' THEN RETURN jsonb_build_object('_error', 'FORBIDDEN'); END IF;
    v_reason := 'SCANNER_NOT_ASSIGNED';
  END IF;

  -- Rule 2: one answer per (device, nonce). The lock makes a concurrent repeat wait, then find the first answer.
  IF p_device IS NOT NULL AND p_nonce IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_event::text || '/' || p_device || '/' || p_nonce, 727));
    SELECT response INTO v_resp FROM room_access_logs
     WHERE event_id = p_event AND device_id = p_device AND nonce = p_nonce;
    IF FOUND THEN
      -- The same key with another request (room, badge or direction) is a client bug, not a repeat: refused, since
      -- answering the first person's decision for someone else would be wrong.
      IF NOT EXISTS (SELECT 1 FROM room_access_logs
                      WHERE event_id = p_event AND device_id = p_device AND nonce = p_nonce
                        AND room_id IS NOT DISTINCT FROM p_room AND direction = p_direction
                        AND (p_qr_hash IS NULL OR qr_hash = p_qr_hash)
                        AND (p_participant IS NULL OR participant_id = p_participant)) THEN
        RETURN jsonb_build_object('_error', 'NONCE_REUSED');
      END IF;
      RETURN v_resp || jsonb_build_object(
        '_replayed', true,
        '_conflict', EXISTS (SELECT 1 FROM access_conflicts
                              WHERE access_id = (v_resp ->> 'access_id')::uuid
                                 OR other_access_id = (v_resp ->> 'access_id')::uuid));
    END IF;
  END IF;

  -- Rule 3: the badge, locked so that scans of one badge at several doors take turns.
  IF p_participant IS NOT NULL THEN
    SELECT p.id, p.badge_id, p.allowed_rooms, p.current_room_id, p.is_checked_in, p.checked_in_at,
           trim(u.first_name || ' ' || u.last_name) AS full_name, (a.is_active AND u.is_active) AS active
      INTO v_badge
      FROM participants p JOIN users u ON u.id = p.user_id
      JOIN user_event_assignments a ON a.event_id = p.event_id AND a.user_id = p.user_id
     WHERE p.event_id = p_event AND p.id = p_participant
       FOR NO KEY UPDATE OF p;
  ELSE
    SELECT p.id, p.badge_id, p.allowed_rooms, p.current_room_id, p.is_checked_in, p.checked_in_at,
           trim(u.first_name || ' ' || u.last_name) AS full_name, (a.is_active AND u.is_active) AS active
      INTO v_badge
      FROM participants p JOIN users u ON u.id = p.user_id
      JOIN user_event_assignments a ON a.event_id = p.event_id AND a.user_id = p.user_id
     WHERE p.event_id = p_event AND p.qr_hash = p_qr_hash
       FOR NO KEY UPDATE OF p;
  END IF;
  v_found := FOUND;

  IF v_reason IS NOT NULL THEN
    NULL; -- already refused (offline scan by a scanner outside its shift)
  ELSIF NOT v_found THEN
    v_reason := CASE WHEN p_qr_hash IS NOT NULL AND EXISTS (
                       SELECT 1 FROM revoked_qr_codes WHERE event_id = p_event AND qr_hash = p_qr_hash)
                     THEN 'BADGE_REVOKED' ELSE 'BADGE_UNKNOWN' END;
  ELSIF p_override_status = 'denied' THEN
    v_reason := 'MANUAL';
  ELSIF p_room IS NOT NULL AND p_direction = 'out' THEN
    -- An exit is always let through, also for a badge deactivated meanwhile (people must be able to leave, and the
    -- room's count must follow); it changes occupancy only for someone inside this room.
    v_status := 'granted';
    v_reason := 'OK';
    IF v_badge.current_room_id = p_room THEN
      UPDATE rooms SET current_participants = current_participants - 1
       WHERE id = p_room AND current_participants > 0 RETURNING current_participants INTO v_occ;
      UPDATE participants SET current_room_id = NULL, updated_at = v_now WHERE id = v_badge.id;
    ELSE
      v_dup := true;
    END IF;
  ELSIF NOT v_badge.active THEN
    v_reason := 'BADGE_REVOKED';
  -- Rule 4
  ELSIF v_event.is_cancelled OR v_t < v_event.start_date OR v_t > v_event.end_date THEN
    v_reason := 'EVENT_NOT_ACTIVE';
  ELSIF p_room IS NULL THEN
    -- Entrance check-in (no room): the first granted scan checks the badge in.
    v_status := 'granted';
    v_reason := 'OK';
    v_dup := v_badge.is_checked_in;
  ELSIF NOT v_room_active THEN
    v_reason := 'ROOM_INACTIVE';
  -- Rule 5 (a manual grant overrides rules 5 and 6, never capacity)
  ELSIF p_override_status IS NULL AND cardinality(v_badge.allowed_rooms) > 0
        AND NOT (p_room = ANY (v_badge.allowed_rooms)) THEN
    v_reason := 'ROOM_NOT_ALLOWED';
  END IF;

  -- Rule 6: the session running in the room (starting within the grace period counts); cancelled ones are ignored.
  IF p_room IS NOT NULL AND v_found THEN
    SELECT id, title, session_type, is_paid INTO v_session_id, v_session_title, v_session_type, v_session_paid
      FROM sessions
     WHERE event_id = p_event AND room_id = p_room AND status <> 'cancelled'
       AND start_time - p_grace <= v_t AND end_time > v_t
     ORDER BY (start_time <= v_t) DESC, start_time LIMIT 1;
    v_has_session := FOUND;
  END IF;

  IF v_reason IS NULL AND p_direction = 'in' AND p_room IS NOT NULL THEN
    IF p_override_status IS NULL AND v_has_session AND v_session_type = 'atelier' AND v_session_paid
       AND NOT EXISTS (SELECT 1 FROM session_access
                        WHERE event_id = p_event AND session_id = v_session_id AND participant_id = v_badge.id
                          AND payment_status IN ('paid', 'free')) THEN
      v_reason := 'PAYMENT_REQUIRED';
    -- Rule 7
    ELSIF v_badge.current_room_id = p_room THEN
      v_status := 'granted';
      v_reason := 'OK';
      v_dup := true;
    ELSE
      v_prev := v_badge.current_room_id;
      IF v_prev IS NOT NULL THEN
        -- Both rooms locked in id order: two people crossing between the same rooms cannot deadlock.
        PERFORM 1 FROM rooms WHERE id IN (p_room, v_prev) ORDER BY id FOR NO KEY UPDATE;
      END IF;
      -- Rule 8: the conditional update is the capacity check; the CHECK constraint stands behind it.
      UPDATE rooms SET current_participants = current_participants + 1
       WHERE id = p_room AND current_participants < capacity RETURNING current_participants INTO v_occ;
      IF NOT FOUND THEN
        v_reason := 'ROOM_FULL';
      ELSE
        -- Rule 9: leaving the previous room is implied.
        v_status := 'granted';
        v_reason := 'OK';
        IF v_prev IS NOT NULL THEN
          UPDATE rooms SET current_participants = current_participants - 1
           WHERE id = v_prev AND current_participants > 0;
        END IF;
        v_move := true;
      END IF;
    END IF;
  END IF;

  IF v_status = 'granted' AND p_direction = 'in' THEN
    -- The first granted scan checks the badge in; offline, the earliest device time wins.
    v_first := NOT v_badge.is_checked_in;
    -- One UPDATE of the badge for the move and the check-in (a second one would write a second row version).
    IF v_move OR v_first OR v_badge.checked_in_at > v_t THEN
      UPDATE participants SET current_room_id = CASE WHEN v_move THEN p_room ELSE current_room_id END,
                              is_checked_in = true, checked_in_at = least(coalesce(checked_in_at, v_t), v_t),
                              updated_at = v_now
       WHERE id = v_badge.id;
    END IF;
    -- The event attendance exists since the check-in; it changes only with the check-in.
    IF v_first OR v_badge.checked_in_at > v_t THEN
      INSERT INTO attendances (event_id, participant_id, session_id, method, marked_by_id, attended_at)
      VALUES (p_event, v_badge.id, NULL, 'door_scan', NULL, v_t)
      ON CONFLICT (event_id, participant_id) WHERE session_id IS NULL
      DO UPDATE SET attended_at = excluded.attended_at
       WHERE attendances.method = 'door_scan' AND attendances.attended_at > excluded.attended_at;
    END IF;
    IF v_has_session THEN
      INSERT INTO attendances (event_id, participant_id, session_id, method, marked_by_id, attended_at)
      VALUES (p_event, v_badge.id, v_session_id, 'door_scan', NULL, v_t)
      ON CONFLICT (event_id, participant_id, session_id) WHERE session_id IS NOT NULL
      DO UPDATE SET attended_at = excluded.attended_at
       WHERE attendances.method = 'door_scan' AND attendances.attended_at > excluded.attended_at;
    END IF;
  END IF;

  IF p_room IS NOT NULL AND v_occ IS NULL THEN
    SELECT current_participants INTO v_occ FROM rooms WHERE id = p_room;
  END IF;

  v_resp := jsonb_build_object(
    'status', v_status,
    'reason_code', v_reason,
    'message', CASE
      WHEN v_reason = 'OK' AND p_direction = 'out' AND v_dup THEN 'Exit recorded (was not inside)'
      WHEN v_reason = 'OK' AND p_direction = 'out' THEN 'Exit recorded'
      WHEN v_reason = 'OK' AND v_dup AND p_room IS NULL THEN 'Already checked in'
      WHEN v_reason = 'OK' AND v_dup THEN 'Already inside'
      WHEN v_reason = 'OK' THEN 'Access granted'
      WHEN v_reason = 'BADGE_UNKNOWN' THEN 'Unknown badge'
      WHEN v_reason = 'BADGE_REVOKED' THEN 'This badge is no longer valid'
      WHEN v_reason = 'EVENT_NOT_ACTIVE' THEN 'The event is not running'
      WHEN v_reason = 'ROOM_INACTIVE' THEN 'This room is closed'
      WHEN v_reason = 'ROOM_NOT_ALLOWED' THEN 'This badge does not open this room'
      WHEN v_reason = 'PAYMENT_REQUIRED' THEN 'Payment required for this atelier'
      WHEN v_reason = 'ROOM_FULL' THEN 'The room is full'
      WHEN v_reason = 'SCANNER_NOT_ASSIGNED' THEN 'The scanner was not assigned to this room at that time'
      WHEN v_reason = 'MANUAL' THEN 'Refused by staff'
      ELSE v_reason END,
    'duplicate', v_dup,
    'participant', CASE WHEN v_found THEN jsonb_build_object(
      'id', v_badge.id, 'badge_id', v_badge.badge_id, 'full_name', v_badge.full_name) END,
    'room', CASE WHEN p_room IS NOT NULL THEN jsonb_build_object(
      'id', p_room, 'name', v_room_name, 'current_participants', v_occ, 'capacity', v_capacity) END,
    'session', CASE WHEN v_has_session THEN jsonb_build_object(
      'id', v_session_id, 'title', v_session_title, 'session_type', v_session_type) END,
    'access_id', v_id,
    'scanned_at', to_char(v_t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
  IF p_room IS NULL AND v_found THEN
    v_resp := v_resp || jsonb_build_object(
      'is_checked_in', v_status = 'granted' OR v_badge.is_checked_in,
      'checked_in_at', (SELECT to_char(checked_in_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                          FROM participants WHERE id = v_badge.id),
      'first_check_in', v_first,
      'paid_items', coalesce((
        SELECT jsonb_agg(jsonb_build_object('session_id', s.id, 'title', s.title,
                                            'payment_status', sa.payment_status,
                                            'has_access', sa.payment_status IN ('paid', 'free'))
                         ORDER BY s.start_time, s.id)
          FROM session_access sa JOIN sessions s ON s.id = sa.session_id
         WHERE sa.event_id = p_event AND sa.participant_id = v_badge.id), '[]'::jsonb));
  ELSIF p_room IS NULL THEN
    v_resp := v_resp || jsonb_build_object('is_checked_in', false, 'checked_in_at', NULL,
                                           'first_check_in', false, 'paid_items', '[]'::jsonb);
  END IF;

  INSERT INTO room_access_logs (id, event_id, room_id, participant_id, session_id, verified_by_id, device_id, nonce,
                                direction, status, reason_code, denial_reason, duplicate, scanned_at,
                                device_scanned_at, device_time_adjusted, received_at, source, local_decision,
                                qr_hash, response)
  VALUES (v_id, p_event, p_room, CASE WHEN v_found THEN v_badge.id END,
          v_session_id, p_scanner, p_device, p_nonce, p_direction, v_status,
          v_reason, coalesce(p_note, v_resp ->> 'message'), v_dup, v_t, p_device_time, v_adjusted, v_now, p_source,
          p_local, p_qr_hash, v_resp);

  -- Offline: the device let someone in whom the server refuses, or the badge was let in twice (another device,
  -- same room, within the window, no exit between): the later scan by device time is flagged.
  IF p_source = 'offline' AND p_local = 'granted' THEN
    IF v_status = 'denied' THEN
      INSERT INTO access_conflicts (event_id, access_id, kind) VALUES (p_event, v_id, 'decision_mismatch');
      v_conflict := true;
    END IF;
    IF v_found AND p_room IS NOT NULL AND p_direction = 'in' THEN
      SELECT l.id INTO v_other FROM room_access_logs l
       WHERE l.event_id = p_event AND l.participant_id = v_badge.id AND l.room_id = p_room AND l.id <> v_id
         AND l.status = 'granted' AND l.direction = 'in' AND l.device_id IS DISTINCT FROM p_device
         AND l.scanned_at BETWEEN v_t - p_conflict_window AND v_t + p_conflict_window
         AND NOT EXISTS (SELECT 1 FROM room_access_logs o
                          WHERE o.event_id = p_event AND o.participant_id = v_badge.id AND o.room_id = p_room
                            AND o.status = 'granted' AND o.direction = 'out' AND NOT o.duplicate
                            AND o.scanned_at BETWEEN least(l.scanned_at, v_t) AND greatest(l.scanned_at, v_t))
       ORDER BY abs(extract(epoch FROM l.scanned_at - v_t)) LIMIT 1;
      IF FOUND THEN
        INSERT INTO access_conflicts (event_id, access_id, other_access_id, kind)
        SELECT p_event, CASE WHEN l.scanned_at > v_t THEN l.id ELSE v_id END,
               CASE WHEN l.scanned_at > v_t THEN v_id ELSE l.id END, 'double_entry'
          FROM room_access_logs l WHERE l.id = v_other
        ON CONFLICT DO NOTHING;
        v_conflict := true;
      END IF;
    END IF;
  END IF;

  RETURN v_resp || jsonb_build_object('_replayed', false, '_conflict', v_conflict);
END;
$fn$;
`;

/**
 * The door tables have no foreign keys to events, rooms, sessions or scanners: a foreign key check locks the parent
 * row (FOR KEY SHARE) in every transaction, and on the door's hot rows (the event, the room, the session, a busy
 * controller) hundreds of concurrent lockers turn each lock into a MultiXact. What the keys did is done here instead:
 * an event takes its scans with it; a room that has scans cannot be deleted (the same error as the key gave); a
 * session takes its attendance rows with it. A deleted session or scanner leaves its id in old log rows.
 */
const INSTEAD_OF_KEYS = [
  `CREATE FUNCTION events_delete_door_data() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM room_access_logs WHERE event_id = OLD.id;
  DELETE FROM attendances WHERE event_id = OLD.id;
  RETURN NULL;
END;
$fn$`,
  `CREATE TRIGGER trg_events_delete_door_data AFTER DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_delete_door_data()`,
  `CREATE FUNCTION rooms_keep_scanned() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  -- Not when the event itself is being deleted (the delete then cascades, one trigger level down).
  IF pg_trigger_depth() < 2
     AND EXISTS (SELECT 1 FROM room_access_logs WHERE event_id = OLD.event_id AND room_id = OLD.id) THEN
    RAISE EXCEPTION 'room % has been scanned', OLD.id
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'fk_room_access_logs_room_id';
  END IF;
  RETURN OLD;
END;
$fn$`,
  `CREATE TRIGGER trg_rooms_keep_scanned BEFORE DELETE ON rooms
  FOR EACH ROW EXECUTE FUNCTION rooms_keep_scanned()`,
  `CREATE FUNCTION sessions_delete_attendance() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM attendances WHERE event_id = OLD.event_id AND session_id = OLD.id;
  RETURN NULL;
END;
$fn$`,
  `CREATE TRIGGER trg_sessions_delete_attendance AFTER DELETE ON sessions
  FOR EACH ROW EXECUTE FUNCTION sessions_delete_attendance()`,
  // Room to spare on each page, so that moving a badge between rooms is a HOT update (no index entries written).
  `ALTER TABLE participants SET (fillfactor = 85)`,
];

/** A badge deleted while its holder is inside a room leaves the room's count with it. */
const LEAVE_ON_DELETE = [
  `CREATE FUNCTION participants_leave_room() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  UPDATE rooms SET current_participants = current_participants - 1
   WHERE id = OLD.current_room_id AND current_participants > 0;
  RETURN NULL;
END;
$fn$`,
  `CREATE TRIGGER trg_participants_leave_room AFTER DELETE ON participants
  FOR EACH ROW WHEN (OLD.current_room_id IS NOT NULL) EXECUTE FUNCTION participants_leave_room()`,
];

/** The access log is append-only: an UPDATE or DELETE is refused unless it cascades from a deleted parent. */
const APPEND_ONLY = [
  `
CREATE FUNCTION room_access_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  -- Cascades from a deleted event, badge, session or user run at depth 2 and are let through.
  IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'room_access_logs is append-only' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$fn$;
`,
  `CREATE TRIGGER trg_room_access_logs_append_only BEFORE UPDATE OR DELETE ON room_access_logs
  FOR EACH ROW EXECUTE FUNCTION room_access_logs_append_only();`,
];

export class DoorsAccessLogAndAttendance1796189782943 implements MigrationInterface {
  name = 'DoorsAccessLogAndAttendance1796189782943';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "room_access_logs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "event_id" uuid NOT NULL, "room_id" uuid, "participant_id" uuid, "session_id" uuid, "verified_by_id" uuid, "device_id" character varying(100), "nonce" character varying(100), "direction" character varying(3) NOT NULL, "status" character varying(8) NOT NULL, "reason_code" character varying(32) NOT NULL, "denial_reason" text NOT NULL DEFAULT '', "duplicate" boolean NOT NULL DEFAULT false, "scanned_at" TIMESTAMP WITH TIME ZONE NOT NULL, "device_scanned_at" TIMESTAMP WITH TIME ZONE, "device_time_adjusted" boolean NOT NULL DEFAULT false, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "source" character varying(8) NOT NULL, "local_decision" character varying(8), "qr_hash" character varying(64), "response" jsonb NOT NULL, CONSTRAINT "chk_room_access_logs_source" CHECK ("source" IN ('online', 'offline', 'manual')), CONSTRAINT "chk_room_access_logs_status" CHECK ("status" IN ('granted', 'denied')), CONSTRAINT "chk_room_access_logs_direction" CHECK ("direction" IN ('in', 'out')), CONSTRAINT "pk_room_access_logs" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_room_access_logs_event_id_verified_by_id_scanned_at" ON "room_access_logs" ("event_id", "verified_by_id", "scanned_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_room_access_logs_event_id_participant_id_scanned_at" ON "room_access_logs" ("event_id", "participant_id", "scanned_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_room_access_logs_event_id_room_id_scanned_at" ON "room_access_logs" ("event_id", "room_id", "scanned_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_room_access_logs_event_id_scanned_at" ON "room_access_logs" ("event_id", "scanned_at")`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_room_access_logs_event_device_nonce" ON "room_access_logs" ("event_id", "device_id", "nonce") WHERE "device_id" IS NOT NULL AND "nonce" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE TABLE "access_conflicts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "event_id" uuid NOT NULL, "access_id" uuid NOT NULL, "other_access_id" uuid, "kind" character varying(24) NOT NULL, "detected_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chk_access_conflicts_kind" CHECK ("kind" IN ('double_entry', 'decision_mismatch')), CONSTRAINT "pk_access_conflicts" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_access_conflicts_event_id_detected_at" ON "access_conflicts" ("event_id", "detected_at")`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_access_conflicts_event_access_kind" ON "access_conflicts" ("event_id", "access_id", "kind")`,
    );
    await queryRunner.query(
      `CREATE TABLE "attendances" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "event_id" uuid NOT NULL, "participant_id" uuid NOT NULL, "session_id" uuid, "method" character varying(16) NOT NULL, "marked_by_id" uuid, "attended_at" TIMESTAMP WITH TIME ZONE NOT NULL, "latitude" numeric(9,6), "longitude" numeric(9,6), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chk_attendances_method" CHECK ("method" IN ('door_scan', 'self', 'code', 'discord', 'manual')), CONSTRAINT "pk_attendances" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_attendances_event_id_session_id" ON "attendances" ("event_id", "session_id")`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_attendances_event_participant_session" ON "attendances" ("event_id", "participant_id", "session_id") WHERE "session_id" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_attendances_event_participant" ON "attendances" ("event_id", "participant_id") WHERE "session_id" IS NULL`,
    );
    await queryRunner.query(`ALTER TABLE "participants" ADD "current_room_id" uuid`);
    await queryRunner.query(
      `ALTER TABLE "room_access_logs" ADD CONSTRAINT "fk_room_access_logs_participant_id" FOREIGN KEY ("participant_id") REFERENCES "participants"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "access_conflicts" ADD CONSTRAINT "fk_access_conflicts_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "access_conflicts" ADD CONSTRAINT "fk_access_conflicts_access_id" FOREIGN KEY ("access_id") REFERENCES "room_access_logs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "access_conflicts" ADD CONSTRAINT "fk_access_conflicts_other_access_id" FOREIGN KEY ("other_access_id") REFERENCES "room_access_logs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "attendances" ADD CONSTRAINT "fk_attendances_participant_id" FOREIGN KEY ("participant_id") REFERENCES "participants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "attendances" ADD CONSTRAINT "fk_attendances_marked_by_id" FOREIGN KEY ("marked_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(DOOR_DECIDE);
    for (const statement of [...APPEND_ONLY, ...LEAVE_ON_DELETE, ...INSTEAD_OF_KEYS])
      await queryRunner.query(statement);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE participants RESET (fillfactor)`);
    await queryRunner.query(`DROP TRIGGER "trg_sessions_delete_attendance" ON "sessions"`);
    await queryRunner.query(`DROP FUNCTION sessions_delete_attendance()`);
    await queryRunner.query(`DROP TRIGGER "trg_rooms_keep_scanned" ON "rooms"`);
    await queryRunner.query(`DROP FUNCTION rooms_keep_scanned()`);
    await queryRunner.query(`DROP TRIGGER "trg_events_delete_door_data" ON "events"`);
    await queryRunner.query(`DROP FUNCTION events_delete_door_data()`);
    await queryRunner.query(`DROP TRIGGER "trg_participants_leave_room" ON "participants"`);
    await queryRunner.query(`DROP FUNCTION participants_leave_room()`);
    await queryRunner.query(`DROP TRIGGER "trg_room_access_logs_append_only" ON "room_access_logs"`);
    await queryRunner.query(`DROP FUNCTION room_access_logs_append_only()`);
    await queryRunner.query(
      `DROP FUNCTION door_decide(uuid, uuid, text, uuid, text, uuid, text, text, text, timestamptz, text, text, text, text, interval, interval)`,
    );
    await queryRunner.query(`ALTER TABLE "attendances" DROP CONSTRAINT "fk_attendances_marked_by_id"`);
    await queryRunner.query(`ALTER TABLE "attendances" DROP CONSTRAINT "fk_attendances_participant_id"`);
    await queryRunner.query(`ALTER TABLE "access_conflicts" DROP CONSTRAINT "fk_access_conflicts_other_access_id"`);
    await queryRunner.query(`ALTER TABLE "access_conflicts" DROP CONSTRAINT "fk_access_conflicts_access_id"`);
    await queryRunner.query(`ALTER TABLE "access_conflicts" DROP CONSTRAINT "fk_access_conflicts_event_id"`);
    await queryRunner.query(`ALTER TABLE "room_access_logs" DROP CONSTRAINT "fk_room_access_logs_participant_id"`);
    await queryRunner.query(`ALTER TABLE "participants" DROP COLUMN "current_room_id"`);
    await queryRunner.query(`DROP INDEX "public"."uq_attendances_event_participant"`);
    await queryRunner.query(`DROP INDEX "public"."uq_attendances_event_participant_session"`);
    await queryRunner.query(`DROP INDEX "public"."idx_attendances_event_id_session_id"`);
    await queryRunner.query(`DROP TABLE "attendances"`);
    await queryRunner.query(`DROP INDEX "public"."uq_access_conflicts_event_access_kind"`);
    await queryRunner.query(`DROP INDEX "public"."idx_access_conflicts_event_id_detected_at"`);
    await queryRunner.query(`DROP TABLE "access_conflicts"`);
    await queryRunner.query(`DROP INDEX "public"."uq_room_access_logs_event_device_nonce"`);
    await queryRunner.query(`DROP INDEX "public"."idx_room_access_logs_event_id_room_id_scanned_at"`);
    await queryRunner.query(`DROP INDEX "public"."idx_room_access_logs_event_id_scanned_at"`);
    await queryRunner.query(`DROP INDEX "public"."idx_room_access_logs_event_id_participant_id_scanned_at"`);
    await queryRunner.query(`DROP INDEX "public"."idx_room_access_logs_event_id_verified_by_id_scanned_at"`);
    await queryRunner.query(`DROP TABLE "room_access_logs"`);
  }
}
