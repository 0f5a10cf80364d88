import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../../common/auth/auth-context';
import { AppException, ErrorCode, notFound, validationFailed } from '../../common/errors/app.exception';
import { pageWindow, toPage, type Page } from '../../common/pagination/pagination';
import { DomainEvents } from '../../common/events/domain-events';
import { codeFor, codeMatches, windowAt } from './attendance-code';
import { eventWindowRefusal, windowRefusal } from './attendance-window';
import { areaVerdict, type EventArea, type Position } from './attendance-area';
import { copyCsv, csvText, csvTime, sqlLiteral } from '../../database/copy-csv';
import type {
  AttendanceCsvQueryDto,
  AttendeeDto,
  AttendeesQueryDto,
  CurrentCodeDto,
  ManualAttendanceDto,
} from './dto/attend.dto';
import type { AttendanceMethod } from './entities/attendance.entity';

export interface AttendanceRecord {
  id: string;
  session_id: string | null;
  participant_id: string;
  method: AttendanceMethod;
  attended_at: string;
}

export interface SessionAttendanceStats {
  session_id: string;
  present: number;
  by_method: Partial<Record<AttendanceMethod, number>>;
}

/** Code guesses one participant may make in one session. */
export const CODE_ATTEMPTS = 5;

export interface SelfMark extends Position {
  sessionId: string;
  code?: string;
}

/** The event's area columns, selected as `area_*` by the queries below. */
const AREA_COLUMNS = 'e.latitude AS area_latitude, e.longitude AS area_longitude, e.attendance_radius AS area_radius';
interface AreaRow {
  area_latitude: string | null;
  area_longitude: string | null;
  area_radius: number | null;
}

const refused = (status: HttpStatus, code: string, message: string, figures?: Record<string, number>) =>
  new AppException(status, code, message, undefined, undefined, figures);

/** 403 for someone without a badge in the event (waitlisted, or staff): only participants attend. */
export const notAParticipant = (): AppException =>
  refused(HttpStatus.FORBIDDEN, 'NOT_A_PARTICIPANT', 'Only people with a badge in this event attend');

/**
 * The attendance ledger (table `attendances`): one record per participant and event, one per participant and
 * session; the first record wins. Door scans write into it from `door_decide`; this service adds marking oneself
 * present during a session. Codes, manual marking, Discord and exports come with the attendance issue.
 */
