import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { Participant } from '../../participants/entities/participant.entity';
import { EventSession } from '../../sessions/entities/event-session.entity';

/** Code guesses of one participant in one session, counted by a conditional upsert (no lost increments). */
@Entity('attendance_code_attempts')
@Index('idx_attendance_code_attempts_event_id', ['eventId'])
@Check('chk_attendance_code_attempts_attempts', `"attempts" >= 0`)
export class AttendanceCodeAttempt {
  @PrimaryColumn({ type: 'uuid' })
  sessionId: string;

  @ManyToOne(() => EventSession, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: EventSession;

  @PrimaryColumn({ type: 'uuid' })
  participantId: string;

  @ManyToOne(() => Participant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'participant_id' })
  participant?: Participant;

  @Column({ type: 'uuid' })
  eventId: string;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
