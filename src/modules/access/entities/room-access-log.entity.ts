import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Participant } from '../../participants/entities/participant.entity';

export const ACCESS_DIRECTIONS = ['in', 'out'] as const;
export type AccessDirection = (typeof ACCESS_DIRECTIONS)[number];
export const ACCESS_STATUSES = ['granted', 'denied'] as const;
export type AccessStatus = (typeof ACCESS_STATUSES)[number];
export const ACCESS_SOURCES = ['online', 'offline', 'manual'] as const;
export type AccessSource = (typeof ACCESS_SOURCES)[number];

/**
 * Every door decision, granted or denied, online, offline or manual. Append-only: rows are written by the SQL
 * function `door_decide` (migrations) and never updated; conflicts found later are recorded beside them
 * (`access_conflicts`). `response` is the answer given, returned again for a repeated (device, nonce); kept only for
 * the scans that have both (the others cannot be repeated, and it was most of their row). No foreign
 * keys to the event, room, session or scanner (see the doors migration): `door_decide` checks them, triggers do
 * the deletes the keys would have done.
 */
@Entity('room_access_logs')
@Index('uq_room_access_logs_event_device_nonce', ['eventId', 'deviceId', 'nonce'], {
  unique: true,
  where: '"device_id" IS NOT NULL AND "nonce" IS NOT NULL',
})
@Index('idx_room_access_logs_event_id_scanned_at', ['eventId', 'scannedAt'])
@Index('idx_room_access_logs_event_id_room_id_scanned_at', ['eventId', 'roomId', 'scannedAt'])
@Index('idx_room_access_logs_event_id_participant_id_scanned_at', ['eventId', 'participantId', 'scannedAt'])
@Index('idx_room_access_logs_event_id_verified_by_id_scanned_at', ['eventId', 'verifiedById', 'scannedAt'])
@Check('chk_room_access_logs_direction', `"direction" IN ('in', 'out')`)
@Check('chk_room_access_logs_status', `"status" IN ('granted', 'denied')`)
@Check('chk_room_access_logs_source', `"source" IN ('online', 'offline', 'manual')`)
export class RoomAccessLog {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  eventId: string;

  /** Null for an entrance check-in (`POST /api/participants/scan/`). A room with scans cannot be deleted. */
  @Column({ type: 'uuid', nullable: true })
  roomId: string | null;

  /** Null when the QR matched no badge of the event. */
  @Column({ type: 'uuid', nullable: true })
  participantId: string | null;

  @ManyToOne(() => Participant, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'participant_id' })
  participant?: Participant;

  @Column({ type: 'uuid', nullable: true })
  sessionId: string | null;

  @Column({ type: 'uuid', nullable: true })
  verifiedById: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  deviceId: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  nonce: string | null;

  @Column({ type: 'varchar', length: 3 })
  direction: AccessDirection;

  @Column({ type: 'varchar', length: 8 })
  status: AccessStatus;

  @Column({ type: 'varchar', length: 32 })
  reasonCode: string;

  /** The message shown, or the note of a manual decision. */
  @Column({ type: 'text', default: '' })
  denialReason: string;

  /** An entry of someone already inside (or an exit of someone not inside): occupancy unchanged. */
  @Column({ type: 'boolean', default: false })
  duplicate: boolean;

  /** When the decision applies: the server's time online, the device's (clamped) time offline. */
  @Column({ type: 'timestamptz' })
  scannedAt: Date;

  /** The time the device reported, as it reported it. */
  @Column({ type: 'timestamptz', nullable: true })
  deviceScannedAt: Date | null;

  /** The device time was absurd (in the future, or long before the event) and was replaced by the upload time. */
  @Column({ type: 'boolean', default: false })
  deviceTimeAdjusted: boolean;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  receivedAt: Date;

  @Column({ type: 'varchar', length: 8 })
  source: AccessSource;

  /** What the offline app decided on its own. */
  @Column({ type: 'varchar', length: 8, nullable: true })
  localDecision: AccessStatus | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  qrHash: string | null;

  /** The answer given, kept only for a scan with a device and a nonce (the only ones that can be repeated). */
  @Column({ type: 'jsonb', nullable: true })
  response: Record<string, unknown> | null;
}
