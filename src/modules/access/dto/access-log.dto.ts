import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Matches, MinLength } from 'class-validator';
import { IfPresent, IsoDateTime, MaxLength } from '../../../common/http/validators';
import { orderingValues, ScopedListQueryDto, SearchParam } from '../../../common/pagination/pagination';
import {
  ACCESS_DIRECTIONS,
  ACCESS_SOURCES,
  ACCESS_STATUSES,
  type AccessDirection,
  type AccessSource,
  type AccessStatus,
} from '../entities/room-access-log.entity';
import { CONFLICT_KINDS, type ConflictKind } from '../entities/access-conflict.entity';

export const ACCESS_LOG_ORDERING = ['scanned_at', 'received_at'] as const;

export class AccessLogQueryDto extends ScopedListQueryDto {
  @SearchParam() search?: string;

  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() room?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() participant?: string;
  @ApiPropertyOptional({ enum: ACCESS_STATUSES }) @IsOptional() @IsIn(ACCESS_STATUSES) status?: AccessStatus;
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(/^[A-Z_]{1,32}$/) reason_code?: string;
  @ApiPropertyOptional({ enum: ACCESS_DIRECTIONS }) @IsOptional() @IsIn(ACCESS_DIRECTIONS) direction?: AccessDirection;
  @ApiPropertyOptional({ enum: ACCESS_SOURCES }) @IsOptional() @IsIn(ACCESS_SOURCES) source?: AccessSource;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'scanned_at from (inclusive)' })
  @IsOptional()
  @IsoDateTime()
  from?: Date;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'scanned_at before (exclusive)' })
  @IsOptional()
  @IsoDateTime()
  to?: Date;

  @ApiPropertyOptional({ enum: orderingValues([...ACCESS_LOG_ORDERING]), default: '-scanned_at' })
  @IsOptional()
  @IsIn(orderingValues([...ACCESS_LOG_ORDERING]))
  ordering?: string;
}

export class ConflictQueryDto extends ScopedListQueryDto {
  @ApiPropertyOptional({ enum: CONFLICT_KINDS }) @IsOptional() @IsIn(CONFLICT_KINDS) kind?: ConflictKind;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() room?: string;
}

/** `POST /api/room-access/`: a decision taken by staff, with the reason written down. */
export class ManualAccessDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'participant_id must be a UUID' })
  participant_id: string;

  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'room_id must be a UUID' })
  room_id: string;

  @ApiPropertyOptional({ enum: ACCESS_DIRECTIONS, default: 'in' })
  @IfPresent()
  @IsIn(ACCESS_DIRECTIONS)
  direction?: AccessDirection;

  @ApiProperty({
    enum: ACCESS_STATUSES,
    description: 'granted lets the person in whatever the allowed rooms and payment (never over capacity)',
  })
  @IsIn(ACCESS_STATUSES)
  status: AccessStatus;

  @ApiProperty({ minLength: 3, maxLength: 500, description: 'Why: required' })
  @IsString()
  @MinLength(3)
  @MaxLength(500)
  @Matches(/\S/, { message: 'denial_reason must not be blank' })
  denial_reason: string;
}

export class AccessLogDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) participant: string | null;
  @ApiProperty({ nullable: true, type: String }) participant_name: string | null;
  @ApiProperty({ nullable: true, type: String }) badge_id: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) room: string | null;
  @ApiProperty({ nullable: true, type: String }) room_name: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) session: string | null;
  @ApiProperty({ nullable: true, type: String }) session_title: string | null;
  @ApiProperty({ enum: ACCESS_DIRECTIONS }) direction: AccessDirection;
  @ApiProperty({ enum: ACCESS_STATUSES }) status: AccessStatus;
  @ApiProperty() reason_code: string;
  @ApiProperty({ description: 'The message shown, or the note of a manual decision' }) denial_reason: string;
  @ApiProperty() duplicate: boolean;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) verified_by: string | null;
  @ApiProperty({ nullable: true, type: String }) verified_by_name: string | null;
  @ApiProperty({ nullable: true, type: String }) device_id: string | null;
  @ApiProperty({ nullable: true, type: String }) nonce: string | null;
  @ApiProperty() scanned_at: Date;
  @ApiProperty({ nullable: true, type: Date, description: 'The time the device reported' })
  device_scanned_at: Date | null;
  @ApiProperty({ description: 'The device time was absurd and replaced by the upload time' })
  device_time_adjusted: boolean;
  @ApiProperty() received_at: Date;
  @ApiProperty({ enum: ACCESS_SOURCES }) source: AccessSource;
  @ApiProperty({ enum: ACCESS_STATUSES, nullable: true, type: String }) local_decision: AccessStatus | null;
  @ApiProperty({ description: 'Flagged by offline sync (see conflicts/)' }) conflict: boolean;
}

export class ConflictDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: CONFLICT_KINDS }) kind: ConflictKind;
  @ApiProperty() detected_at: Date;
  @ApiProperty({ type: AccessLogDto, description: 'The flagged scan' }) access: AccessLogDto;
  @ApiProperty({ type: AccessLogDto, nullable: true, description: 'The canonical scan it conflicts with' })
  other_access: AccessLogDto | null;
}
