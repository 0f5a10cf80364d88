import { IsIn, IsLatitude, IsNumber, IsLongitude, IsOptional, IsString, IsUUID } from 'class-validator';
import { Length } from '../common/http/validators';
import { UpdateSessionDto } from '../modules/sessions/dto/session.dto';
import { SESSION_ACTIONS, type SessionAction } from '../modules/sessions/session-status';

/** Payloads of client events, validated like HTTP bodies: unknown fields are refused. */
export class SessionRefDto {
  @IsUUID('all')
  session_id: string;
}

export class RoomRefDto {
  @IsUUID('all')
  room_id: string;
}

export class MarkAttendanceDto extends SessionRefDto {
  @IsOptional()
  @IsString()
  @Length(1, 32)
  code?: string;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsLatitude()
  latitude?: number;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsLongitude()
  longitude?: number;
}

/** `sessionUpdate`: the fields of `PATCH /api/sessions/{id}/` and/or a status `action` (mark_live, ...). */
export class SessionUpdateDto extends UpdateSessionDto {
  @IsUUID('all')
  session_id: string;

  @IsOptional()
  @IsIn(SESSION_ACTIONS)
  action?: SessionAction;
}
