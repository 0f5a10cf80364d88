import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Event } from '../../events/entities/event.entity';
import { RoomAccessLog } from './room-access-log.entity';

export const CONFLICT_KINDS = ['double_entry', 'decision_mismatch'] as const;
export type ConflictKind = (typeof CONFLICT_KINDS)[number];

/**
 * A scan flagged by offline sync. `double_entry`: the badge was let in again (another device, same room) while
 * already inside; the later scan by device time is flagged and `other_access_id` names the canonical one.
 * `decision_mismatch`: the device let someone in whom the server would have refused.
 */
@Entity('access_conflicts')
@Index('uq_access_conflicts_event_access_kind', ['eventId', 'accessId', 'kind'], { unique: true })
@Index('idx_access_conflicts_event_id_detected_at', ['eventId', 'detectedAt'])
@Check('chk_access_conflicts_kind', `"kind" IN ('double_entry', 'decision_mismatch')`)
export class AccessConflict {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  eventId: string;

  @ManyToOne(() => Event, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id' })
  event?: Event;

  /** The flagged scan. */
  @Column({ type: 'uuid' })
  accessId: string;

  @ManyToOne(() => RoomAccessLog, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'access_id' })
  access?: RoomAccessLog;

  /** The scan it conflicts with (the canonical entry), for double entries. */
  @Column({ type: 'uuid', nullable: true })
  otherAccessId: string | null;

  @ManyToOne(() => RoomAccessLog, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'other_access_id' })
  otherAccess?: RoomAccessLog;

  @Column({ type: 'varchar', length: 24 })
  kind: ConflictKind;

  @CreateDateColumn({ type: 'timestamptz' })
  detectedAt: Date;
}
