import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsObject,
  IsString,
  IsUUID,
  Matches,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { IfPresent, IsoDateTime, MaxLength } from '../../../common/http/validators';
import {
  ACCESS_DIRECTIONS,
  ACCESS_STATUSES,
  type AccessDirection,
  type AccessStatus,
} from '../entities/room-access-log.entity';

/** Device ids and nonces are short opaque tokens chosen by the app. */
const TOKEN = /^[\w.:-]{1,100}$/;
const TOKEN_MESSAGE = '$property must be 1-100 letters, digits or . _ : -';
/**
 * A device id is such a token, but not `user:…`: a nonce sent without a device id is keyed as `user:<caller's id>`
 * (DoorService), and a client must not be able to name another scanner's key space.
 */
const DEVICE_ID = /^(?!user:)[\w.:-]{1,100}$/;
const DEVICE_ID_MESSAGE = `${TOKEN_MESSAGE}, not starting with user:`;

export const MAX_SYNC_SCANS = 500;

/** `POST /api/rooms/{id}/verify_access/`. */
export class VerifyAccessDto {
  @ApiProperty({ maxLength: 512, description: 'The scanned QR text' })
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  qr_data: string;

  @ApiPropertyOptional({ enum: ACCESS_DIRECTIONS, default: 'in' })
  @IfPresent()
  @IsIn(ACCESS_DIRECTIONS)
  direction?: AccessDirection;

  @ApiPropertyOptional({ description: 'With nonce: a repeated request returns the first answer' })
  @IfPresent()
  @IsString()
  @Matches(DEVICE_ID, { message: DEVICE_ID_MESSAGE })
  device_id?: string;

  @ApiPropertyOptional()
  @IfPresent()
  @IsString()
  @Matches(TOKEN, { message: TOKEN_MESSAGE })
  nonce?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: "The device's time (kept in the log)" })
  @IfPresent()
  @IsoDateTime()
  scanned_at?: Date;
}

/** `POST /api/qr/verify/`: the room in the body. */
export class QrVerifyDto extends VerifyAccessDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'room_id must be a UUID' })
  room_id: string;
}

/** `POST /api/participants/scan/`: the entrance check-in of the earlier app (no room). */
export class EntranceScanDto {
  @ApiProperty({ maxLength: 512 })
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  qr_data: string;

  @ApiPropertyOptional()
  @IfPresent()
  @IsString()
  @Matches(DEVICE_ID, { message: DEVICE_ID_MESSAGE })
  device_id?: string;

  @ApiPropertyOptional()
  @IfPresent()
  @IsString()
  @Matches(TOKEN, { message: TOKEN_MESSAGE })
  nonce?: string;
}

export class ScanParticipantDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() badge_id: string;
  @ApiProperty() full_name: string;
}

export class ScanRoomDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: 'integer' }) current_participants: number;
  @ApiProperty({ type: 'integer' }) capacity: number;
}

export class ScanSessionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() title: string;
  @ApiProperty({ enum: ['conference', 'atelier'] }) session_type: string;
}

export const REASON_CODES = [
  'OK',
  'BADGE_UNKNOWN',
  'BADGE_REVOKED',
  'EVENT_NOT_ACTIVE',
  'ROOM_INACTIVE',
  'ROOM_NOT_ALLOWED',
  'PAYMENT_REQUIRED',
  'ROOM_FULL',
] as const;

/** Every door decision answers 200 with this, granted or denied. */
export class ScanResultDto {
  @ApiProperty({ enum: ACCESS_STATUSES }) status: AccessStatus;
  @ApiProperty({ enum: REASON_CODES }) reason_code: string;
  @ApiProperty() message: string;
  @ApiProperty({ description: 'Entry of someone already inside (or exit of someone not inside): nothing changed' })
  duplicate: boolean;
  @ApiProperty({ type: ScanParticipantDto, nullable: true }) participant: ScanParticipantDto | null;
  @ApiProperty({ type: ScanRoomDto }) room: ScanRoomDto;
  @ApiProperty({ type: ScanSessionDto, nullable: true }) session: ScanSessionDto | null;
  @ApiProperty({ format: 'uuid' }) access_id: string;
  @ApiProperty({ type: String, format: 'date-time' }) scanned_at: string;
}

export class PaidItemDto {
  @ApiProperty({ format: 'uuid' }) session_id: string;
  @ApiProperty() title: string;
  @ApiProperty({ enum: ['pending', 'paid', 'free', 'refunded'] }) payment_status: string;
  @ApiProperty() has_access: boolean;
}

export class EntranceScanResultDto {
  @ApiProperty({ enum: ACCESS_STATUSES }) status: AccessStatus;
  @ApiProperty({ enum: REASON_CODES }) reason_code: string;
  @ApiProperty() message: string;
  @ApiProperty({ type: ScanParticipantDto, nullable: true }) participant: ScanParticipantDto | null;
  @ApiProperty() is_checked_in: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) checked_in_at: string | null;
  @ApiProperty({ description: 'This scan checked the badge in' }) first_check_in: boolean;
  @ApiProperty({ type: [PaidItemDto] }) paid_items: PaidItemDto[];
  @ApiProperty() duplicate: boolean;
  @ApiProperty({ format: 'uuid' }) access_id: string;
  @ApiProperty({ type: String, format: 'date-time' }) scanned_at: string;
}

export class SyncScanDto {
  @ApiProperty()
  @IsString()
  @Matches(TOKEN, { message: TOKEN_MESSAGE })
  nonce: string;

  @ApiProperty({ maxLength: 512 })
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  qr_data: string;

  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'room_id must be a UUID' })
  room_id: string;

  @ApiProperty({ enum: ACCESS_DIRECTIONS })
  @IsIn(ACCESS_DIRECTIONS)
  direction: AccessDirection;

  @ApiProperty({ type: String, format: 'date-time', description: "The device's time of the scan" })
  @IsoDateTime()
  scanned_at: Date;

  @ApiProperty({ enum: ACCESS_STATUSES, description: 'What the app decided offline' })
  @IsIn(ACCESS_STATUSES)
  local_decision: AccessStatus;
}

export class SyncDto {
  @ApiProperty()
  @IsString()
  @Matches(DEVICE_ID, { message: DEVICE_ID_MESSAGE })
  device_id: string;

  @ApiProperty({ type: [SyncScanDto], maxItems: MAX_SYNC_SCANS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SYNC_SCANS)
  @IsObject({ each: true, message: 'each of scans must be an object' })
  @ValidateNested({ each: true })
  @Type(() => SyncScanDto)
  scans: SyncScanDto[];
}

export class SyncItemResultDto {
  @ApiProperty() nonce: string;
  @ApiProperty({ enum: ACCESS_STATUSES, description: "The server's decision for this scan" }) status: AccessStatus;
  @ApiProperty({
    description:
      'The reason codes of a door decision, plus SCANNER_NOT_ASSIGNED (the scanner had no shift on this room at that ' +
      'time) and NONCE_REUSED (this device already used the nonce for another scan: not stored)',
  })
  reason_code: string;
  @ApiProperty({ description: 'This scan is part of a conflict (double entry, or refused by the server)' })
  conflict: boolean;
  @ApiProperty({ description: 'Stored by an earlier upload: its stored result is returned' }) already_synced: boolean;
}

export class SyncResultDto {
  @ApiProperty({ type: [SyncItemResultDto] }) results: SyncItemResultDto[];
}
