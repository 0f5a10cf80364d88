import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from '../../../database/base.entity';
import { Event } from '../../events/entities/event.entity';
import { EventSession } from '../../sessions/entities/event-session.entity';
import { User } from '../../users/entities/user.entity';

export const QUESTION_STATUSES = ['pending', 'approved', 'answered', 'hidden'] as const;
export type QuestionStatus = (typeof QUESTION_STATUSES)[number];
export const QUESTION_MAX = 1000;
export const ANSWER_MAX = 5000;

/** A question asked in a session. `upvotes` counts the rows of `question_upvotes`, kept in the same statements. */
@Entity('questions')
@Index('idx_questions_event_id_session_id', ['eventId', 'sessionId'])
@Index('idx_questions_event_id_asked_by_id_created_at', ['eventId', 'askedById', 'createdAt'])
@Check('chk_questions_status', `"status" IN ('pending', 'approved', 'answered', 'hidden')`)
@Check('chk_questions_upvotes', `"upvotes" >= 0`)
export class Question extends BaseEntity {
  @Column({ type: 'uuid' })
  eventId: string;

  @ManyToOne(() => Event, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id' })
  event?: Event;

  @Column({ type: 'uuid' })
  sessionId: string;

  @ManyToOne(() => EventSession, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: EventSession;

  @Column({ type: 'uuid', nullable: true })
  askedById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'asked_by_id' })
  askedBy?: User;

  @Column({ type: 'varchar', length: QUESTION_MAX })
  questionText: string;

  @Column({ type: 'boolean', default: false })
  isAnonymous: boolean;

  @Column({ type: 'varchar', length: 10 })
  status: QuestionStatus;

  @Column({ type: 'integer', default: 0 })
  upvotes: number;

  @Column({ type: 'text', nullable: true })
  answerText: string | null;

  @Column({ type: 'uuid', nullable: true })
  answeredById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'answered_by_id' })
  answeredBy?: User;

  @Column({ type: 'timestamptz', nullable: true })
  answeredAt: Date | null;
}
