import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EVENT_ROLES, type EventRole } from '../../../common/auth/event-role';

export class EventStatisticsDto {
  @ApiProperty({ type: 'integer' }) total_rooms: number;
  @ApiProperty({ type: 'integer' }) total_sessions: number;
  @ApiProperty({ type: 'integer', description: 'Active members with the participant role' }) total_participants: number;
  @ApiProperty({ type: 'integer', description: 'Badges checked in at the event' }) checked_in_count: number;
  @ApiProperty({ type: 'integer' }) live_sessions: number;
  @ApiProperty({ type: 'integer' }) completed_sessions: number;
  @ApiProperty({ type: 'integer', description: 'People inside rooms now (sum of room occupancy)' })
  current_occupancy: number;
  @ApiProperty({ type: 'integer', description: 'Door scans since 00:00 UTC' }) scans_today: number;
  @ApiProperty({ type: 'integer', description: 'Denied door scans since 00:00 UTC' }) denied_today: number;
}

export class DashboardEventDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['upcoming', 'active', 'completed', 'cancelled'] }) status: string;
  @ApiProperty() start_date: Date;
  @ApiProperty() end_date: Date;
}

export class DashboardRoomDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: 'integer' }) current_participants: number;
  @ApiProperty({ type: 'integer' }) capacity: number;
  @ApiProperty() occupancy_percentage: number;
  @ApiProperty() is_active: boolean;
}

export class DashboardBadgeDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() badge_id: string;
  @ApiProperty() is_checked_in: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) checked_in_at: Date | null;
}

export class DashboardSessionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() title: string;
  @ApiProperty() start_time: Date;
  @ApiProperty() end_time: Date;
  @ApiProperty() room_name: string;
  @ApiProperty() status: string;
}

export class DashboardScansDto {
  @ApiProperty({ type: 'integer' }) scans_today: number;
  @ApiProperty({ type: 'integer' }) granted_today: number;
  @ApiProperty({ type: 'integer' }) denied_today: number;
}

/** What the caller's role needs on its home screen; sections that do not concern the role are absent. */
export class DashboardDto {
  @ApiProperty({ enum: EVENT_ROLES }) role: EventRole;
  @ApiProperty({ type: DashboardEventDto }) event: DashboardEventDto;
  @ApiPropertyOptional({ type: EventStatisticsDto, description: 'organisateur, gestionnaire_des_salles' })
  statistics?: EventStatisticsDto;
  @ApiPropertyOptional({ type: [DashboardRoomDto], description: 'staff roles: live occupancy of every room' })
  rooms?: DashboardRoomDto[];
  @ApiPropertyOptional({ type: DashboardScansDto, description: "controlleur_des_badges: the caller's own scans" })
  my_scans?: DashboardScansDto;
  @ApiPropertyOptional({ type: DashboardBadgeDto, nullable: true, description: 'participant, exposant' })
  badge?: DashboardBadgeDto | null;
  @ApiPropertyOptional({ type: 'integer', description: 'participant: ateliers the caller may enter' })
  my_ateliers?: number;
  @ApiPropertyOptional({ type: [DashboardSessionDto], description: 'participant, exposant: the next three sessions' })
  upcoming_sessions?: DashboardSessionDto[];
}
