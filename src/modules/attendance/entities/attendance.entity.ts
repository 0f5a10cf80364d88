import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Participant } from '../../participants/entities/participant.entity';
import { User } from '../../users/entities/user.entity';

export const ATTENDANCE_METHODS = ['door_scan', 'self', 'code', 'discord', 'manual'] as const;
export type AttendanceMethod = (typeof ATTENDANCE_METHODS)[number];

/**
 * The attendance ledger: one record per (participant, event) — `session_id` null — and per (participant, session),
 * whatever marked it. The first record wins; door scans write into it from `door_decide`.
 */
@Entity('attendances')
@Index('uq_attendances_event_participant', ['eventId', 'participantId'], {
  unique: true,
  where: '"session_id" IS NULL',
})
@Index('uq_attendances_event_participant_session', ['eventId', 'participantId', 'sessionId'], {
  unique: true,
  where: '"session_id" IS NOT NULL',
})
@Index('idx_attendances_event_id_session_id', ['eventId', 'sessionId'])
@Check('chk_attendances_method', `"method" IN ('door_scan', 'self', 'code', 'discord', 'manual')`)
export class Attendance {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  eventId: string;

  @Column({ type: 'uuid' })
  participantId: string;

  @ManyToOne(() => Participant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'participant_id' })
  participant?: Participant;

  @Column({ type: 'uuid', nullable: true })
  sessionId: string | null;

  @Column({ type: 'varchar', length: 16 })
  method: AttendanceMethod;

  /** Who marked it, for manual marking. */
  @Column({ type: 'uuid', nullable: true })
  markedById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'marked_by_id' })
  markedBy?: User;

  @Column({ type: 'timestamptz' })
  attendedAt: Date;

  @Column({ type: 'numeric', precision: 9, scale: 6, nullable: true })
  latitude: string | null;

  @Column({ type: 'numeric', precision: 9, scale: 6, nullable: true })
  longitude: string | null;

  /** Metres from the event's coordinates, when the event has an attendance radius and the record a location. */
  @Column({ type: 'integer', nullable: true })
  distanceM: number | null;

  /** Why staff marked it (manual marking). */
  @Column({ type: 'text', nullable: true })
  note: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
