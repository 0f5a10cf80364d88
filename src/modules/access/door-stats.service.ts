import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context';
import { escapeLike, type Page, pageWindow, toPage } from '../../common/pagination/pagination';
import { RoomsService } from '../rooms/rooms.service';
import { LOG_SELECT, toLogDto } from './access-log.service';
import type {
  ControllerStatsDto,
  RoomPeopleQueryDto,
  RoomPersonDto,
  RoomScanCountDto,
  RoomStatsDto,
} from './dto/door-stats.dto';

/** Midnight UTC of `now`: "today" for door figures. */
export function startOfUtcDay(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/** Door figures read from the access log (each query uses an index that starts with event_id). */
@Injectable()
export class DoorStatsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly rooms: RoomsService,
  ) {}

  /** Scans and denials of the event today, for the event statistics and the dashboard. */
  async eventToday(eventId: string): Promise<{ scans_today: number; denied_today: number }> {
    const rows: { scans: string; denied: string }[] = await this.dataSource.query(
      `SELECT count(*) AS scans, count(*) FILTER (WHERE status = 'denied') AS denied
         FROM room_access_logs WHERE event_id = $1 AND scanned_at >= $2`,
      [eventId, startOfUtcDay()],
    );
    return { scans_today: Number(rows[0]?.scans ?? 0), denied_today: Number(rows[0]?.denied ?? 0) };
  }

  /** A scanner's own scans today, by room, with the totals (the dashboard shows the totals only). */
  async scannerToday(eventId: string, userId: string): Promise<Omit<ControllerStatsDto, 'recent'>> {
    const since = startOfUtcDay();
    const rows: { room_id: string | null; room_name: string | null; granted: string; denied: string }[] =
      await this.dataSource.query(
        `SELECT l.room_id, r.name AS room_name, count(*) FILTER (WHERE l.status = 'granted') AS granted,
                count(*) FILTER (WHERE l.status = 'denied') AS denied
           FROM room_access_logs l LEFT JOIN rooms r ON r.id = l.room_id
          WHERE l.event_id = $1 AND l.verified_by_id = $2 AND l.scanned_at >= $3
          GROUP BY l.room_id, r.name ORDER BY r.name NULLS FIRST`,
        [eventId, userId, since],
      );
    const by_room: RoomScanCountDto[] = rows.map((r) => ({
      room: r.room_id,
      room_name: r.room_name,
      granted: Number(r.granted),
      denied: Number(r.denied),
    }));
    const granted = by_room.reduce((n, r) => n + r.granted, 0);
    const denied = by_room.reduce((n, r) => n + r.denied, 0);
    return {
      date: since.toISOString().slice(0, 10),
      scans_today: granted + denied,
      granted_today: granted,
      denied_today: denied,
      by_room,
    };
  }

  /** `GET /api/controller/room-stats/`: the caller's own scans today, by room, and the last ten. */
  async controller(eventId: string, caller: AuthContext): Promise<ControllerStatsDto> {
    const [today, recent] = await Promise.all([
      this.scannerToday(eventId, caller.userId),
      this.dataSource.query(
        `${LOG_SELECT} WHERE l.event_id = $1 AND l.verified_by_id = $2 ORDER BY l.scanned_at DESC, l.id LIMIT 10`,
        [eventId, caller.userId],
      ) as Promise<Record<string, unknown>[]>,
    ]);
    return { ...today, recent: recent.map(toLogDto) };
  }

  /** `GET /api/rooms/{id}/statistics/`. */
  async room(eventId: string, roomId: string): Promise<RoomStatsDto> {
    const room = await this.rooms.getInEvent(eventId, roomId);
    const rows: {
      hour: number;
      status: string;
      direction: string;
      duplicate: boolean;
      reason_code: string;
      n: string;
    }[] = await this.dataSource.query(
      `SELECT extract(hour FROM scanned_at AT TIME ZONE 'UTC')::int AS hour, status, direction, duplicate,
                reason_code, count(*) AS n
           FROM room_access_logs WHERE event_id = $1 AND room_id = $2 AND scanned_at >= $3
          GROUP BY 1, 2, 3, 4, 5`,
      [eventId, room.id, startOfUtcDay()],
    );
    const by_hour = Array.from({ length: 24 }, (_, hour) => ({ hour, entries: 0, exits: 0, denied: 0 }));
    const by_reason: Record<string, number> = {};
    for (const r of rows) {
      const n = Number(r.n);
      const slot = by_hour[r.hour] as (typeof by_hour)[number];
      if (r.status === 'denied') {
        slot.denied += n;
        by_reason[r.reason_code] = (by_reason[r.reason_code] ?? 0) + n;
      } else if (!r.duplicate && r.direction === 'in') slot.entries += n;
      else if (!r.duplicate) slot.exits += n;
    }
    return {
      current_participants: room.currentParticipants,
      capacity: room.capacity,
      entries_today: by_hour.reduce((n, h) => n + h.entries, 0),
      exits_today: by_hour.reduce((n, h) => n + h.exits, 0),
      denied_today: by_hour.reduce((n, h) => n + h.denied, 0),
      by_reason,
      by_hour,
    };
  }

  /** `GET /api/rooms/{id}/participants/`: who is inside now, by name, with their last entry here. */
  async inside(
    eventId: string,
    roomId: string,
    query: RoomPeopleQueryDto,
    request: FastifyRequest,
  ): Promise<Page<RoomPersonDto>> {
    const room = await this.rooms.getInEvent(eventId, roomId);
    const params: unknown[] = [eventId, room.id];
    let search = '';
    if (query.search) {
      params.push(`%${escapeLike(query.search)}%`);
      search = `AND (p.badge_id ILIKE $3 OR (u.first_name || ' ' || u.last_name) ILIKE $3)`;
    }
    const from = `FROM participants p JOIN users u ON u.id = p.user_id
                  WHERE p.event_id = $1 AND p.current_room_id = $2 ${search}`;
    const window = pageWindow(query);
    const [count, rows] = await Promise.all([
      this.dataSource.query(`SELECT count(*) AS n ${from}`, params) as Promise<{ n: string }[]>,
      this.dataSource.query(
        `SELECT p.id, p.badge_id, trim(u.first_name || ' ' || u.last_name) AS full_name, p.checked_in_at,
                (SELECT max(l.scanned_at) FROM room_access_logs l
                  WHERE l.event_id = $1 AND l.participant_id = p.id AND l.room_id = $2 AND l.status = 'granted'
                    AND l.direction = 'in') AS entered_at
           ${from} ORDER BY u.last_name, u.first_name, p.id LIMIT ${window.pageSize} OFFSET ${window.offset}`,
        params,
      ) as Promise<RoomPersonDto[]>,
    ]);
    return toPage(request, window, Number(count[0]?.n ?? 0), rows);
  }
}
