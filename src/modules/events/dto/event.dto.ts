import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO4217CurrencyCode,
  IsLatitude,
  IsNumber,
  IsLongitude,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { EVENT_ROLES, type EventRole } from '../../../common/auth/event-role';
import { IfPresent, IsoDateTime, MaxLength } from '../../../common/http/validators';
import { ListQueryDto, orderingValues, SearchParam } from '../../../common/pagination/pagination';

const STATUSES = ['upcoming', 'active', 'completed', 'cancelled'] as const;
/** The largest value of the `integer` column: above it the database would refuse the row. */
const MAX_CAPACITY = 2_147_483_647;
/** A radius beyond 100 km is no area check at all. */
const MAX_RADIUS = 100_000;

/** Body of `POST /api/events/`: name and dates are required. */
export class CreateEventDto {
  @ApiProperty({ maxLength: 200 })
  @IsString()
  @Matches(/\S/, { message: 'name must not be blank' })
  @MaxLength(200)
  name: string;

  @ApiPropertyOptional()
  @IfPresent()
  @IsString()
  @MaxLength(10000)
  description?: string;

  @ApiProperty({ type: String, format: 'date-time' })
  @IsoDateTime()
  start_date: Date;

  @ApiProperty({ type: String, format: 'date-time' })
  @IsoDateTime()
  end_date: Date;

  @ApiPropertyOptional({ maxLength: 255 })
  @IfPresent()
  @IsString()
  @MaxLength(255)
  location?: string;

  @ApiPropertyOptional()
  @IfPresent()
  @IsString()
  @MaxLength(5000)
  location_details?: string;

  @ApiPropertyOptional({ maxLength: 255 })
  @IfPresent()
  @IsString()
  @MaxLength(255)
  organizer_contact?: string;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    description: 'WGS 84 degrees; with longitude',
    example: 36.7538,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsLatitude()
  latitude?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'WGS 84 degrees; with latitude', example: 3.0588 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsLongitude()
  longitude?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: MAX_RADIUS,
    description:
      'Metres around latitude/longitude within which participants may mark themselves present (null: anywhere). ' +
      'Self and code attendance then need the location and answer 409 OUT_OF_AREA outside it.',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_RADIUS)
  attendance_radius?: number | null;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_CAPACITY, nullable: true, type: Number })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CAPACITY)
  capacity?: number | null;

  @ApiPropertyOptional()
  @IfPresent()
  @IsBoolean()
  registration_open?: boolean;

  @ApiPropertyOptional({ example: 'DZD' })
  @IfPresent()
  @IsISO4217CurrencyCode()
  currency?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { qa_moderation: false } })
  @IfPresent()
  @IsObject()
  settings?: Record<string, unknown>;

  @ApiPropertyOptional({ type: [String] })
  @IfPresent()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  themes?: string[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IfPresent()
  @IsObject()
  metadata?: Record<string, unknown>;
}

/** `PUT /api/events/{id}/`: the whole event, so the required fields of creation are required again. */
export class ReplaceEventDto extends CreateEventDto {
  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String, description: 'A user of this event, or null' })
  @IsOptional()
  @IsUUID('all', { message: 'president must be a user id or null' })
  president?: string | null;

  @ApiPropertyOptional({ description: 'Cancel (true) or reinstate (false) the event' })
  @IfPresent()
  @IsBoolean()
  is_cancelled?: boolean;
}

/** `PATCH`: any subset; a field that is sent is validated, so `null` only passes where the field is nullable. */
export class UpdateEventDto extends PartialType(ReplaceEventDto, { skipNullProperties: false }) {}

export const EVENT_ORDERING = ['start_date', 'end_date', 'name', 'created_at'] as const;

export class EventListQueryDto extends ListQueryDto {
  @SearchParam() search?: string;

  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: (typeof STATUSES)[number];

  @ApiPropertyOptional({ enum: orderingValues([...EVENT_ORDERING]) })
  @IsOptional()
  @IsIn(orderingValues([...EVENT_ORDERING]))
  ordering?: string;
}

export class EventDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty() start_date: Date;
  @ApiProperty() end_date: Date;
  @ApiProperty() location: string;
  @ApiProperty() location_details: string;
  @ApiProperty({ nullable: true, type: Number }) latitude: number | null;
  @ApiProperty({ nullable: true, type: Number }) longitude: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Metres; null: self attendance from anywhere' })
  attendance_radius: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'Download URL, e.g. /api/events/{id}/files/logo/' })
  logo_url: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Download URL, e.g. /api/events/{id}/files/banner/' })
  banner_url: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Download URL, e.g. /api/events/{id}/files/programme/' })
  programme_file: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Download URL, e.g. /api/events/{id}/files/guide/' })
  guide_file: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) president: string | null;
  @ApiProperty({ enum: STATUSES }) status: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) settings: Record<string, unknown>;
  @ApiProperty({ type: [String] }) themes: string[];
  @ApiProperty({ nullable: true, type: Number }) capacity: number | null;
  @ApiProperty() registration_open: boolean;
  @ApiProperty() currency: string;
  @ApiProperty() total_participants: number;
  @ApiProperty() total_exhibitors: number;
  @ApiProperty() total_rooms: number;
  @ApiProperty() organizer_contact: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata: Record<string, unknown>;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) created_by: string | null;
  @ApiProperty() created_at: Date;
  @ApiProperty() updated_at: Date;
}

export class EventWithRoleDto extends EventDto {
  @ApiProperty({ enum: EVENT_ROLES }) role: EventRole;
}

export class EventStatusDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['upcoming', 'active', 'ended', 'cancelled'] }) status: string;
  @ApiProperty() start_date: Date;
  @ApiProperty() end_date: Date;
  @ApiProperty() can_attend: boolean;
  @ApiProperty({ nullable: true, type: Number, description: 'seconds; null once started' }) time_until_start:
    number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'seconds; null once ended' }) time_until_end: number | null;
}
