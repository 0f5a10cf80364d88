import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from '../../../database/base.entity';
import { UserEventAssignment } from '../../assignments/entities/user-event-assignment.entity';
import { Event } from '../../events/entities/event.entity';
import { User } from '../../users/entities/user.entity';

/**
 * The badge of a user in an event. It hangs off the user's role in the event (composite foreign key on
 * (event_id, user_id)): removing someone from an event removes their badge. The QR text itself is never stored, only
 * the salt it is derived from and its hash (see badge-codes.ts).
 */
@Entity('participants')
@Index('uq_participants_event_user', ['eventId', 'userId'], { unique: true })
@Index('uq_participants_event_badge_id', ['eventId', 'badgeId'], { unique: true })
@Index('uq_participants_event_qr_hash', ['eventId', 'qrHash'], { unique: true })
@Check('chk_participants_checked_in', `"is_checked_in" = ("checked_in_at" IS NOT NULL)`)
export class Participant extends BaseEntity {
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

  @ManyToOne(() => UserEventAssignment, { onDelete: 'CASCADE' })
  @JoinColumn([
    { name: 'event_id', referencedColumnName: 'eventId' },
    { name: 'user_id', referencedColumnName: 'userId' },
  ])
  assignment?: UserEventAssignment;

  @Column({ type: 'varchar', length: 16 })
  badgeId: string;

  @Column({ type: 'varchar', length: 32 })
  qrSalt: string;

  @Column({ type: 'varchar', length: 64 })
  qrHash: string;

  @Column({ type: 'boolean', default: false })
  isCheckedIn: boolean;

  @Column({ type: 'timestamptz', nullable: true })
  checkedInAt: Date | null;

  /** Rooms this badge may enter; empty = every room of the event. */
  @Column({ type: 'uuid', array: true, default: () => "'{}'" })
  allowedRooms: string[];

  /**
   * The room the holder is in now, as door scans tell it (null: in no room). Changed only by `door_decide`. Neither
   * indexed nor a foreign key, so that moving a badge is a HOT update that locks no room row (see the doors migration).
   */
  @Column({ type: 'uuid', nullable: true })
  currentRoomId: string | null;

  /** The holder lets exhibitors who scan this badge see their email (set by the holder only). */
  @Column({ type: 'boolean', default: false })
  shareContactWithExhibitors: boolean;

  /** Exhibitor floor plan (PDF) under UPLOAD_DIR. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  planFile: string | null;
}
