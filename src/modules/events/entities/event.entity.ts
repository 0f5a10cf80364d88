import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from '../../../database/base.entity';
import { User } from '../../users/entities/user.entity';

export type EventStatus = 'upcoming' | 'active' | 'completed' | 'cancelled';

@Entity('events')
@Check('chk_events_dates', `"end_date" > "start_date"`)
@Check('chk_events_capacity', `"capacity" IS NULL OR "capacity" > 0`)
@Check(
  'chk_events_registered_count',
  `"registered_count" >= 0 AND ("capacity" IS NULL OR "registered_count" <= "capacity")`,
)
@Check(
  'chk_events_coordinates',
  `("latitude" IS NULL) = ("longitude" IS NULL) AND ("attendance_radius" IS NULL OR "latitude" IS NOT NULL)`,
)
@Check('chk_events_attendance_radius', `"attendance_radius" IS NULL OR "attendance_radius" > 0`)
@Index('idx_events_start_date', ['startDate'])
export class Event extends BaseEntity {
  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ type: 'timestamptz' })
  startDate: Date;

  @Column({ type: 'timestamptz' })
  endDate: Date;

  @Column({ type: 'varchar', length: 255, default: '' })
  location: string;

  @Column({ type: 'text', default: '' })
  locationDetails: string;

  /** Where the event takes place (WGS 84 degrees); both or neither. */
  @Column({ type: 'numeric', precision: 9, scale: 6, nullable: true })
  latitude: string | null;

  @Column({ type: 'numeric', precision: 9, scale: 6, nullable: true })
  longitude: string | null;

  /** Metres around the coordinates within which self attendance is accepted; null: anywhere. */
  @Column({ type: 'integer', nullable: true })
  attendanceRadius: number | null;

  @Column({ type: 'varchar', length: 255, default: '' })
  organizerContact: string;

  @Column({ type: 'integer', nullable: true })
  capacity: number | null;

  @Column({ type: 'boolean', default: false })
  registrationOpen: boolean;

  /**
   * Confirmed self-registrations: taken and freed only by conditional updates of the registrations module. Never
   * written through the entity (`update: false`): a `save()` of an event read earlier would put back a stale count.
   */
  @Column({ type: 'integer', default: 0, insert: false, update: false })
  registeredCount: number;

  /** Last waiting-list number handed out for this event (see `EventRegistration.queueNumber`); same rule. */
  @Column({ type: 'integer', default: 0, insert: false, update: false })
  registrationSeq: number;

  @Column({ type: 'boolean', default: false })
  isCancelled: boolean;

  @Column({ type: 'varchar', length: 3, default: 'DZD' })
  currency: string;

  @Column({ type: 'jsonb', default: {} })
  settings: Record<string, unknown>;

  @Column({ type: 'jsonb', default: [] })
  themes: string[];

  @Column({ type: 'jsonb', default: {} })
  metadata: Record<string, unknown>;

  /** Stored file names under UPLOAD_DIR; served as URLs by the files module. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  logoFile: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  bannerFile: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  programmeFile: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  guideFile: string | null;

  @Column({ type: 'uuid', nullable: true })
  presidentId: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'president_id' })
  president?: User;

  @Column({ type: 'uuid', nullable: true })
  createdById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by_id' })
  createdBy?: User;
}

/** Status from the clock, unless the event was cancelled. */
export function eventStatus(
  event: Pick<Event, 'startDate' | 'endDate' | 'isCancelled'>,
  now = new Date(),
): EventStatus {
  if (event.isCancelled) return 'cancelled';
  if (now < event.startDate) return 'upcoming';
  if (now > event.endDate) return 'completed';
  return 'active';
}
