import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, IsUUID, Matches, MinLength } from 'class-validator';
import { IfPresent, MaxLength } from '../../../common/http/validators';
import { EVENT_ROLES, type EventRole } from '../../../common/auth/event-role';
import { EventDto, EventWithRoleDto } from '../../events/dto/event.dto';
import { ParticipantDto } from '../../participants/dto/participant.dto';
import { UserDto } from '../../users/dto/user.dto';

/** Names are stored trimmed: one of spaces only would pass a length check and be saved empty. */
const NOT_BLANK = /\S/;
const NotBlank = () => Matches(NOT_BLANK, { message: '$property must not be blank' });

export class RegisterDto {
  @ApiProperty() @IsEmail() @MaxLength(254) email: string;
  @ApiProperty({ minLength: 8 }) @IsString() @MinLength(8) @MaxLength(128) password: string;
  @ApiProperty() @IsString() @NotBlank() @MaxLength(150) first_name: string;
  @ApiProperty() @IsString() @NotBlank() @MaxLength(150) last_name: string;
}

export class LoginDto {
  @ApiProperty() @IsString() @MaxLength(254) email: string;
  @ApiProperty() @IsString() @MaxLength(128) password: string;
}

export class SelectEventDto {
  @ApiProperty({ format: 'uuid' }) @IsUUID() event_id: string;
}

export class RefreshDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(200) refresh: string;
}

export class LogoutDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) refresh?: string;
}

export class UpdateProfileDto {
  @ApiPropertyOptional() @IfPresent() @IsString() @NotBlank() @MaxLength(150) first_name?: string;
  @ApiPropertyOptional() @IfPresent() @IsString() @NotBlank() @MaxLength(150) last_name?: string;
}

export class ChangePasswordDto {
  @ApiProperty() @IsString() @MaxLength(128) old_password: string;
  @ApiProperty({ minLength: 8 }) @IsString() @MinLength(8) @MaxLength(128) new_password: string;
}

export class TokenPairDto {
  @ApiProperty() access: string;
  @ApiProperty() refresh: string;
}

export class RegisterResponseDto extends TokenPairDto {
  @ApiProperty({ type: UserDto }) user: UserDto;
}

/** Login with 0 or 1 event, select-event, switch-event. */
export class SessionResponseDto extends TokenPairDto {
  @ApiProperty({ type: UserDto }) user: UserDto;
  @ApiProperty({ enum: EVENT_ROLES, nullable: true }) role: EventRole | null;
  @ApiProperty({ type: EventDto, nullable: true }) event: EventDto | null;
}

/** Login of a user in several events: no tokens until one is chosen with `select-event/`. */
export class EventSelectionResponseDto {
  @ApiProperty({ enum: [true] }) requires_event_selection: true;
  @ApiProperty({ description: 'Bearer for select-event/, valid 10 minutes' }) temp_token: string;
  @ApiProperty({ type: [EventWithRoleDto] }) available_events: EventWithRoleDto[];
  @ApiProperty({ type: UserDto }) user: UserDto;
}

export class MyEventDto extends EventWithRoleDto {
  @ApiProperty() is_current: boolean;
}

export class MyEventsDto {
  @ApiProperty() count: number;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) current_event_id: string | null;
  @ApiProperty({ type: [MyEventDto] }) events: MyEventDto[];
}

export class ProfileDto extends UserDto {
  @ApiProperty() is_staff: boolean;
  @ApiProperty({ nullable: true, type: String }) discord_user_id: string | null;
  @ApiProperty({ nullable: true, type: String }) discord_username: string | null;
  @ApiProperty({ enum: EVENT_ROLES, nullable: true }) role: EventRole | null;
  @ApiProperty({ type: EventDto, nullable: true }) event: EventDto | null;
  @ApiProperty({
    nullable: true,
    type: ParticipantDto,
    description: 'Own badge (with qr_code_data) in the current event',
  })
  participant: ParticipantDto | null;
}

/** `POST /api/auth/discord-link/`: the code to give the Discord bot (`!link <code>`), shown once. */
export class DiscordLinkCodeDto {
  @ApiProperty({ example: 'K7QX2MPA', description: 'One-time; a new request replaces it' }) code: string;
  @ApiProperty({ type: String, format: 'date-time' }) expires_at: Date;
}
