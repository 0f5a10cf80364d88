import { AccessConflict } from '../modules/access/entities/access-conflict.entity';
import { RoomAccessLog } from '../modules/access/entities/room-access-log.entity';
import { AnnonceRead } from '../modules/annonces/entities/annonce-read.entity';
import { Annonce } from '../modules/annonces/entities/annonce.entity';
import { UserEventAssignment } from '../modules/assignments/entities/user-event-assignment.entity';
import { AttendanceCodeAttempt } from '../modules/attendance/entities/attendance-code-attempt.entity';
import { AttendanceCode } from '../modules/attendance/entities/attendance-code.entity';
import { AttendanceRemoval } from '../modules/attendance/entities/attendance-removal.entity';
import { Attendance } from '../modules/attendance/entities/attendance.entity';
import { AuthSession } from '../modules/auth/entities/auth-session.entity';
import { RefreshToken } from '../modules/auth/entities/refresh-token.entity';
import { SpentSelectionToken } from '../modules/auth/entities/spent-selection-token.entity';
import { DiscordBotToken } from '../modules/discord/entities/discord-bot-token.entity';
import { Event } from '../modules/events/entities/event.entity';
import { ExposantScanVisit } from '../modules/exposant-scans/entities/exposant-scan-visit.entity';
import { ExposantScan } from '../modules/exposant-scans/entities/exposant-scan.entity';
import { Participant } from '../modules/participants/entities/participant.entity';
import { RevokedQrCode } from '../modules/participants/entities/revoked-qr-code.entity';
import { QuestionUpvote } from '../modules/questions/entities/question-upvote.entity';
import { Question } from '../modules/questions/entities/question.entity';
import { EventRegistration } from '../modules/registrations/entities/event-registration.entity';
import { RoomAssignment } from '../modules/room-assignments/entities/room-assignment.entity';
import { Room } from '../modules/rooms/entities/room.entity';
import { SessionAccess } from '../modules/session-access/entities/session-access.entity';
import { EventSession } from '../modules/sessions/entities/event-session.entity';
import { User } from '../modules/users/entities/user.entity';

/** Every entity of the schema; the migration check compares exactly this list against `migrations/`. */
export const ENTITIES = [
  User,
  Event,
  UserEventAssignment,
  AuthSession,
  RefreshToken,
  SpentSelectionToken,
  Room,
  EventSession,
  RoomAssignment,
  Participant,
  RevokedQrCode,
  SessionAccess,
  RoomAccessLog,
  AccessConflict,
  Attendance,
  AttendanceRemoval,
  AttendanceCode,
  AttendanceCodeAttempt,
  Annonce,
  AnnonceRead,
  Question,
  QuestionUpvote,
  ExposantScan,
  ExposantScanVisit,
  EventRegistration,
  DiscordBotToken,
];
