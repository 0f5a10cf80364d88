import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { EVENT_ROLES_SQL, type EventRole } from '../../../common/auth/event-role';
import { Event } from '../../events/entities/event.entity';
import { User } from '../../users/entities/user.entity';

/** The role of one user in one event. */
@Entity('user_event_assignments')
@Index('uq_assignments_event_user', ['eventId', 'userId'], { unique: true })
@Index('idx_assignments_user_id', ['userId'])
@Index('idx_assignments_event_id_role', ['eventId', 'role'])
@Check('chk_assignments_role', `"role" IN (${EVENT_ROLES_SQL})`)
export class UserEventAssignment {
  @PrimaryGeneratedColumn('uuid')
  id: string;

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

  @Column({ type: 'varchar', length: 32 })
  role: EventRole;

  @Column({ type: 'boolean', default: true })
  isActive: boolean;

  @CreateDateColumn({ type: 'timestamptz' })
  assignedAt: Date;

  @Column({ type: 'uuid', nullable: true })
  assignedById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'assigned_by_id' })
  assignedBy?: User;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
