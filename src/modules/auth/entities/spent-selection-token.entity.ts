import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** The `jti` of each `temp_token` used with select-event: a selection token opens one session, once. */
@Entity('spent_selection_tokens')
@Index('idx_spent_selection_tokens_expires_at', ['expiresAt'])
export class SpentSelectionToken {
  @PrimaryColumn('uuid')
  jti: string;

  /** When the token would have expired anyway: the row is useless after it and is purged. */
  @Column({ type: 'timestamptz' })
  expiresAt: Date;
}
