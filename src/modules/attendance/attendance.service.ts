import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppException, notFound } from '../../common/errors/app.exception';
import { DomainEvents } from '../../common/events/domain-events';
import { eventWindowRefusal, windowRefusal } from './attendance-window';
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

export interface SelfMark {
  sessionId: string;
  code?: string;
  latitude?: number;
  longitude?: number;
}

const refused = (status: HttpStatus, code: string, message: string, figures?: Record<string, number>) =>
  new AppException(status, code, message, undefined, undefined, figures);

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
    const rows: {
      status: string;
      start_time: Date;
      end_time: Date;
      is_paid: boolean;
      participant_id: string | null;
      has_access: boolean;
    }[] = await this.dataSource.query(
      `SELECT s.status, s.start_time, s.end_time, s.is_paid, p.id AS participant_id,
              EXISTS (SELECT 1 FROM session_access sa
                       WHERE sa.session_id = s.id AND sa.participant_id = p.id
                         AND sa.payment_status IN ('paid', 'free')) AS has_access
         FROM sessions s
         LEFT JOIN participants p ON p.event_id = s.event_id AND p.user_id = $3
        WHERE s.id = $2 AND s.event_id = $1`,
      [eventId, mark.sessionId, userId],
    );
    const ctx = rows[0];
    if (!ctx) throw notFound('Session');
    if (!ctx.participant_id) {
      throw refused(HttpStatus.FORBIDDEN, 'NOT_A_PARTICIPANT', 'Only people with a badge in this event attend');
    }
    if (mark.code !== undefined) {
      throw refused(HttpStatus.CONFLICT, 'CODE_NOT_OPEN', 'No attendance code is open for this session');
    }
    const window = windowRefusal({ status: ctx.status, startTime: ctx.start_time, endTime: ctx.end_time }, now);
    if (window) {
      const { code, message, ...extra } = window;
      throw refused(HttpStatus.CONFLICT, code, message, extra);
    }
    if (ctx.is_paid && !ctx.has_access) {
      throw refused(HttpStatus.FORBIDDEN, 'PAYMENT_REQUIRED', 'Payment required for this atelier');
    }
    const inserted: AttendanceRecord[] = await this.dataSource.query(
      `INSERT INTO attendances (event_id, participant_id, session_id, method, attended_at, latitude, longitude)
       VALUES ($1, $2, $3, 'self', $4, $5, $6)
       ON CONFLICT (event_id, participant_id, session_id) WHERE session_id IS NOT NULL DO NOTHING
       RETURNING ${RECORD}`,
      [eventId, ctx.participant_id, mark.sessionId, now, mark.latitude ?? null, mark.longitude ?? null],
    );
    const created = inserted.length > 0;
    const attendance =
      inserted[0] ??
      ((
        await this.dataSource.query(
          `SELECT ${RECORD} FROM attendances WHERE event_id = $1 AND participant_id = $2 AND session_id = $3`,
          [eventId, ctx.participant_id, mark.sessionId],
        )
      )[0] as AttendanceRecord);
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
   * `POST /api/events/{id}/attend/`: a participant marks themselves present at the event while it runs. The first
   * record wins (a door check-in may have made it already); a repeat answers it.
   */
  async attendEvent(eventId: string, userId: string, now = new Date()): Promise<AttendanceRecord> {
    const rows: { is_cancelled: boolean; start_date: Date; end_date: Date; participant_id: string | null }[] =
      await this.dataSource.query(
        `SELECT e.is_cancelled, e.start_date, e.end_date, p.id AS participant_id
           FROM events e LEFT JOIN participants p ON p.event_id = e.id AND p.user_id = $2 WHERE e.id = $1`,
        [eventId, userId],
      );
    const ctx = rows[0];
    if (!ctx) throw notFound('Event');
    if (!ctx.participant_id) {
      throw refused(HttpStatus.FORBIDDEN, 'NOT_A_PARTICIPANT', 'Only people with a badge in this event attend');
    }
    const window = eventWindowRefusal(
      { isCancelled: ctx.is_cancelled, startDate: ctx.start_date, endDate: ctx.end_date },
      now,
    );
    if (window) {
      const { code, message, ...figures } = window;
      throw refused(HttpStatus.CONFLICT, code, message, figures);
    }
    const inserted: AttendanceRecord[] = await this.dataSource.query(
      `INSERT INTO attendances (event_id, participant_id, session_id, method, attended_at)
       VALUES ($1, $2, NULL, 'self', $3)
       ON CONFLICT (event_id, participant_id) WHERE session_id IS NULL DO NOTHING RETURNING ${RECORD}`,
      [eventId, ctx.participant_id, now],
    );
    const record = inserted[0] ?? (await this.eventRecord(eventId, ctx.participant_id));
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

  private async eventRecord(eventId: string, participantId: string): Promise<AttendanceRecord> {
    const rows: AttendanceRecord[] = await this.dataSource.query(
      `SELECT ${RECORD} FROM attendances WHERE event_id = $1 AND participant_id = $2 AND session_id IS NULL`,
      [eventId, participantId],
    );
    return rows[0] as AttendanceRecord;
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

const RECORD = `id, session_id, participant_id, method,
  to_char(attended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS attended_at`;
