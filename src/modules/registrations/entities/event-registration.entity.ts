import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from '../../../database/base.entity';
import { Event } from '../../events/entities/event.entity';
import { User } from '../../users/entities/user.entity';

export const REGISTRATION_STATUSES = ['confirmed', 'waitlisted', 'cancelled'] as const;
export type RegistrationStatus = (typeof REGISTRATION_STATUSES)[number];

/**
 * A user's self-registration to an event. Confirmed seats are counted on the event row (`events.registered_count`);
 * the waiting list is ordered by `queue_number`, drawn from the event's own counter (`events.registration_seq`) each
 * time the user (re)registers, so a re-registration goes to the back.
 */
@Entity('event_registrations')
@Index('uq_event_registrations_event_user', ['eventId', 'userId'], { unique: true })
@Index('idx_event_registrations_event_id_status_queue_number', ['eventId', 'status', 'queueNumber'])
@Index('idx_event_registrations_user_id', ['userId'])
@Check('chk_event_registrations_status', `"status" IN ('confirmed', 'waitlisted', 'cancelled')`)
export class EventRegistration extends BaseEntity {
  @Column({ type: 'uuid' })
  eventId: string;

  @ManyToOne(() => Event, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id' })
  event?: Event;

  @Column({ type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ type: 'varchar', length: 16 })
  status: RegistrationStatus;

  /** Order of the waiting list (smaller first); unique within the event, gaps allowed. */
  @Column({ type: 'integer' })
  queueNumber: number;
}
