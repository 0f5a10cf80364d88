import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { IfPresent, IsoDateTime, MaxLength } from '../../../common/http/validators';
import { orderingValues, ScopedListQueryDto, SearchParam } from '../../../common/pagination/pagination';
import type { Room } from '../../rooms/entities/room.entity';
import {
  SESSION_STATUSES,
  SESSION_TYPES,
  type EventSession,
  type SessionStatus,
  type SessionType,
} from '../entities/event-session.entity';

/** The largest value of the `integer` column. */
const MAX_CAPACITY = 2_147_483_647;
/** `numeric(12, 2)`: up to 10 digits before the point, 2 after; a string so that money is never a float. */
const PRICE = /^\d{1,10}(\.\d{1,2})?$/;

/** An http(s) URL, or null to clear it. Other schemes (`javascript:`, `data:`, `ftp:`) are refused. */
const HttpUrl = () =>
  applyDecorators(
    IsOptional(),
    IsUrl({ protocols: ['http', 'https'], require_protocol: true }, { message: '$property must be an http(s) URL' }),
    MaxLength(500),
  );

/** Body of `POST /api/sessions/`: room, title and times are required. `status` is not writable here. */
export class CreateSessionDto {
  @ApiProperty({ format: 'uuid', description: 'A room of the event of the token' })
  @IsUUID('all', { message: 'room_id must be a UUID' })
  room_id: string;

  @ApiProperty({ maxLength: 255 })
  @IsString()
  @Matches(/\S/, { message: 'title must not be blank' })
  @MaxLength(255)
  title: string;

  @ApiPropertyOptional()
  @IfPresent()
  @IsString()
  @MaxLength(10000)
  description?: string;

  @ApiProperty({ type: String, format: 'date-time' })
  @IsoDateTime()
  start_time: Date;

  @ApiProperty({ type: String, format: 'date-time', description: 'After start_time' })
  @IsoDateTime()
  end_time: Date;

  @ApiPropertyOptional({ maxLength: 200 })
  @IfPresent()
  @IsString()
  @MaxLength(200)
  speaker_name?: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @IfPresent()
  @IsString()
  @MaxLength(200)
  speaker_title?: string;

  @ApiPropertyOptional()
  @IfPresent()
  @IsString()
  @MaxLength(10000)
  speaker_bio?: string;

  @ApiPropertyOptional({ format: 'uri', nullable: true, type: String })
  @HttpUrl()
  speaker_photo_url?: string | null;

  @ApiPropertyOptional({ format: 'uri', nullable: true, type: String })
  @HttpUrl()
  cover_image_url?: string | null;

  @ApiPropertyOptional({ format: 'uri', nullable: true, type: String })
  @HttpUrl()
  youtube_live_url?: string | null;

  @ApiPropertyOptional({ maxLength: 150 })
  @IfPresent()
  @IsString()
  @MaxLength(150)
  theme?: string;

  @ApiPropertyOptional({ enum: SESSION_TYPES, default: 'conference' })
  @IfPresent()
  @IsIn(SESSION_TYPES)
  session_type?: SessionType;

  @ApiPropertyOptional({ default: false, description: 'Only an atelier can be paid' })
  @IfPresent()
  @IsBoolean()
  is_paid?: boolean;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: '5000.00',
    description: "Decimal string in the event's currency; required when is_paid, null otherwise",
  })
  @IsOptional()
  @IsString({ message: 'price must be a decimal string like "5000.00"' })
  @Matches(PRICE, { message: 'price must be a decimal string >= 0 with at most 2 decimals, like "5000.00"' })
  price?: string | null;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_CAPACITY,
    nullable: true,
    type: Number,
    description: "Seats of an atelier; null = the room's capacity",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CAPACITY)
  capacity?: number | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IfPresent()
  @IsObject()
  metadata?: Record<string, unknown>;
}

/** `PUT /api/sessions/{id}/`: the required fields of creation are required again. */
export class ReplaceSessionDto extends CreateSessionDto {}

