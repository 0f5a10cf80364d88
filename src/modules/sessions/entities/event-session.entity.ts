import { Check, Column, Entity, Exclusion, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from '../../../database/base.entity';
import { Event } from '../../events/entities/event.entity';
import { Room } from '../../rooms/entities/room.entity';

export const SESSION_STATUSES = ['scheduled', 'live', 'completed', 'cancelled'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
export const SESSION_TYPES = ['conference', 'atelier'] as const;
export type SessionType = (typeof SESSION_TYPES)[number];

/**
 * A scheduled slot in a room (table `sessions`; the class is named apart from auth sessions). Two non-cancelled
 * sessions of one room never overlap: the exclusion constraint decides, so concurrent creates cannot both win.
 */
@Entity('sessions')
@Index('idx_sessions_event_id_start_time', ['eventId', 'startTime'])
@Index('idx_sessions_event_id_room_id', ['eventId', 'roomId'])
@Check('chk_sessions_times', `"end_time" > "start_time"`)
@Check('chk_sessions_status', `"status" IN ('scheduled', 'live', 'completed', 'cancelled')`)
@Check('chk_sessions_type', `"session_type" IN ('conference', 'atelier')`)
@Check('chk_sessions_price', `"price" IS NULL OR "price" >= 0`)
@Check('chk_sessions_capacity', `"capacity" IS NULL OR "capacity" > 0`)
@Check('chk_sessions_seats', `"seats_taken" >= 0 AND ("capacity" IS NULL OR "seats_taken" <= "capacity")`)
@Exclusion(
  'ex_sessions_room_overlap',
  `USING gist ("room_id" WITH =, tstzrange("start_time", "end_time") WITH &&) WHERE ("status" <> 'cancelled')`,
)
export class EventSession extends BaseEntity {
  @Column({ type: 'uuid' })
  eventId: string;

  @ManyToOne(() => Event, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id' })
  event?: Event;

  @Column({ type: 'uuid' })
  roomId: string;

  /** NO ACTION: a room with sessions cannot be deleted on its own (409), yet deleting the event removes both. */
  @ManyToOne(() => Room, { onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'room_id' })
  room?: Room;

  @Column({ type: 'varchar', length: 255 })
  title: string;

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ type: 'timestamptz' })
  startTime: Date;

  @Column({ type: 'timestamptz' })
  endTime: Date;

  @Column({ type: 'varchar', length: 200, default: '' })
  speakerName: string;

  @Column({ type: 'varchar', length: 200, default: '' })
  speakerTitle: string;

  @Column({ type: 'text', default: '' })
  speakerBio: string;

  @Column({ type: 'varchar', length: 500, nullable: true })
  speakerPhotoUrl: string | null;

  @Column({ type: 'varchar', length: 150, default: '' })
  theme: string;

  @Column({ type: 'varchar', length: 16, default: 'scheduled' })
  status: SessionStatus;

  @Column({ type: 'varchar', length: 16, default: 'conference' })
  sessionType: SessionType;

  @Column({ type: 'boolean', default: false })
  isPaid: boolean;

  /** Money as a decimal string (pg returns numeric as string): never a float. */
  @Column({ type: 'numeric', precision: 12, scale: 2, nullable: true })
  price: string | null;

  /** Seats of an atelier; null = the room's capacity. */
  @Column({ type: 'integer', nullable: true })
  capacity: number | null;

  /**
   * Seats held by session access rows (pending, paid, free). Read-only for clients; changed only by the session
   * access module with conditional updates, so grants never exceed the seats even when they race, and by the trigger
   * `trg_session_access_free_seat`, which gives back the seat of every deleted row (also cascades).
   */
  @Column({ type: 'integer', default: 0 })
  seatsTaken: number;

  @Column({ type: 'varchar', length: 500, nullable: true })
  youtubeLiveUrl: string | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  coverImageUrl: string | null;

  @Column({ type: 'jsonb', default: {} })
  metadata: Record<string, unknown>;
}