@Injectable()
export class AttendanceService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: DomainEvents,
  ) {}

  /** A participant marks themselves present in a session that is running now; a repeat answers the first record. */
  async markSelf(
    eventId: string,
    userId: string,
    mark: SelfMark,
    now = new Date(),
  ): Promise<{ attendance: AttendanceRecord; created: boolean }> {
    const rows: (AreaRow & {
      status: string;
      start_time: Date;
      end_time: Date;
      is_paid: boolean;
      participant_id: string | null;
      has_access: boolean;
      room_allowed: boolean;
      event_cancelled: boolean;
      event_start: Date;
      event_end: Date;
    })[] = await this.dataSource.query(
      `SELECT s.status, s.start_time, s.end_time, s.is_paid, p.id AS participant_id, ${AREA_COLUMNS},
              e.is_cancelled AS event_cancelled, e.start_date AS event_start, e.end_date AS event_end,
              (cardinality(p.allowed_rooms) = 0 OR s.room_id = ANY (p.allowed_rooms)) AS room_allowed,
              EXISTS (SELECT 1 FROM session_access sa
                       WHERE sa.session_id = s.id AND sa.participant_id = p.id
                         AND sa.payment_status IN ('paid', 'free')) AS has_access
         FROM sessions s
         JOIN events e ON e.id = s.event_id
         LEFT JOIN participants p ON p.event_id = s.event_id AND p.user_id = $3
        WHERE s.id = $2 AND s.event_id = $1`,
      [eventId, mark.sessionId, userId],
    );
    const ctx = rows[0];
    if (!ctx) throw notFound('Session');
    if (!ctx.participant_id) {
      throw notAParticipant();
    }
    // Someone already present gets their record again: wherever they are, without a code, also once the session is
    // over (API.md: twice → the same record). A race past this read still ends in the ON CONFLICT below.
    const present = await this.sessionRecord(eventId, ctx.participant_id, mark.sessionId);
    if (present) return { attendance: present, created: false };
    const codes: { secret: string; rotates_every: number }[] = await this.dataSource.query(
      'SELECT secret, rotates_every FROM attendance_codes WHERE session_id = $1 AND closed_at IS NULL',
      [mark.sessionId],
    );
    const open = codes[0];
    if (mark.code !== undefined && !open) {
      throw refused(HttpStatus.CONFLICT, 'CODE_NOT_OPEN', 'No attendance code is open for this session');
    }
    // The door's rules where they apply to being there: the event runs (EVENT_CANCELLED / _NOT_STARTED / _ENDED),
    // the session runs, the room is one the badge opens, a paid atelier is paid for.
    const window =
      eventWindowRefusal(
        { isCancelled: ctx.event_cancelled, startDate: ctx.event_start, endDate: ctx.event_end },
        now,
      ) ?? windowRefusal({ status: ctx.status, startTime: ctx.start_time, endTime: ctx.end_time }, now);
    if (window) {
      const { code, message, ...extra } = window;
      throw refused(HttpStatus.CONFLICT, code, message, extra);
    }
    if (!ctx.room_allowed) {
      throw refused(HttpStatus.FORBIDDEN, 'ROOM_NOT_ALLOWED', "This session's room is not among the badge's rooms");
    }
    if (ctx.is_paid && !ctx.has_access) {
      throw refused(HttpStatus.FORBIDDEN, 'PAYMENT_REQUIRED', 'Payment required for this atelier');
    }
    // Before the code: a guess from outside the area is not counted against the participant.
    const distance = insideArea(ctx, mark);
    if (open) await this.checkCode(eventId, mark, ctx.participant_id, open, now);
    const inserted: AttendanceRecord[] = await this.dataSource.query(
      `INSERT INTO attendances (event_id, participant_id, session_id, method, attended_at, latitude, longitude, distance_m)
       VALUES ($1, $2, $3, ${open ? "'code'" : "'self'"}, $4, $5, $6, $7)
       ON CONFLICT (event_id, participant_id, session_id) WHERE session_id IS NOT NULL DO NOTHING
       RETURNING ${RECORD}`,
      [eventId, ctx.participant_id, mark.sessionId, now, mark.latitude ?? null, mark.longitude ?? null, distance],
    );
    const created = inserted.length > 0;
    const attendance =
      inserted[0] ?? ((await this.sessionRecord(eventId, ctx.participant_id, mark.sessionId)) as AttendanceRecord);
    void this.events.publish('attendance.marked', {
      eventId,
      attendanceId: attendance.id,
      sessionId: mark.sessionId,
      participantId: ctx.participant_id,
      userId,
      method: attendance.method,
      attendedAt: attendance.attended_at,
      created,
    });
    return { attendance, created };
  }

  /**
   * A session with code attendance open takes the current (or previous) code. Every guess is counted first, by a
   * conditional upsert that stops at CODE_ATTEMPTS: of any number of parallel guesses, exactly that many are looked
   * at, the others are refused with 429 without being compared.
   */
  private async checkCode(
    eventId: string,
    mark: SelfMark,
    participantId: string,
    open: { secret: string; rotates_every: number },
    now: Date,
  ): Promise<void> {
    if (mark.code === undefined) {
      throw refused(HttpStatus.BAD_REQUEST, 'CODE_REQUIRED', 'This session takes attendance by code');
    }
    const counted: unknown[] = await this.dataSource.query(
      `INSERT INTO attendance_code_attempts (session_id, participant_id, event_id, attempts) VALUES ($1, $2, $3, 1)
       ON CONFLICT (session_id, participant_id) DO UPDATE
          SET attempts = attendance_code_attempts.attempts + 1, updated_at = now()
        WHERE attendance_code_attempts.attempts < $4
       RETURNING attempts`,
      [mark.sessionId, participantId, eventId, CODE_ATTEMPTS],
    );
    if (counted.length === 0) {
      throw new AppException(
        HttpStatus.TOO_MANY_REQUESTS,
        ErrorCode.RATE_LIMITED,
        `At most ${CODE_ATTEMPTS} code attempts per session`,
      );
    }
    if (!codeMatches(open.secret, mark.sessionId, open.rotates_every, mark.code, now)) {
      throw refused(HttpStatus.BAD_REQUEST, 'CODE_INVALID', 'This is not the code of this session now');
    }
  }

  /** Staff open code attendance (or open it again with a new secret). */
  async openCode(
    eventId: string,
    sessionId: string,
    rotatesEvery: number,
    caller: AuthContext,
  ): Promise<CurrentCodeDto> {
    await this.assertSession(eventId, sessionId);
    await this.dataSource.query(
      `INSERT INTO attendance_codes (event_id, session_id, secret, rotates_every, opened_by_id)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (session_id) DO UPDATE SET secret = EXCLUDED.secret, rotates_every = EXCLUDED.rotates_every,
              opened_by_id = EXCLUDED.opened_by_id, closed_at = NULL, updated_at = now()`,
      [eventId, sessionId, randomBytes(32).toString('hex'), rotatesEvery, caller.userId],
    );
    return this.currentCode(eventId, sessionId);
  }

  /** The code to show now, and when it stops being the current one. */
  async currentCode(eventId: string, sessionId: string, now = new Date()): Promise<CurrentCodeDto> {
    const rows: { secret: string; rotates_every: number }[] = await this.dataSource.query(
      `SELECT secret, rotates_every FROM attendance_codes
        WHERE event_id = $1 AND session_id = $2 AND closed_at IS NULL`,
      [eventId, sessionId],
    );
    const open = rows[0];
    if (!open) throw notFound('Open attendance code');
    const window = windowAt(now, open.rotates_every);
    return {
      code: codeFor(open.secret, sessionId, window),
      valid_until: new Date((window + 1) * open.rotates_every * 1000).toISOString(),
      rotates_every: open.rotates_every,
    };
  }

  async closeCode(eventId: string, sessionId: string): Promise<void> {
    const [, affected]: [unknown, number] = await this.dataSource.query(
      `UPDATE attendance_codes SET closed_at = now(), updated_at = now()
        WHERE event_id = $1 AND session_id = $2 AND closed_at IS NULL`,
      [eventId, sessionId],
    );
    if (!affected) throw notFound('Open attendance code');
  }

  /**
   * `POST /api/events/{id}/attend/`: a participant marks themselves present at the event while it runs. The first
   * record wins (a door check-in may have made it already); a repeat answers it. The Discord bot marks with `discord`.
   */
  async attendEvent(
    eventId: string,
    userId: string,
    at: Position = {},
    now = new Date(),
    method: Extract<AttendanceMethod, 'self' | 'discord'> = 'self',
  ): Promise<AttendanceRecord> {
    const rows: (AreaRow & {
      is_cancelled: boolean;
      start_date: Date;
      end_date: Date;
      participant_id: string | null;
    })[] = await this.dataSource.query(
      `SELECT e.is_cancelled, e.start_date, e.end_date, p.id AS participant_id, ${AREA_COLUMNS}
           FROM events e LEFT JOIN participants p ON p.event_id = e.id AND p.user_id = $2 WHERE e.id = $1`,
      [eventId, userId],
    );
    const ctx = rows[0];
    if (!ctx) throw notFound('Event');
    if (!ctx.participant_id) {
      throw notAParticipant();
    }
    const window = eventWindowRefusal(
      { isCancelled: ctx.is_cancelled, startDate: ctx.start_date, endDate: ctx.end_date },
      now,
    );
    if (window) {
      const { code, message, ...figures } = window;
      throw refused(HttpStatus.CONFLICT, code, message, figures);
    }
    const present = await this.eventRecord(eventId, ctx.participant_id);
    if (present) return present;
    // The area is for people marking themselves with their phone; the bot has no position to give.
    const distance = method === 'self' ? insideArea(ctx, at) : null;
    const inserted: AttendanceRecord[] = await this.dataSource.query(
      `INSERT INTO attendances (event_id, participant_id, session_id, method, attended_at, latitude, longitude, distance_m)
       VALUES ($1, $2, NULL, $7, $3, $4, $5, $6)
       ON CONFLICT (event_id, participant_id) WHERE session_id IS NULL DO NOTHING RETURNING ${RECORD}`,
      [eventId, ctx.participant_id, now, at.latitude ?? null, at.longitude ?? null, distance, method],
    );
    const record = inserted[0] ?? ((await this.eventRecord(eventId, ctx.participant_id)) as AttendanceRecord);
    if (inserted[0]) {
      void this.events.publish('attendance.marked', {
        eventId,
        attendanceId: record.id,
        sessionId: null,
        participantId: ctx.participant_id,
        userId,
        method: record.method,
        attendedAt: record.attended_at,
        created: true,
      });
    }
    return record;
  }

  /** `GET /api/events/{id}/check-attendance/`: the caller's own event attendance. */
  async checkEvent(
    eventId: string,
    userId: string,
  ): Promise<{ attended: boolean; attended_at: string | null; method: AttendanceMethod | null }> {
    const rows: AttendanceRecord[] = await this.dataSource.query(
      `SELECT ${RECORD} FROM attendances a
        WHERE a.event_id = $1 AND a.session_id IS NULL
          AND a.participant_id = (SELECT id FROM participants WHERE event_id = $1 AND user_id = $2)`,
      [eventId, userId],
    );
    const record = rows[0];
    return { attended: !!record, attended_at: record?.attended_at ?? null, method: record?.method ?? null };
  }

  private async eventRecord(eventId: string, participantId: string): Promise<AttendanceRecord | undefined> {
    const rows: AttendanceRecord[] = await this.dataSource.query(
      `SELECT ${RECORD} FROM attendances WHERE event_id = $1 AND participant_id = $2 AND session_id IS NULL`,
      [eventId, participantId],
    );
    return rows[0];
  }

  private async sessionRecord(
    eventId: string,
    participantId: string,
    sessionId: string,
  ): Promise<AttendanceRecord | undefined> {
    const rows: AttendanceRecord[] = await this.dataSource.query(
      `SELECT ${RECORD} FROM attendances WHERE event_id = $1 AND participant_id = $2 AND session_id = $3`,
      [eventId, participantId, sessionId],
    );
    return rows[0];
  }

  /** The ledger of the event (or of one session), newest first. */
  async attendees(
    eventId: string,
    query: AttendeesQueryDto,
    request: FastifyRequest,
    sessionId: string | null = query.session ?? null,
  ): Promise<Page<AttendeeDto>> {
    const window = pageWindow(query);
    const where = `a.event_id = $1 AND ($2::text IS NULL OR a.method = $2) AND ($3::uuid IS NULL OR a.session_id = $3)`;
    const params = [eventId, query.method ?? null, sessionId];
    const [rows, count]: [AttendeeDto[], { n: number }[]] = await Promise.all([
      this.dataSource.query(`${ATTENDEE} WHERE ${where} ORDER BY a.attended_at DESC, a.id LIMIT $4 OFFSET $5`, [
        ...params,
        window.pageSize,
        window.offset,
      ]),
      this.dataSource.query(`SELECT count(*)::int AS n FROM attendances a WHERE ${where}`, params),
    ]);
    return toPage(request, window, count[0]?.n ?? 0, rows);
  }

  /** One user's records in the event (the event itself and its sessions), newest first: none without a badge. */
  async attendeesOfUser(
    eventId: string,
    userId: string,
    query: Pick<AttendeesQueryDto, 'page' | 'page_size'>,
    request: FastifyRequest,
  ): Promise<Page<AttendeeDto>> {
    const window = pageWindow(query);
    const where = 'a.event_id = $1 AND p.user_id = $2';
    const [rows, count]: [AttendeeDto[], { n: number }[]] = await Promise.all([
      this.dataSource.query(`${ATTENDEE} WHERE ${where} ORDER BY a.attended_at DESC, a.id LIMIT $3 OFFSET $4`, [
        eventId,
        userId,
        window.pageSize,
        window.offset,
      ]),
      this.dataSource.query(
        `SELECT count(*)::int AS n FROM attendances a JOIN participants p ON p.id = a.participant_id WHERE ${where}`,
        [eventId, userId],
      ),
    ]);
    return toPage(request, window, count[0]?.n ?? 0, rows);
  }

  /**
   * The ledger as CSV, streamed by `COPY ... TO STDOUT` (never the whole file in memory), text cells safe against
   * spreadsheet formulas. Filters: session, method.
   */
  exportCsv(eventId: string, query: AttendanceCsvQueryDto): Promise<Readable> {
    const filters = [`a.event_id = ${sqlLiteral(eventId)}::uuid`];
    if (query.session) filters.push(`a.session_id = ${sqlLiteral(query.session)}::uuid`);
    if (query.method) filters.push(`a.method = ${sqlLiteral(query.method)}`);
    const name = (alias: string) =>
      `trim(coalesce(${alias}.first_name, '') || ' ' || coalesce(${alias}.last_name, ''))`;
    return copyCsv(
      this.dataSource,
      `SELECT ${csvText('p.badge_id')} AS badge_id, ${csvText(name('u'))} AS full_name, ${csvText('u.email')} AS email,
              a.session_id, ${csvText('s.title')} AS session_title, a.method, ${csvTime('a.attended_at')} AS attended_at,
              ${csvText(`nullif(${name('m')}, '')`)} AS marked_by, a.latitude, a.longitude, ${csvText('a.note')} AS note
         FROM attendances a JOIN participants p ON p.id = a.participant_id JOIN users u ON u.id = p.user_id
         LEFT JOIN sessions s ON s.id = a.session_id LEFT JOIN users m ON m.id = a.marked_by_id
        WHERE ${filters.join(' AND ')}
        ORDER BY a.attended_at, a.id`,
      { bom: query.bom ?? false },
    );
  }

  async assertSession(eventId: string, sessionId: string): Promise<void> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM sessions WHERE id = $1 AND event_id = $2', [
      sessionId,
      eventId,
    ]);
    if (rows.length === 0) throw notFound('Session');
  }

  /** Staff mark someone present: 201 with a new manual record, or 200 with the record that was already there. */
  async markManual(
    eventId: string,
    dto: ManualAttendanceDto,
    caller: AuthContext,
  ): Promise<{ attendee: AttendeeDto; created: boolean }> {
    const found: { participant: boolean; session: boolean; user_id: string | null }[] = await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM participants WHERE id = $2 AND event_id = $1) AS participant,
              ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM sessions WHERE id = $3 AND event_id = $1)) AS session,
              (SELECT user_id FROM participants WHERE id = $2 AND event_id = $1) AS user_id`,
      [eventId, dto.participant_id, dto.session_id ?? null],
    );
    const errors: Record<string, string[]> = {};
    if (!found[0]?.participant) errors.participant_id = ['Must be a badge of this event'];
    if (!found[0]?.session) errors.session_id = ['Must be a session of this event'];
    if (Object.keys(errors).length > 0) throw validationFailed(errors);
    const conflictTarget = dto.session_id
      ? '(event_id, participant_id, session_id) WHERE session_id IS NOT NULL'
      : '(event_id, participant_id) WHERE session_id IS NULL';
    const inserted: { id: string }[] = await this.dataSource.query(
      `INSERT INTO attendances (event_id, participant_id, session_id, method, marked_by_id, attended_at, note)
       VALUES ($1, $2, $3, 'manual', $4, now(), $5) ON CONFLICT ${conflictTarget} DO NOTHING RETURNING id`,
      [eventId, dto.participant_id, dto.session_id ?? null, caller.userId, dto.note ?? null],
    );
    const rows: AttendeeDto[] = await this.dataSource.query(
      `${ATTENDEE} WHERE a.event_id = $1 AND a.participant_id = $2 AND a.session_id IS NOT DISTINCT FROM $3::uuid`,
      [eventId, dto.participant_id, dto.session_id ?? null],
    );
    const attendee = rows[0] as AttendeeDto;
    if (inserted[0]) {
      void this.events.publish('attendance.marked', {
        eventId,
        attendanceId: attendee.id,
        sessionId: attendee.session,
        participantId: attendee.participant,
        userId: found[0]?.user_id as string,
        method: 'manual',
        attendedAt: attendee.attended_at,
        created: true,
      });
    }
    return { attendee, created: inserted.length > 0 };
  }

  /** Removes a record; what it was, who removed it and why go to the audit log, in the same transaction. */
  async remove(eventId: string, id: string, reason: string, caller: AuthContext): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const removed: unknown[] = await manager.query(
        `WITH gone AS (DELETE FROM attendances WHERE id = $1 AND event_id = $2 RETURNING *)
         INSERT INTO attendance_removals (event_id, attendance_id, participant_id, session_id, method, attended_at,
                                          marked_by_id, removed_by_id, reason)
         SELECT event_id, id, participant_id, session_id, method, attended_at, marked_by_id, $3, $4 FROM gone
         RETURNING id`,
        [id, eventId, caller.userId, reason],
      );
      if (removed.length === 0) throw notFound('Attendance');
    });
  }

  async sessionStats(eventId: string, sessionId: string): Promise<SessionAttendanceStats> {
    const rows: { method: AttendanceMethod | null; n: number }[] = await this.dataSource.query(
      `SELECT a.method, count(a.id)::int AS n
         FROM sessions s LEFT JOIN attendances a ON a.event_id = s.event_id AND a.session_id = s.id
        WHERE s.id = $2 AND s.event_id = $1
        GROUP BY a.method`,
      [eventId, sessionId],
    );
    if (rows.length === 0) throw notFound('Session');
    const byMethod: Partial<Record<AttendanceMethod, number>> = {};
    for (const row of rows) if (row.method) byMethod[row.method] = row.n;
    return {
      session_id: sessionId,
      present: rows.reduce((sum, r) => sum + r.n, 0),
      by_method: byMethod,
    };
  }
}

const ATTENDEE = `SELECT a.id, a.participant_id AS participant,
       trim(coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, '')) AS participant_name,
       a.session_id AS session, a.method, a.marked_by_id AS marked_by,
       nullif(trim(coalesce(m.first_name, '') || ' ' || coalesce(m.last_name, '')), '') AS marked_by_name,
       to_char(a.attended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS attended_at,
       a.latitude::float8 AS latitude, a.longitude::float8 AS longitude, a.note
  FROM attendances a JOIN participants p ON p.id = a.participant_id JOIN users u ON u.id = p.user_id
  LEFT JOIN users m ON m.id = a.marked_by_id`;

/** The distance to keep on the record, or the refusal: LOCATION_REQUIRED (400) or OUT_OF_AREA (409, with figures). */
function insideArea(row: AreaRow, at: Position): number | null {
  const area: EventArea = { latitude: row.area_latitude, longitude: row.area_longitude, radius: row.area_radius };
  const verdict = areaVerdict(area, at);
  if (verdict.ok) return verdict.distance;
  const { code, message, distance_m, radius_m } = verdict;
  const status = code === 'OUT_OF_AREA' ? HttpStatus.CONFLICT : HttpStatus.BAD_REQUEST;
  throw refused(status, code, message, distance_m === undefined ? undefined : { distance_m, radius_m: radius_m ?? 0 });
}

const RECORD = `id, session_id, participant_id, method,
  to_char(attended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS attended_at`;
