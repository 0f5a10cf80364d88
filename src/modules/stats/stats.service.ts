import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context';
import { assertTokenEvent } from '../../common/auth/event-scope';
import { notFound } from '../../common/errors/app.exception';
import { DoorStatsService } from '../access/door-stats.service';
import { eventStatus } from '../events/entities/event.entity';
import { occupancyPercentage } from '../rooms/dto/room.dto';
import type {
  DashboardBadgeDto,
  DashboardDto,
  DashboardRoomDto,
  DashboardScansDto,
  DashboardSessionDto,
  EventStatisticsDto,
} from './dto/stats.dto';

/**
 * Read-only aggregates over the tables of several modules. Counting through each module's service would cost a round
 * trip per figure; these are single SQL statements over the event's indexes (every table is keyed by event_id first).
 */
@Injectable()
export class StatsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly door: DoorStatsService,
  ) {}

  /** `GET /api/events/{id}/statistics/`: the path must name the token's event (any other is 404). */
  async eventStatistics(id: string, eventId: string): Promise<EventStatisticsDto> {
    assertTokenEvent(id, eventId);
    return this.statistics(eventId);
  }

  async dashboard(eventId: string, caller: AuthContext): Promise<DashboardDto> {
    const rows: { id: string; name: string; start_date: Date; end_date: Date; is_cancelled: boolean }[] =
      await this.dataSource.query('SELECT id, name, start_date, end_date, is_cancelled FROM events WHERE id = $1', [
        eventId,
      ]);
    const e = rows[0];
    if (!e) throw notFound('Event');
    const role = caller.role as NonNullable<AuthContext['role']>;
    const dto: DashboardDto = {
      role,
      event: {
        id: e.id,
        name: e.name,
        status: eventStatus({ startDate: e.start_date, endDate: e.end_date, isCancelled: e.is_cancelled }),
        start_date: e.start_date,
        end_date: e.end_date,
      },
    };
    switch (role) {
      case 'organisateur':
      case 'gestionnaire_des_salles':
        [dto.statistics, dto.rooms] = await Promise.all([this.statistics(eventId), this.rooms(eventId)]);
        break;
      case 'controlleur_des_badges':
        [dto.rooms, dto.my_scans] = await Promise.all([this.rooms(eventId), this.myScans(eventId, caller)]);
        break;
      case 'participant':
        [dto.badge, dto.my_ateliers, dto.upcoming_sessions] = await Promise.all([
          this.badge(eventId, caller.userId),
          this.ateliers(eventId, caller.userId),
          this.upcomingSessions(eventId),
        ]);
        break;
      case 'exposant':
        [dto.badge, dto.upcoming_sessions] = await Promise.all([
          this.badge(eventId, caller.userId),
          this.upcomingSessions(eventId),
        ]);
        break;
    }
    return dto;
  }

  private async statistics(eventId: string): Promise<EventStatisticsDto> {
    const rows: Record<keyof EventStatisticsDto, string>[] = await this.dataSource.query(
      `SELECT (SELECT count(*) FROM rooms WHERE event_id = $1) AS total_rooms,
              (SELECT count(*) FROM sessions WHERE event_id = $1) AS total_sessions,
              (SELECT count(*) FROM user_event_assignments
                WHERE event_id = $1 AND is_active AND role = 'participant') AS total_participants,
              (SELECT count(*) FROM participants WHERE event_id = $1 AND is_checked_in) AS checked_in_count,
              (SELECT count(*) FROM sessions WHERE event_id = $1 AND status = 'live') AS live_sessions,
              (SELECT count(*) FROM sessions WHERE event_id = $1 AND status = 'completed') AS completed_sessions,
              (SELECT coalesce(sum(current_participants), 0) FROM rooms WHERE event_id = $1) AS current_occupancy`,
      [eventId],
    );
    const r = rows[0] as Record<string, string>;
    const door = await this.door.eventToday(eventId);
    return {
      total_rooms: Number(r.total_rooms),
      total_sessions: Number(r.total_sessions),
      total_participants: Number(r.total_participants),
      checked_in_count: Number(r.checked_in_count),
      live_sessions: Number(r.live_sessions),
      completed_sessions: Number(r.completed_sessions),
      current_occupancy: Number(r.current_occupancy),
      scans_today: door.scans_today,
      denied_today: door.denied_today,
    };
  }

  private async myScans(eventId: string, caller: AuthContext): Promise<DashboardScansDto> {
    const mine = await this.door.scannerToday(eventId, caller.userId);
    return { scans_today: mine.scans_today, granted_today: mine.granted_today, denied_today: mine.denied_today };
  }

  private async rooms(eventId: string): Promise<DashboardRoomDto[]> {
    const rows: { id: string; name: string; current_participants: number; capacity: number; is_active: boolean }[] =
      await this.dataSource.query(
        `SELECT id, name, current_participants, capacity, is_active FROM rooms WHERE event_id = $1 ORDER BY name, id`,
        [eventId],
      );
    return rows.map((r) => ({ ...r, occupancy_percentage: occupancyPercentage(r.current_participants, r.capacity) }));
  }

  private async badge(eventId: string, userId: string): Promise<DashboardBadgeDto | null> {
    const rows: DashboardBadgeDto[] = await this.dataSource.query(
      `SELECT id, badge_id, is_checked_in, checked_in_at FROM participants WHERE event_id = $1 AND user_id = $2`,
      [eventId, userId],
    );
    return rows[0] ?? null;
  }

  private async ateliers(eventId: string, userId: string): Promise<number> {
    const rows: { n: string }[] = await this.dataSource.query(
      `SELECT count(*) AS n FROM session_access sa JOIN participants p ON p.id = sa.participant_id
        WHERE sa.event_id = $1 AND p.user_id = $2 AND sa.payment_status IN ('paid', 'free')`,
      [eventId, userId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  private upcomingSessions(eventId: string): Promise<DashboardSessionDto[]> {
    return this.dataSource.query(
      `SELECT s.id, s.title, s.start_time, s.end_time, r.name AS room_name, s.status
         FROM sessions s JOIN rooms r ON r.id = s.room_id
        WHERE s.event_id = $1 AND s.end_time > now() AND s.status IN ('scheduled', 'live')
        ORDER BY s.start_time, s.id LIMIT 3`,
      [eventId],
    );
  }
}
