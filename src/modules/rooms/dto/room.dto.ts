import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { IfPresent, MaxLength, QueryBoolean } from '../../../common/http/validators';
import { orderingValues, ScopedListQueryDto, SearchParam } from '../../../common/pagination/pagination';
import type { Room } from '../entities/room.entity';

export const MAX_ROOM_CAPACITY = 100_000;

/** Query strings carry text: `is_active=true|false` becomes a boolean, anything else stays and fails `IsBoolean`. */
/** Surrounding spaces would make "Salle A " a second room next to "Salle A". */
const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** `POST /api/rooms/` and `PUT /api/rooms/{id}/`: name and capacity required; occupancy is never written by clients. */
export class CreateRoomDto {
  @ApiProperty({ minLength: 1, maxLength: 150, description: 'Unique in the event' })
  @Transform(trimmed, { toClassOnly: true })
  @IsString()
  @Matches(/\S/, { message: 'name must not be blank' })
  @MaxLength(150)
  name: string;

  @ApiPropertyOptional({ maxLength: 5000 })
  @IfPresent()
  @IsString()
  @MaxLength(5000)
  description?: string;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_ROOM_CAPACITY })
  @IsInt()
  @Min(1)
  @Max(MAX_ROOM_CAPACITY)
  capacity: number;

  @ApiPropertyOptional({ maxLength: 255 })
  @IfPresent()
  @IsString()
  @MaxLength(255)
  location?: string;

  @ApiPropertyOptional({ default: true })
  @IfPresent()
  @IsBoolean()
  is_active?: boolean;
}

/** `PATCH`: any subset; a field that is sent is validated, so `null` is a 400 rather than silently ignored. */
export class UpdateRoomDto extends PartialType(CreateRoomDto, { skipNullProperties: false }) {}

export const ROOM_ORDERING = ['name', 'capacity', 'created_at'] as const;

export class RoomListQueryDto extends ScopedListQueryDto {
  @SearchParam() search?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  is_active?: boolean;

  @ApiPropertyOptional({ enum: orderingValues([...ROOM_ORDERING]), default: 'name' })
  @IsOptional()
  @IsIn(orderingValues([...ROOM_ORDERING]))
  ordering?: string;
}

export class RoomDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) event: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: 'integer' }) capacity: number;
  @ApiProperty() location: string;
  @ApiProperty({ type: 'integer', description: 'People inside now; changed only by door decisions' })
  current_participants: number;
  @ApiProperty({ minimum: 0, maximum: 100, example: 42.5, description: 'Percent of capacity, one decimal' })
  occupancy_percentage: number;
  @ApiProperty() is_active: boolean;
  @ApiProperty() created_at: Date;
  @ApiProperty() updated_at: Date;

  static from(r: Room): RoomDto {
    return {
      id: r.id,
      event: r.eventId,
      name: r.name,
      description: r.description,
      capacity: r.capacity,
      location: r.location,
      current_participants: r.currentParticipants,
      occupancy_percentage: occupancyPercentage(r.currentParticipants, r.capacity),
      is_active: r.isActive,
      created_at: r.createdAt,
      updated_at: r.updatedAt,
    };
  }
}

/** 0..100 with one decimal; integer arithmetic first so that 1/3 gives 33.3, not 33.300000000000004. */
export function occupancyPercentage(current: number, capacity: number): number {
  return capacity > 0 ? Math.round((current * 1000) / capacity) / 10 : 0;
}
