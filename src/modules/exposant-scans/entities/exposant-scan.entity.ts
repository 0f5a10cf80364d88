import { Check, Column, Entity, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { BaseEntity } from '../../../database/base.entity';
import { UserEventAssignment } from '../../assignments/entities/user-event-assignment.entity';
import { Event } from '../../events/entities/event.entity';
import { Participant } from '../../participants/entities/participant.entity';

/** Longest note an exhibitor may keep on a lead (also a CHECK, so that no other writer can exceed it). */
export const MAX_LEAD_NOTES = 2000;
export const MIN_RATING = 0;
export const MAX_RATING = 5;

/** The unique key of a lead: one per exhibitor and visitor in an event; a scan upserts on it. */
export const LEAD_KEY = 'uq_exposant_scans_event_exposant_participant';

/**
 * A lead: an exhibitor (`exposant_user_id`, through their role in the event) scanned a visitor's badge. One row per
 * (event, exhibitor, visitor), re-scans count on it. It goes with the exhibitor's role in the event and with the
 * visitor's badge (cascades). Never a door scan: it touches neither check-in nor rooms.
 */
@Entity('exposant_scans')
@Unique(LEAD_KEY, ['eventId', 'exposantUserId', 'participantId'])
@Index('idx_exposant_scans_event_id_participant_id', ['eventId', 'participantId'])
@Check('chk_exposant_scans_rating', `"rating" IS NULL OR "rating" BETWEEN ${MIN_RATING} AND ${MAX_RATING}`)
@Check('chk_exposant_scans_scan_count', `"scan_count" >= 1`)
@Check('chk_exposant_scans_scanned_at', `"last_scanned_at" >= "first_scanned_at"`)
@Check('chk_exposant_scans_notes', `char_length("notes") <= ${MAX_LEAD_NOTES}`)
export class ExposantScan extends BaseEntity {
  @Column({ type: 'uuid' })
  eventId: string;

  @ManyToOne(() => Event, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id' })
  event?: Event;

  /** The exhibitor's user id. */
  @Column({ type: 'uuid' })
  exposantUserId: string;

  @ManyToOne(() => UserEventAssignment, { onDelete: 'CASCADE' })
  @JoinColumn([
    { name: 'event_id', referencedColumnName: 'eventId' },
    { name: 'exposant_user_id', referencedColumnName: 'userId' },
  ])
  exposant?: UserEventAssignment;

  /** The visitor's badge. */
  @Column({ type: 'uuid' })
  participantId: string;

  @ManyToOne(() => Participant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'participant_id' })
  participant?: Participant;

  @Column({ type: 'integer', default: 1 })
  scanCount: number;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  firstScannedAt: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  lastScannedAt: Date;

  @Column({ type: 'text', nullable: true })
  notes: string | null;

  @Column({ type: 'smallint', nullable: true })
  rating: number | null;
}