/** `PATCH`: any subset; a field that is sent is validated, so `null` only passes where the field is nullable. */
export class UpdateSessionDto extends PartialType(CreateSessionDto, { skipNullProperties: false }) {}

export const SESSION_ORDERING = ['start_time', 'title', 'created_at'] as const;

export class SessionListQueryDto extends ScopedListQueryDto {
  @SearchParam() search?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Sessions of this room' })
  @IsOptional()
  @IsUUID()
  room?: string;

  @ApiPropertyOptional({ enum: SESSION_STATUSES })
  @IsOptional()
  @IsIn(SESSION_STATUSES)
  status?: SessionStatus;

  @ApiPropertyOptional({ enum: SESSION_TYPES })
  @IsOptional()
  @IsIn(SESSION_TYPES)
  session_type?: SessionType;

  @ApiPropertyOptional({ format: 'date', example: '2026-06-20', description: 'Sessions overlapping this UTC day' })
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'date must be YYYY-MM-DD' })
  @IsISO8601({ strict: true }, { message: 'date must be a valid YYYY-MM-DD date' })
  date?: string;

  @ApiPropertyOptional({ enum: orderingValues([...SESSION_ORDERING]) })
  @IsOptional()
  @IsIn(orderingValues([...SESSION_ORDERING]))
  ordering?: string;
}

/** `GET /api/rooms/{id}/sessions/`: always by start time, the room comes from the path. */
export class RoomSessionListQueryDto extends OmitType(SessionListQueryDto, ['room', 'ordering', 'event'] as const) {}

export class SessionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) event: string;
  @ApiProperty({ format: 'uuid' }) room: string;
  @ApiProperty() room_name: string;
  @ApiProperty() title: string;
  @ApiProperty() description: string;
  @ApiProperty() start_time: Date;
  @ApiProperty() end_time: Date;
  @ApiProperty() speaker_name: string;
  @ApiProperty() speaker_title: string;
  @ApiProperty() speaker_bio: string;
  @ApiProperty({ nullable: true, type: String }) speaker_photo_url: string | null;
  @ApiProperty() theme: string;
  @ApiProperty({ enum: SESSION_STATUSES }) status: SessionStatus;
  @ApiProperty({ enum: SESSION_TYPES }) session_type: SessionType;
  @ApiProperty() is_paid: boolean;
  @ApiProperty({ nullable: true, type: String, example: '5000.00' }) price: string | null;
  @ApiProperty({ nullable: true, type: Number }) capacity: number | null;
  @ApiProperty({ nullable: true, type: String }) youtube_live_url: string | null;
  @ApiProperty({ nullable: true, type: String }) cover_image_url: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata: Record<string, unknown>;
  @ApiProperty() is_live: boolean;
  @ApiProperty() duration_minutes: number;
  @ApiProperty() created_at: Date;
  @ApiProperty() updated_at: Date;

  static from(s: EventSession & { room: Room }): SessionDto {
    return {
      id: s.id,
      event: s.eventId,
      room: s.roomId,
      room_name: s.room.name,
      title: s.title,
      description: s.description,
      start_time: s.startTime,
      end_time: s.endTime,
      speaker_name: s.speakerName,
      speaker_title: s.speakerTitle,
      speaker_bio: s.speakerBio,
      speaker_photo_url: s.speakerPhotoUrl,
      theme: s.theme,
      status: s.status,
      session_type: s.sessionType,
      is_paid: s.isPaid,
      price: s.price,
      capacity: s.capacity,
      youtube_live_url: s.youtubeLiveUrl,
      cover_image_url: s.coverImageUrl,
      metadata: s.metadata,
      is_live: s.status === 'live',
      duration_minutes: Math.round((s.endTime.getTime() - s.startTime.getTime()) / 60_000),
      created_at: s.createdAt,
      updated_at: s.updatedAt,
    };
  }
}
