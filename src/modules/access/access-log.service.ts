import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context';
import { assertEventFilter } from '../../common/auth/event-scope';
import { notFound, validationFailed } from '../../common/errors/app.exception';
import { escapeLike, type Page, pageWindow, toPage } from '../../common/pagination/pagination';
import { ParticipantsService } from '../participants/participants.service';
import { RoomsService } from '../rooms/rooms.service';
import type {
  AccessLogDto,
  AccessLogQueryDto,
  ConflictDto,
  ConflictQueryDto,
  ManualAccessDto,
} from './dto/access-log.dto';
import { DoorService } from './door.service';

/**
 * The columns of an access log row as the API shows it; `l` is room_access_logs. A session or scanner deleted since
 * shows as null (the row keeps its id: the log has no foreign keys there).
 */
export const LOG_SELECT = `
  SELECT l.id, l.participant_id, nullif(trim(u.first_name || ' ' || u.last_name), '') AS participant_name,
         p.badge_id, l.room_id, r.name AS room_name, s.id AS session_id, s.title AS session_title, l.direction,
         l.status, l.reason_code, l.denial_reason, l.duplicate, v.id AS verified_by_id,
         nullif(trim(v.first_name || ' ' || v.last_name), '') AS verified_by_name, l.device_id, l.nonce, l.scanned_at,
         l.device_scanned_at, l.device_time_adjusted, l.received_at, l.source, l.local_decision,
         EXISTS (SELECT 1 FROM access_conflicts c WHERE c.access_id = l.id) AS conflict
    FROM room_access_logs l
    LEFT JOIN participants p ON p.id = l.participant_id
    LEFT JOIN users u ON u.id = p.user_id
    LEFT JOIN rooms r ON r.id = l.room_id
    LEFT JOIN sessions s ON s.id = l.session_id
    LEFT JOIN users v ON v.id = l.verified_by_id`;

type LogRow = Record<string, unknown>;

/** Builds a WHERE clause with numbered parameters. */
class Where {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  add(sql: (p: (value: unknown) => string) => string): this {
    this.parts.push(sql((value) => `$${this.params.push(value)}`));
    return this;
  }

  toString(): string {
    return this.parts.length > 0 ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/** Who sees which log rows: controllers their own scans, room managers and organisateurs all of the event. */
function scoped(eventId: string, caller: AuthContext): Where {
  const where = new Where().add((p) => `l.event_id = ${p(eventId)}`);
  if (caller.role === 'controlleur_des_badges') where.add((p) => `l.verified_by_id = ${p(caller.userId)}`);
  return where;
}

export function toLogDto(r: LogRow): AccessLogDto {
  return {
    id: r.id as string,
    participant: r.participant_id as string | null,
    participant_name: r.participant_name as string | null,
    badge_id: r.badge_id as string | null,
    room: r.room_id as string | null,
    room_name: r.room_name as string | null,
    session: r.session_id as string | null,
    session_title: r.session_title as string | null,
    direction: r.direction as AccessLogDto['direction'],
    status: r.status as AccessLogDto['status'],
    reason_code: r.reason_code as string,
    denial_reason: r.denial_reason as string,
    duplicate: r.duplicate as boolean,
    verified_by: r.verified_by_id as string | null,
    verified_by_name: r.verified_by_name as string | null,
    device_id: r.device_id as string | null,
    nonce: r.nonce as string | null,
    scanned_at: r.scanned_at as Date,
    device_scanned_at: r.device_scanned_at as Date | null,
    device_time_adjusted: r.device_time_adjusted as boolean,
    received_at: r.received_at as Date,
    source: r.source as AccessLogDto['source'],
    local_decision: r.local_decision as AccessLogDto['local_decision'],
    conflict: r.conflict as boolean,
  };
}

/** `/api/room-access/`: the append-only log of door decisions, manual decisions and offline conflicts. */
@Injectable()
export class AccessLogService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly door: DoorService,
    private readonly rooms: RoomsService,
    private readonly participants: ParticipantsService,
  ) {}

