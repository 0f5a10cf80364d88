import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from '../../../database/base.entity';
import { Event } from '../../events/entities/event.entity';
import { User } from '../../users/entities/user.entity';

export const ANNONCE_TARGETS = [
  'all',
  'participants',
  'exposants',
  'controlleurs',
  'gestionnaires',
  'organisateurs',
] as const;
export type AnnonceTarget = (typeof ANNONCE_TARGETS)[number];

export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 5000;

/**
 * An announcement to the people of an event: a role target, optionally narrowed to the people inside some rooms or
 * with access to some sessions (then the recipients are fixed when it is published). Published once, at
 * `publish_at`, by whichever instance claims it first (`published_at` is the claim).
 */
@Entity('annonces')
@Index('idx_annonces_event_id_published_at', ['eventId', 'publishedAt'])
@Index('idx_annonces_due', ['publishAt'], { where: '"published_at" IS NULL' })
@Check(
  'chk_annonces_target',
  `"target" IN ('all', 'participants', 'exposants', 'controlleurs', 'gestionnaires', 'organisateurs')`,
)
export class Annonce extends BaseEntity {
  @Column({ type: 'uuid' })
  eventId: string;

  @ManyToOne(() => Event, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id' })
  event?: Event;

  @Column({ type: 'varchar', length: TITLE_MAX })
  title: string;

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ type: 'varchar', length: 16, default: 'all' })
  target: AnnonceTarget;

  @Column({ type: 'uuid', array: true, default: () => "'{}'" })
  targetRooms: string[];

  @Column({ type: 'uuid', array: true, default: () => "'{}'" })
  targetSessions: string[];

  @Column({ type: 'timestamptz' })
  publishAt: Date;

  /** Set once, by the publication (the scheduler's claim). */
  @Column({ type: 'timestamptz', nullable: true })
  publishedAt: Date | null;

  /** For an annonce narrowed to rooms or sessions: who it reached at publication; null for a role target. */
  @Column({ type: 'uuid', array: true, nullable: true })
  recipients: string[] | null;

  @Column({ type: 'uuid', nullable: true })
  createdById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by_id' })
  createdBy?: User;
}
