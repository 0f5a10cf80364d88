import { ApiProperty } from '@nestjs/swagger';

export class ManifestRoomDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: 'integer' }) capacity: number;
  @ApiProperty({ type: 'integer' }) current_participants: number;
  @ApiProperty() is_active: boolean;
}

export class ManifestBadgeDto {
  @ApiProperty({ description: 'Lowercase hex SHA-256 of the QR text' }) qr_hash: string;
  @ApiProperty({ format: 'uuid' }) participant_id: string;
  @ApiProperty() badge_id: string;
  @ApiProperty() full_name: string;
  @ApiProperty({ type: [String], format: 'uuid', description: 'Empty = every room' }) allowed_rooms: string[];
}

export class ManifestSessionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) room_id: string;
  @ApiProperty() title: string;
  @ApiProperty({ enum: ['conference', 'atelier'] }) session_type: string;
  @ApiProperty() is_paid: boolean;
  @ApiProperty() start_time: Date;
  @ApiProperty() end_time: Date;
  @ApiProperty() status: string;
}

export class ManifestAccessDto {
  @ApiProperty({ format: 'uuid' }) participant_id: string;
  @ApiProperty({ format: 'uuid' }) session_id: string;
  @ApiProperty() has_access: boolean;
}

/** What a door app needs to decide offline, for the caller's rooms. Hashes only: never a QR text. */
export class ManifestDto {
  @ApiProperty() generated_at: Date;
  @ApiProperty({ description: 'Grace before a session starts, in seconds (the server rule 6)' })
  grace_seconds: number;
  @ApiProperty({ type: [ManifestRoomDto] }) rooms: ManifestRoomDto[];
  @ApiProperty({ type: [ManifestBadgeDto], description: 'Valid badges that may enter at least one of the rooms' })
  badges: ManifestBadgeDto[];
  @ApiProperty({ type: [String], description: 'Hashes of revoked QR texts and of badges of removed members' })
  revoked: string[];
  @ApiProperty({ type: [ManifestAccessDto], description: 'Rights to the paid ateliers of these rooms' })
  session_access: ManifestAccessDto[];
  @ApiProperty({ type: [ManifestSessionDto], description: 'Sessions of these rooms not yet over, not cancelled' })
  sessions: ManifestSessionDto[];
}
