import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from '../../../database/base.entity';
import { Event } from '../../events/entities/event.entity';
import { Room } from '../../rooms/entities/room.entity';
import { User } from '../../users/entities/user.entity';

export const ROOM_STAFF_ROLES = ['gestionnaire_des_salles', 'controlleur_des_badges'] as const;
export type RoomStaffRole = (typeof ROOM_STAFF_ROLES)[number];

/** A staff shift: a room manager or badge controller assigned to a room for a time slot. */
@Entity('room_assignments')
@Index('idx_room_assignments_event_id_room_id_start_time', ['eventId', 'roomId', 'startTime'])
@Index('idx_room_assignments_event_id_user_id', ['eventId', 'userId'])
@Check('chk_room_assignments_times', `"end_time" > "start_time"`)
@Check('chk_room_assignments_role', `"role" IN ('gestionnaire_des_salles', 'controlleur_des_badges')`)
export class RoomAssignment extends BaseEntity {
  @Column({ type: 'uuid' })
  eventId: string;

  @ManyToOne(() => Event, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id' })
  event?: Event;

  @Column({ type: 'uuid' })
  roomId: string;

  @ManyToOne(() => Room, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'room_id' })
  room?: Room;

  @Column({ type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ type: 'varchar', length: 32 })
  role: RoomStaffRole;

  @Column({ type: 'timestamptz' })
  startTime: Date;

  @Column({ type: 'timestamptz' })
  endTime: Date;

  @Column({ type: 'boolean', default: true })
  isActive: boolean;

  @Column({ type: 'uuid', nullable: true })
  assignedById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'assigned_by_id' })
  assignedBy?: User;
}
