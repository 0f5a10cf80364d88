import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from '../../../database/base.entity';
import { Event } from '../../events/entities/event.entity';

/** A place in the venue. Live occupancy is kept between 0 and capacity by the database itself. */
@Entity('rooms')
@Index('uq_rooms_event_name', ['eventId', 'name'], { unique: true })
@Check('chk_rooms_capacity', `"capacity" >= 1`)
@Check('chk_rooms_occupancy', `"current_participants" >= 0 AND "current_participants" <= "capacity"`)
export class Room extends BaseEntity {
  @Column({ type: 'uuid' })
  eventId: string;

  @ManyToOne(() => Event, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id' })
  event?: Event;

  @Column({ type: 'varchar', length: 150 })
  name: string;

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ type: 'integer' })
  capacity: number;

  @Column({ type: 'varchar', length: 255, default: '' })
  location: string;

  /** Read-only for clients: only door decisions change it, with conditional updates. */
  @Column({ type: 'integer', default: 0 })
  currentParticipants: number;

  @Column({ type: 'boolean', default: true })
  isActive: boolean;
}
