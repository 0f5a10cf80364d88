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
