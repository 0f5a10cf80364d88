import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsLatitude, IsLongitude, IsOptional, IsString, Length } from 'class-validator';
import { ATTENDANCE_METHODS, type AttendanceMethod } from '../entities/attendance.entity';

/** `POST /api/sessions/{id}/attend/`. */
export class AttendSessionDto {
  @ApiPropertyOptional({ description: 'The code shown in the room, when staff opened code attendance' })
  @IsOptional()
  @IsString()
  @Length(1, 32)
  code?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsLatitude()
  latitude?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsLongitude()
  longitude?: number;
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