  async list(
    eventId: string,
    caller: AuthContext,
    query: AccessLogQueryDto,
    request: FastifyRequest,
  ): Promise<Page<AccessLogDto>> {
    assertEventFilter(query.event, eventId);
    const where = scoped(eventId, caller);
    if (query.room) where.add((p) => `l.room_id = ${p(query.room)}`);
    if (query.participant) where.add((p) => `l.participant_id = ${p(query.participant)}`);
    if (query.status) where.add((p) => `l.status = ${p(query.status)}`);
    if (query.reason_code) where.add((p) => `l.reason_code = ${p(query.reason_code)}`);
    if (query.direction) where.add((p) => `l.direction = ${p(query.direction)}`);
    if (query.source) where.add((p) => `l.source = ${p(query.source)}`);
    if (query.from) where.add((p) => `l.scanned_at >= ${p(query.from)}`);
    if (query.to) where.add((p) => `l.scanned_at < ${p(query.to)}`);
    if (query.search) {
      where.add((p) => {
        const s = p(`%${escapeLike(query.search as string)}%`);
        return `(p.badge_id ILIKE ${s} OR (u.first_name || ' ' || u.last_name) ILIKE ${s})`;
      });
    }
    const desc = !query.ordering || query.ordering.startsWith('-');
    const column = (query.ordering ?? '-scanned_at').replace('-', '') === 'received_at' ? 'received_at' : 'scanned_at';
    const window = pageWindow(query);
    const [count, rows] = await Promise.all([
      this.dataSource.query(
        // The names are joined only when the search needs them.
        `SELECT count(*) AS n FROM room_access_logs l
           ${query.search ? 'LEFT JOIN participants p ON p.id = l.participant_id LEFT JOIN users u ON u.id = p.user_id' : ''}
           ${where}`,
        where.params,
      ) as Promise<{ n: string }[]>,
      this.dataSource.query(
        `${LOG_SELECT} ${where} ORDER BY l.${column} ${desc ? 'DESC' : 'ASC'}, l.id
         LIMIT ${window.pageSize} OFFSET ${window.offset}`,
        where.params,
      ) as Promise<LogRow[]>,
    ]);
    return toPage(request, window, Number(count[0]?.n ?? 0), rows.map(toLogDto));
  }

  async get(eventId: string, caller: AuthContext, id: string): Promise<AccessLogDto> {
    const where = scoped(eventId, caller).add((p) => `l.id = ${p(id)}`);
    const rows: LogRow[] = await this.dataSource.query(`${LOG_SELECT} ${where}`, where.params);
    if (!rows[0]) throw notFound('Access log');
    return toLogDto(rows[0]);
  }

  /** A decision taken by staff at a door, logged with their note (and applied to occupancy when granted). */
  async manual(eventId: string, caller: AuthContext, dto: ManualAccessDto): Promise<AccessLogDto> {
    if ((await this.rooms.notInEvent(eventId, [dto.room_id])).length > 0) {
      throw validationFailed({ room_id: ['Must be a room of this event'] });
    }
    if (!(await this.participants.exists(eventId, dto.participant_id))) {
      throw validationFailed({ participant_id: ['Must be a participant (badge) of this event'] });
    }
    const answer = await this.door.decide({
      eventId,
      roomId: dto.room_id,
      participantId: dto.participant_id,
      direction: dto.direction ?? 'in',
      caller,
      source: 'manual',
      overrideStatus: dto.status,
      note: dto.denial_reason.trim(),
    });
    return this.get(eventId, caller, answer.access_id);
  }

  async conflicts(eventId: string, query: ConflictQueryDto, request: FastifyRequest): Promise<Page<ConflictDto>> {
    assertEventFilter(query.event, eventId);
    const where = new Where().add((p) => `c.event_id = ${p(eventId)}`);
    if (query.kind) where.add((p) => `c.kind = ${p(query.kind)}`);
    if (query.room) where.add((p) => `l.room_id = ${p(query.room)}`);
    const window = pageWindow(query);
    const from = `FROM access_conflicts c JOIN room_access_logs l ON l.id = c.access_id ${where}`;
    const [count, rows] = await Promise.all([
      this.dataSource.query(`SELECT count(*) AS n ${from}`, where.params) as Promise<{ n: string }[]>,
      this.dataSource.query(
        `SELECT c.id, c.kind, c.detected_at, c.access_id, c.other_access_id ${from}
          ORDER BY c.detected_at DESC, c.id LIMIT ${window.pageSize} OFFSET ${window.offset}`,
        where.params,
      ) as Promise<
        {
          id: string;
          kind: ConflictDto['kind'];
          detected_at: Date;
          access_id: string;
          other_access_id: string | null;
        }[]
      >,
    ]);
    const ids = rows.flatMap((r) => (r.other_access_id ? [r.access_id, r.other_access_id] : [r.access_id]));
    const logs: LogRow[] =
      ids.length > 0
        ? await this.dataSource.query(`${LOG_SELECT} WHERE l.event_id = $1 AND l.id = ANY($2::uuid[])`, [eventId, ids])
        : [];
    const byId = new Map(logs.map((l) => [l.id as string, toLogDto(l)]));
    return toPage(
      request,
      window,
      Number(count[0]?.n ?? 0),
      rows.map((r) => ({
        id: r.id,
        kind: r.kind,
        detected_at: r.detected_at,
        access: byId.get(r.access_id) as AccessLogDto,
        other_access: r.other_access_id ? (byId.get(r.other_access_id) ?? null) : null,
      })),
    );
  }
}
