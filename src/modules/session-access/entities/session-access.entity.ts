import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from '../../../database/base.entity';
import { Event } from '../../events/entities/event.entity';
import { Participant } from '../../participants/entities/participant.entity';
import { EventSession } from '../../sessions/entities/event-session.entity';

export const PAYMENT_STATUSES = ['pending', 'paid', 'free', 'refunded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** Statuses that give entry to the atelier. */
export const ACCESS_STATUSES: readonly PaymentStatus[] = ['paid', 'free'];
/** Statuses that hold one of the atelier's seats (a pending payment keeps its seat until refunded or deleted). */
export const SEAT_STATUSES: readonly PaymentStatus[] = ['pending', 'paid', 'free'];

/** A participant's right to a (paid) atelier. Seats are counted on the session row (`sessions.seats_taken`). */
@Entity('session_access')
@Index('uq_session_access_event_session_participant', ['eventId', 'sessionId', 'participantId'], { unique: true })
@Index('idx_session_access_event_id_participant_id', ['eventId', 'participantId'])
@Check('chk_session_access_status', `"payment_status" IN ('pending', 'paid', 'free', 'refunded')`)
@Check('chk_session_access_amount', `"amount_paid" IS NULL OR "amount_paid" >= 0`)
export class SessionAccess extends BaseEntity {
  @Column({ type: 'uuid' })
  eventId: string;

  @ManyToOne(() => Event, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id' })
  event?: Event;

  @Column({ type: 'uuid' })
  participantId: string;

  @ManyToOne(() => Participant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'participant_id' })
  participant?: Participant;

  @Column({ type: 'uuid' })
  sessionId: string;

  @ManyToOne(() => EventSession, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: EventSession;

  @Column({ type: 'varchar', length: 16 })
  paymentStatus: PaymentStatus;

  /** Decimal string in the event's currency. */
  @Column({ type: 'numeric', precision: 12, scale: 2, nullable: true })
  amountPaid: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  paidAt: Date | null;
}
