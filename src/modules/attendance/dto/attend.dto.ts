import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsLatitude,
  IsNumber,
  IsLongitude,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  Min,
} from 'class-validator';
import { Length, MaxLength, QueryBoolean } from '../../../common/http/validators';
import { ListQueryDto } from '../../../common/pagination/pagination';
import { ATTENDANCE_METHODS, type AttendanceMethod } from '../entities/attendance.entity';

/** `POST /api/events/{id}/attend/`: where the participant is, needed when the event has an attendance radius. */
export class AttendEventDto {
  @ApiPropertyOptional({ description: 'WGS 84 degrees; required with longitude when the event has a radius' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsLatitude()
  latitude?: number;

  @ApiPropertyOptional({ description: 'WGS 84 degrees' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsLongitude()
  longitude?: number;
}

/** `POST /api/sessions/{id}/attend/`. */
export class AttendSessionDto extends AttendEventDto {
  @ApiPropertyOptional({ description: 'The code shown in the room, when staff opened code attendance' })
  @IsOptional()
  @IsString()
  @Length(1, 32)
  code?: string;
}

export class AttendanceRecordDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', nullable: true }) session_id: string | null;
  @ApiProperty({ format: 'uuid' }) participant_id: string;
  @ApiProperty({ enum: ATTENDANCE_METHODS }) method: AttendanceMethod;
  @ApiProperty({ type: String, format: 'date-time' }) attended_at: string;
}

export class CheckAttendanceDto {
  @ApiProperty() attended: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) attended_at: string | null;
  @ApiProperty({ enum: ATTENDANCE_METHODS, nullable: true }) method: AttendanceMethod | null;
}

/** `POST /api/events/{id}/attendees/`: staff mark someone present. */
export class ManualAttendanceDto {
  @ApiProperty({ format: 'uuid', description: 'A badge of the event' })
  @IsUUID('all')
  participant_id: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'A session of the event; absent: the event itself' })
  @IsOptional()
  @IsUUID('all')
  session_id?: string;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  note?: string;
}

/** `DELETE /api/events/{id}/attendees/{attendance_id}/`: the reason goes to the audit log. */
export class RemoveAttendanceDto {
  @ApiProperty({ minLength: 1, maxLength: 500 })
  @IsString()
  @Length(1, 500)
  reason: string;
}

export class AttendeesQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ enum: ATTENDANCE_METHODS })
  @IsOptional()
  @IsIn(ATTENDANCE_METHODS)
  method?: AttendanceMethod;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only this session (the event-level records have none)' })
  @IsOptional()
  @IsUUID('all')
  session?: string;
}

export class AttendeeDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) participant: string;
  @ApiProperty() participant_name: string;
  @ApiProperty({ format: 'uuid', nullable: true }) session: string | null;
  @ApiProperty({ enum: ATTENDANCE_METHODS }) method: AttendanceMethod;
  @ApiProperty({ format: 'uuid', nullable: true }) marked_by: string | null;
  @ApiProperty({ nullable: true }) marked_by_name: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) attended_at: string;
  @ApiProperty({ type: Number, nullable: true }) latitude: number | null;
  @ApiProperty({ type: Number, nullable: true }) longitude: number | null;
  @ApiProperty({ nullable: true }) note: string | null;
}

export class AttendanceCsvQueryDto {
  @ApiPropertyOptional({ enum: ATTENDANCE_METHODS })
  @IsOptional()
  @IsIn(ATTENDANCE_METHODS)
  method?: AttendanceMethod;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('all')
  session?: string;

  @ApiPropertyOptional({ description: 'Start with a UTF-8 byte order mark, for Excel', default: false })
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  bom?: boolean;
}

export class OpenCodeDto {
  @ApiPropertyOptional({ minimum: 30, maximum: 60, default: 45, description: 'Seconds between two codes' })
  @IsOptional()
  @IsInt()
  @Min(30)
  @Max(60)
  rotates_every?: number;
}

export class CurrentCodeDto {
  @ApiProperty({ example: 'K7QM2X' }) code: string;
  @ApiProperty({ type: String, format: 'date-time', description: 'When this code stops being the current one' })
  valid_until: string;
  @ApiProperty() rotates_every: number;
}
