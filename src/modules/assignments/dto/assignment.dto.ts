import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  ValidateBy,
  ValidateIf,
  type ValidationArguments,
} from 'class-validator';
import { EVENT_ROLES, type EventRole } from '../../../common/auth/event-role';
import { MaxLength, QueryBoolean } from '../../../common/http/validators';
import { orderingValues, ScopedListQueryDto, SearchParam } from '../../../common/pagination/pagination';
import type { User } from '../../users/entities/user.entity';
import { fullName } from '../../users/users.service';
import type { UserEventAssignment } from '../entities/user-event-assignment.entity';

/** `email` and the names describe an account to find or create: next to `user_id` they are refused, not ignored. */
const WithoutUserId = () =>
  ValidateBy({
    name: 'withoutUserId',
    validator: {
      validate: (_value: unknown, args?: ValidationArguments) =>
        (args?.object as UserReferenceDto | undefined)?.user_id === undefined,
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property ?? 'This field'} cannot be combined with user_id`,
    },
  });

/**
 * Who is being added to the event: an existing `user_id`, or an `email` (an account without password is created when
 * it is new, and claimed when that person registers). Shared by user-assignments and participants.
 */
export class UserReferenceDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @ValidateIf((o: UserReferenceDto) => o.email === undefined || o.user_id !== undefined)
  @IsUUID('all', { message: 'user_id or email is required; user_id must be a UUID' })
  user_id?: string;

  @ApiPropertyOptional()
  @ValidateIf((o: UserReferenceDto) => o.user_id === undefined || o.email !== undefined)
  @IsEmail({}, { message: 'user_id or email is required; email must be an email' })
  @MaxLength(254)
  @WithoutUserId()
  email?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(150)
  @WithoutUserId()
  first_name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(150)
  @WithoutUserId()
  last_name?: string;
}

export class CreateAssignmentDto extends UserReferenceDto {
  @ApiProperty({ enum: EVENT_ROLES })
  @IsIn(EVENT_ROLES)
  role: EventRole;

  @ApiPropertyOptional({ default: true })
  @ValidateIf((_o: object, value: unknown) => value !== undefined)
  @IsBoolean()
  is_active?: boolean;
}

/** `PUT`: both fields. */
export class ReplaceAssignmentDto {
  @ApiProperty({ enum: EVENT_ROLES })
  @IsIn(EVENT_ROLES)
  role: EventRole;

  @ApiProperty()
  @IsBoolean()
  is_active: boolean;
}

/** `PATCH`: either field; one that is sent is validated, so `null` is a 400 rather than silently ignored. */
export class UpdateAssignmentDto extends PartialType(ReplaceAssignmentDto, { skipNullProperties: false }) {}

export const ASSIGNMENT_ORDERING = ['assigned_at', 'role', 'email', 'last_name'] as const;

export class AssignmentListQueryDto extends ScopedListQueryDto {
  @SearchParam() search?: string;

  @ApiPropertyOptional({ enum: EVENT_ROLES })
  @IsOptional()
  @IsIn(EVENT_ROLES)
  role?: EventRole;

  @ApiPropertyOptional()
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  is_active?: boolean;

  @ApiPropertyOptional({ enum: orderingValues([...ASSIGNMENT_ORDERING]) })
  @IsOptional()
  @IsIn(orderingValues([...ASSIGNMENT_ORDERING]))
  ordering?: string;
}

export class AssignmentDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) user: string;
  @ApiProperty() user_name: string;
  @ApiProperty({ nullable: true, type: String, description: 'null for a Discord-only account' }) user_email:
    string | null;
  @ApiProperty({ format: 'uuid' }) event: string;
  @ApiProperty({ enum: EVENT_ROLES }) role: EventRole;
  @ApiProperty() is_active: boolean;
  @ApiProperty() assigned_at: Date;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) assigned_by: string | null;

  static from(a: UserEventAssignment & { user: User }): AssignmentDto {
    return {
      id: a.id,
      user: a.userId,
      user_name: fullName(a.user),
      user_email: a.user.email,
      event: a.eventId,
      role: a.role,
      is_active: a.isActive,
      assigned_at: a.assignedAt,
      assigned_by: a.assignedById,
    };
  }
}
