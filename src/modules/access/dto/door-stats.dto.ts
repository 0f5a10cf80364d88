import { ApiProperty } from '@nestjs/swagger';
import { ListQueryDto, SearchParam } from '../../../common/pagination/pagination';
import { AccessLogDto } from './access-log.dto';

export class RoomScanCountDto {
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'null: entrance check-ins' })
  room: string | null;
  @ApiProperty({ nullable: true, type: String }) room_name: string | null;
  @ApiProperty({ type: 'integer' }) granted: number;
  @ApiProperty({ type: 'integer' }) denied: number;
}

/** The caller's own scans since 00:00 UTC. */
export class ControllerStatsDto {
  @ApiProperty({ example: '2026-06-20', description: 'The UTC day counted' }) date: string;
  @ApiProperty({ type: 'integer' }) scans_today: number;
  @ApiProperty({ type: 'integer' }) granted_today: number;
  @ApiProperty({ type: 'integer' }) denied_today: number;
  @ApiProperty({ type: [RoomScanCountDto] }) by_room: RoomScanCountDto[];
  @ApiProperty({ type: [AccessLogDto], description: 'The last ten scans' }) recent: AccessLogDto[];
}

export class HourCountDto {
  @ApiProperty({ type: 'integer', minimum: 0, maximum: 23, description: 'UTC hour' }) hour: number;
  @ApiProperty({ type: 'integer' }) entries: number;
  @ApiProperty({ type: 'integer' }) exits: number;
  @ApiProperty({ type: 'integer' }) denied: number;
}

export class RoomStatsDto {
  @ApiProperty({ type: 'integer' }) current_participants: number;
  @ApiProperty({ type: 'integer' }) capacity: number;
  @ApiProperty({ type: 'integer', description: 'Granted entries since 00:00 UTC (repeats not counted)' })
  entries_today: number;
  @ApiProperty({ type: 'integer' }) exits_today: number;
  @ApiProperty({ type: 'integer' }) denied_today: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, description: 'Denials today by reason' })
  by_reason: Record<string, number>;
  @ApiProperty({ type: [HourCountDto] }) by_hour: HourCountDto[];
}

export class RoomPersonDto {
  @ApiProperty({ format: 'uuid', description: 'The badge (participant) id' }) id: string;
  @ApiProperty() badge_id: string;
  @ApiProperty() full_name: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) checked_in_at: Date | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Last granted entry here' })
  entered_at: Date | null;
}

export class RoomPeopleQueryDto extends ListQueryDto {
  @SearchParam() search?: string;
}
