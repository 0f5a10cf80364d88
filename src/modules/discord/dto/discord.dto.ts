import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { Length } from '../../../common/http/validators';
import { EVENT_ROLES, type EventRole } from '../../../common/auth/event-role';
import type { AttendeeDto } from '../../attendance/dto/attend.dto';
import { ATTENDANCE_METHODS, type AttendanceMethod } from '../../attendance/entities/attendance.entity';
import { RegistrationStateDto } from '../../registrations/dto/registration.dto';
import { DISCORD_SNOWFLAKE, SNOWFLAKE_MESSAGE } from '../discord-ids';

/** `POST /api/discord/attend/{event_id}/`. */
export class DiscordAttendDto {
  @ApiProperty({ example: '1183456789012345678', description: 'Discord user id (snowflake, 17 to 20 digits)' })
  @IsString()
  @Matches(DISCORD_SNOWFLAKE, { message: SNOWFLAKE_MESSAGE })
  discord_user_id: string;
}

/** `POST /api/discord/users/link/`: the code the person got in the app (`POST /api/auth/discord-link/`). */
export class DiscordLinkDto extends DiscordAttendDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'ada' })
  @IsString()
  @Length(1, 100)
  discord_username: string;

  @ApiProperty({
    example: 'K7QX2MPA',
    description: 'One-time code, 8 characters',
    pattern: '^[A-Za-z0-9]{8}$',
    minLength: 8,
    maxLength: 8,
  })
  @IsString()
  @Matches(/^[A-Za-z0-9]{8}$/, { message: 'code must be the 8 characters shown in the app' })
  code: string;
}

/** `POST /api/discord/users/register/`. */
export class DiscordRegisterDto extends DiscordAttendDto {
  @ApiProperty({ minLength: 1, maxLength: 150, example: 'Ada Lovelace', description: 'First word: first name' })
  @IsString()
  @Length(1, 150)
  @Matches(/\S/, { message: '$property must not be blank' })
  name: string;

  @ApiProperty({ minLength: 1, maxLength: 100, example: 'ada' })
  @IsString()
  @Length(1, 100)
  discord_username: string;
}

/** A Discord user as the bot sees them in its event. */
export class DiscordUserDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() first_name: string;
  @ApiProperty() last_name: string;
  @ApiProperty() full_name: string;
  @ApiProperty() discord_user_id: string;
  @ApiProperty({ nullable: true, type: String }) discord_username: string | null;
  @ApiProperty({ enum: EVENT_ROLES, nullable: true, description: "Active role in the token's event" })
  role: EventRole | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'Badge in the event' })
  participant: string | null;
  @ApiProperty({ type: RegistrationStateDto, nullable: true, description: 'Self-registration, if any' })
  registration: RegistrationStateDto | null;
}

export const DISCORD_REGISTER_STATUSES = ['confirmed', 'waitlisted', 'member'] as const;

export class DiscordRegisterResultDto {
  @ApiProperty({
    enum: DISCORD_REGISTER_STATUSES,
    description: 'member: already had a role in the event (nothing to register)',
  })
  status: (typeof DISCORD_REGISTER_STATUSES)[number];
  @ApiProperty({ type: Number, nullable: true, description: 'Place in the waiting list when waitlisted' })
  position: number | null;
  @ApiProperty({ description: 'A Discord-only account was created for this Discord user' })
  account_created: boolean;
  @ApiProperty({ type: DiscordUserDto }) user: DiscordUserDto;
}

/**
 * An attendance record as a bot sees it: who, where in the programme, how and when. Not the position, the staff
 * note or who marked it: a bot token is a third party that may post what it reads in a public channel.
 */
export class BotAttendeeDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) participant: string;
  @ApiProperty() participant_name: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) session: string | null;
  @ApiProperty({ enum: ATTENDANCE_METHODS }) method: AttendanceMethod;
  @ApiProperty({ type: String, format: 'date-time' }) attended_at: string;

  static from(a: AttendeeDto): BotAttendeeDto {
    return {
      id: a.id,
      participant: a.participant,
      participant_name: a.participant_name,
      session: a.session,
      method: a.method,
      attended_at: a.attended_at,
    };
  }
}
