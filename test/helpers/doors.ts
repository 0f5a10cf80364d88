import type { TestApp } from './test-app';

/** One scan of `POST /api/scans/sync/`, as a door app uploads it. */
export interface OfflineScan {
  nonce: string;
  qr_data: string;
  room_id: string;
  direction: 'in' | 'out';
  scanned_at: string;
  local_decision: 'granted' | 'denied';
}

export interface BadgeState {
  id: string;
  current_room_id: string | null;
  is_checked_in: boolean;
  checked_in_at: Date | null;
  /** Of the event attendance (the one without a session), which a check-in creates. */
  attended_at: Date | null;
}

/** Where each badge of an event is, whether it is checked in and since when. */
export function badgeStates(t: TestApp, eventId: string): Promise<BadgeState[]> {
  return t.db.query(
    `SELECT p.id, p.current_room_id, p.is_checked_in, p.checked_in_at, a.attended_at FROM participants p
       LEFT JOIN attendances a ON a.participant_id = p.id AND a.session_id IS NULL
      WHERE p.event_id = $1 ORDER BY p.id`,
    [eventId],
  );
}

/** Everything a door decision can change in an event, for "nothing changed" assertions. */
export async function doorState(t: TestApp, eventId: string): Promise<unknown> {
  const rows: unknown[] = await t.db.query(
    `SELECT (SELECT count(*) FROM room_access_logs WHERE event_id = $1)::int AS logs,
            (SELECT count(*) FROM access_conflicts WHERE event_id = $1)::int AS conflicts,
            (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.id), '[]') FROM attendances a
              WHERE a.event_id = $1) AS attendances,
            (SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'n', current_participants) ORDER BY id), '[]')
               FROM rooms WHERE event_id = $1) AS rooms,
            (SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'in', is_checked_in, 'at', checked_in_at,
                                                          'room', current_room_id, 'qr', qr_hash) ORDER BY id), '[]')
               FROM participants WHERE event_id = $1) AS badges`,
    [eventId],
  );
  return rows[0];
}
