import { ApiProperty, ApiPropertyOptional, PartialType, PickType } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsUUID } from 'class-validator';
import { IfPresent, IsoDateTime, QueryBoolean } from '../../../common/http/validators';
import { ListQueryDto, orderingValues, ScopedListQueryDto, SearchParam } from '../../../common/pagination/pagination';
import type { Room } from '../../rooms/entities/room.entity';
import type { User } from '../../users/entities/user.entity';
import { fullName } from '../../users/users.service';
import { ROOM_STAFF_ROLES, type RoomAssignment, type RoomStaffRole } from '../entities/room-assignment.entity';

/** Body of `POST /api/room-assignments/` (and `PUT`): a staff member of the event, a room of the event, a slot. */
export class CreateRoomAssignmentDto {
  @ApiProperty({ format: 'uuid', description: 'A user whose active role in the event is `role`' })
  @IsUUID('all', { message: 'user_id must be a UUID' })
  user_id: string;

  @ApiProperty({ format: 'uuid', description: 'A room of the event of the token' })
  @IsUUID('all', { message: 'room_id must be a UUID' })
  room_id: string;

  @ApiProperty({ enum: ROOM_STAFF_ROLES, description: "Must equal the user's role in the event" })
  @IsIn(ROOM_STAFF_ROLES)
  role: RoomStaffRole;

  @ApiProperty({ type: String, format: 'date-time' })
  @IsoDateTime()
  start_time: Date;

  @ApiProperty({ type: String, format: 'date-time', description: 'After start_time' })
  @IsoDateTime()
  end_time: Date;

  @ApiPropertyOptional({ default: true })
  @IfPresent()
  @IsBoolean()
  is_active?: boolean;
}

/** `PUT`: the required fields of creation are required again. */
export class ReplaceRoomAssignmentDto extends CreateRoomAssignmentDto {}

/** `PATCH`: any subset; a field that is sent is validated, so `null` is a 400 rather than silently ignored. */
export class UpdateRoomAssignmentDto extends PartialType(CreateRoomAssignmentDto, { skipNullProperties: false }) {}

export const ROOM_ASSIGNMENT_ORDERING = ['start_time', 'created_at'] as const;

export class RoomAssignmentListQueryDto extends ScopedListQueryDto {
  @SearchParam() search?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  room?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  user?: string;

  @ApiPropertyOptional({ enum: ROOM_STAFF_ROLES })
  @IsOptional()
  @IsIn(ROOM_STAFF_ROLES)
  role?: RoomStaffRole;

  @ApiPropertyOptional()
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  is_active?: boolean;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Shifts covering this instant' })
  @IsOptional()
  @IsoDateTime()
  active_at?: Date;

  @ApiPropertyOptional({ enum: orderingValues([...ROOM_ASSIGNMENT_ORDERING]) })
  @IsOptional()
  @IsIn(orderingValues([...ROOM_ASSIGNMENT_ORDERING]))
  ordering?: string;
}

/** `GET /api/room-assignments/mine/`: pagination only (no search or ordering: always by start time). */
export class MyRoomAssignmentsQueryDto extends PickType(ListQueryDto, ['page', 'page_size'] as const) {}

export type RoomAssignmentWithNames = RoomAssignment & { user: User; room: Room };

export class RoomAssignmentDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) user: string;
  @ApiProperty() user_name: string;
  @ApiProperty({ format: 'uuid' }) room: string;
  @ApiProperty() room_name: string;
  @ApiProperty({ enum: ROOM_STAFF_ROLES }) role: RoomStaffRole;
  @ApiProperty() start_time: Date;
  @ApiProperty() end_time: Date;
  @ApiProperty() is_active: boolean;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) assigned_by: string | null;

  static from(a: RoomAssignmentWithNames): RoomAssignmentDto {
    return {
      id: a.id,
      user: a.userId,
      user_name: fullName(a.user),
      room: a.roomId,
      room_name: a.room.name,
      role: a.role,
      start_time: a.startTime,
      end_time: a.endTime,
      is_active: a.isActive,
      assigned_by: a.assignedById,
    };
  }
}
