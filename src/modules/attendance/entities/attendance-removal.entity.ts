import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Event } from '../../events/entities/event.entity';

/**
 * The audit log of removed attendance records: what was removed, by whom and why. No foreign keys but the event's,
 * so the trail outlives the participant and the session it names.
 */
@Entity('attendance_removals')
@Index('idx_attendance_removals_event_id_removed_at', ['eventId', 'removedAt'])
export class AttendanceRemoval {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  eventId: string;

  @ManyToOne(() => Event, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id' })
  event?: Event;

  @Column({ type: 'uuid' })
  attendanceId: string;

  @Column({ type: 'uuid' })
  participantId: string;

  @Column({ type: 'uuid', nullable: true })
  sessionId: string | null;

  @Column({ type: 'varchar', length: 16 })
  method: string;

  @Column({ type: 'timestamptz' })
  attendedAt: Date;

  @Column({ type: 'uuid', nullable: true })
  markedById: string | null;

  @Column({ type: 'uuid' })
  removedById: string;

  @Column({ type: 'text' })
  reason: string;

  @CreateDateColumn({ type: 'timestamptz' })
  removedAt: Date;
}
