import type { AuthContext } from '../common/auth/auth-context';
import type { EventRole } from '../common/auth/event-role';
import type { AttendanceRecord, SessionAttendanceStats } from '../modules/attendance/attendance.service';

/** Every acknowledgement: `{ok: true, data?}` or `{ok: false, error}`. */
export interface SocketError {
  code: string;
  message: string;
  errors?: Record<string, string[]>;
  [detail: string]: unknown;
}
export type Ack<T = undefined> = { ok: true; data?: T } | { ok: false; error: SocketError };
type AckFn<T = undefined> = (ack: Ack<T>) => void;

export interface RoomOccupancy {
  room_id: string;
  current_participants: number;
  capacity: number;
}

export interface AccessScanned {
  access_id: string;
  room_id: string | null;
  status: 'granted' | 'denied';
  reason_code: string;
  direction: 'in' | 'out';
  source: string;
  participant: { id: string; badge_id: string; full_name: string } | null;
  session_id: string | null;
  scanned_at: string;
  scanned_by: string;
}

export interface SessionUpdated {
  session_id: string;
  action: 'created' | 'updated' | 'deleted' | 'status';
  session: object | null;
}

export interface PresenceChange {
  session_id: string;
  user: { id: string; name: string };
}

export interface AttendanceMarkedMessage {
  session_id: string | null;
  attendance: Omit<AttendanceRecord, 'method'> & { method: string };
  created: boolean;
}

export interface AttendanceUpdate {
  session_id: string | null;
  /** Null in the copy the whole event gets when the organizer turned on `settings.public_attendance`. */
  participant_id: string | null;
  method: string;
  attended_at: string;
  present: number;
}

/** Server → client (API.md, "Real time"). */
export interface ServerToClientEvents {
  roomOccupancy: (message: RoomOccupancy) => void;
  accessScanned: (message: AccessScanned) => void;
  sessionUpdated: (message: SessionUpdated) => void;
  userJoined: (message: PresenceChange) => void;
  userLeft: (message: PresenceChange) => void;
  attendanceMarked: (message: AttendanceMarkedMessage) => void;
  attendanceUpdate: (message: AttendanceUpdate) => void;
  attendanceStats: (message: SessionAttendanceStats) => void;
  /** A new question, to the event's moderators (with the name of an anonymous asker). */
  questionAsked: (message: object) => void;
  /** A question changed, to the sockets in its session: `{id, session, removed: true}` when it left their view. */
  questionUpdated: (message: object) => void;
  /** An annonce, as `GET /api/annonces/{id}/` shows it, when it is published. */
  annonce: (message: object) => void;
  error: (message: { code: string; message: string }) => void;
}

export interface SessionRef {
  session_id: string;
}

/** Client → server; each with an acknowledgement. */
export interface ClientToServerEvents {
  joinSession: (payload: SessionRef, ack?: AckFn<{ session_id: string }>) => void;
  leaveSession: (payload: SessionRef, ack?: AckFn<{ session_id: string }>) => void;
  joinRoom: (payload: { room_id: string }, ack?: AckFn<RoomOccupancy>) => void;
  markAttendance: (
    payload: SessionRef & { code?: string; latitude?: number; longitude?: number },
    ack?: AckFn<AttendanceMarkedMessage>,
  ) => void;
  getAttendanceStats: (payload: SessionRef, ack?: AckFn<SessionAttendanceStats>) => void;
  sessionUpdate: (payload: SessionRef & Record<string, unknown>, ack?: AckFn<object>) => void;
}

export type InterServerEvents = Record<string, never>;

/** What the handshake established; each message re-checks it against the database. */
export interface SocketData {
  auth: AuthContext;
  claims: { sub: string; sid: string; event_id: string | null };
  /** Display name for presence messages, read when the socket first joins a session. */
  name?: string;
}

/** Room names. Only the server puts sockets into rooms. */
export const Rooms = {
  event: (eventId: string) => `event:${eventId}`,
  role: (eventId: string, role: EventRole) => `event:${eventId}:role:${role}`,
  user: (userId: string) => `user:${userId}`,
  session: (sessionId: string) => `session:${sessionId}`,
  /** Internal: the moderators among a session's sockets (they get moderator views of its questions). */
  sessionModerators: (sessionId: string) => `session:${sessionId}:mod`,
  room: (roomId: string) => `room:${roomId}`,
  /** Internal: the sockets of one login session (logout closes them). */
  authSession: (sid: string) => `sid:${sid}`,
  /** Internal: one user's sockets in one event (event-scoped messages to a person, role changes). */
  member: (eventId: string, userId: string) => `member:${eventId}:${userId}`,
};
