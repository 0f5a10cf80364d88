import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsOptional, IsUUID } from 'class-validator';
import { EVENT_ROLES, type EventRole } from '../../../common/auth/event-role';
import { IfPresent, QueryBoolean } from '../../../common/http/validators';
import { orderingValues, ScopedListQueryDto, SearchParam } from '../../../common/pagination/pagination';
import { UserReferenceDto } from '../../assignments/dto/assignment.dto';

export const MAX_ALLOWED_ROOMS = 500;

const AllowedRooms = () =>
  applyDecorators(
    ApiPropertyOptional({
      type: [String],
      format: 'uuid',
      maxItems: MAX_ALLOWED_ROOMS,
      description: 'Rooms of the event this badge may enter; empty = every room',
    }),
    IfPresent(),
    IsArray(),
    ArrayMaxSize(MAX_ALLOWED_ROOMS),
    // UUIDs are compared case-insensitively: the same room in two casings would be stored twice.
    ArrayUnique((id: unknown) => (typeof id === 'string' ? id.toLowerCase() : id), {
      message: 'allowed_rooms must not name a room twice',
    }),
    IsUUID('all', { each: true, message: 'allowed_rooms must contain room UUIDs' }),
  );

/** `POST /api/participants/`: a user (by id or email) gets a badge, and the role when they have none in the event. */
export class CreateParticipantDto extends UserReferenceDto {
  @ApiPropertyOptional({
    enum: EVENT_ROLES,
    default: 'participant',
    description: 'Role given when the user has none in the event yet; must match an existing role otherwise',
  })
  @IfPresent()
  @IsIn(EVENT_ROLES)
  role?: EventRole;

  @AllowedRooms()
  allowed_rooms?: string[];
}

/** `PATCH` (and `PUT`) of a badge: which rooms it opens, and the holder's role. Never `is_checked_in`. */
export class UpdateParticipantDto {
  @ApiPropertyOptional({ enum: EVENT_ROLES, description: "Changes the holder's role in the event" })
  @IfPresent()
  @IsIn(EVENT_ROLES)
  role?: EventRole;

  @AllowedRooms()
  allowed_rooms?: string[];
}

/** `PATCH /api/participants/me/`: what the holder of a badge decides for themselves. */
export class UpdateOwnBadgeDto {
  @ApiPropertyOptional({ description: 'Let exhibitors who scan this badge see your email' })
  @IfPresent()
  @IsBoolean()
  share_contact_with_exhibitors?: boolean;
}

export const PARTICIPANT_ORDERING = ['badge_id', 'created_at', 'checked_in_at', 'last_name', 'email'] as const;

export class ParticipantListQueryDto extends ScopedListQueryDto {
  @SearchParam() search?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  is_checked_in?: boolean;

  @ApiPropertyOptional({ enum: EVENT_ROLES })
  @IsOptional()
  @IsIn(EVENT_ROLES)
  role?: EventRole;

  @ApiPropertyOptional({ enum: orderingValues([...PARTICIPANT_ORDERING]), default: 'created_at' })
  @IsOptional()
  @IsIn(orderingValues([...PARTICIPANT_ORDERING]))
  ordering?: string;
}

export class ParticipantDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) user: string;
  @ApiProperty() user_name: string;
  @ApiProperty({ nullable: true, type: String, description: 'null for a Discord-only account' }) user_email:
    string | null;
  @ApiProperty({ format: 'uuid' }) event: string;
  @ApiProperty({ example: 'K7QX-3MPA', description: 'Human-readable, unique in the event' }) badge_id: string;
  @ApiProperty() is_checked_in: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) checked_in_at: Date | null;
  @ApiProperty({ type: [String], format: 'uuid', description: 'Empty = every room' }) allowed_rooms: string[];
  @ApiProperty({ type: String, nullable: true, description: 'URL of the exhibitor plan (PDF)' })
  plan_file: string | null;
  @ApiProperty({ enum: EVENT_ROLES }) role: EventRole;
  @ApiProperty({ description: 'The holder lets exhibitors who scan the badge see their email (set by the holder)' })
  share_contact_with_exhibitors: boolean;
  @ApiProperty() created_at: Date;
  @ApiProperty() updated_at: Date;
  @ApiPropertyOptional({
    description: 'The QR text: only for the badge owner and organisateurs, never in lists. Treat as a secret.',
  })
  qr_code_data?: string;
}

export class ImportErrorDto {
  @ApiProperty({ type: 'integer', description: 'Line of the file, the header being line 1' }) line: number;
  @ApiProperty() detail: string;
}

export class ImportResultDto {
  @ApiProperty({ type: 'integer', description: 'People added to the event (with a badge)' }) created: number;
  @ApiProperty({ type: 'integer', description: 'People already in the event (role or names brought up to date)' })
  updated: number;
  @ApiProperty({ type: [ImportErrorDto] }) errors: ImportErrorDto[];
}

export class GenerateQrDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'participant_id must be a UUID' })
  participant_id: string;
}

export class GeneratedQrDto {
  @ApiProperty({ format: 'uuid' }) participant_id: string;
  @ApiProperty() qr_code_data: string;
  @ApiProperty({ description: 'data:image/png;base64,... of the QR' }) png_data_url: string;
}
