import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from '../../../database/base.entity';
import { Event } from '../../events/entities/event.entity';
import { EventSession } from '../../sessions/entities/event-session.entity';

/** Code attendance of a session: the secret its rotating codes derive from; open while `closed_at` is null. */
@Entity('attendance_codes')
@Index('uq_attendance_codes_session_id', ['sessionId'], { unique: true })
@Index('idx_attendance_codes_event_id', ['eventId'])
@Check('chk_attendance_codes_rotates_every', `"rotates_every" BETWEEN 30 AND 60`)
export class AttendanceCode extends BaseEntity {
  @Column({ type: 'uuid' })
  eventId: string;

  @ManyToOne(() => Event, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id' })
  event?: Event;

  @Column({ type: 'uuid' })
  sessionId: string;

  @ManyToOne(() => EventSession, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: EventSession;

  @Column({ type: 'varchar', length: 64 })
  secret: string;

  @Column({ type: 'integer' })
  rotatesEvery: number;

  @Column({ type: 'uuid', nullable: true })
  openedById: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  closedAt: Date | null;
}
