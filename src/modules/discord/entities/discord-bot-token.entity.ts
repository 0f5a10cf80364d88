import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Event } from '../../events/entities/event.entity';
import { User } from '../../users/entities/user.entity';

/**
 * A token a Discord bot sends as `X-Bot-Token` to act for one event. Only the SHA-256 of the token is kept: the token
 * is 256 random bits, so a plain hash cannot be reversed by guessing, and a lookup by hash is one index probe.
 */
@Entity('discord_bot_tokens')
@Index('idx_discord_bot_tokens_event_id_created_at', ['eventId', 'createdAt'])
export class DiscordBotToken {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  eventId: string;

  @ManyToOne(() => Event, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id' })
  event?: Event;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** Hex SHA-256 of the token. */
  @Index('uq_discord_bot_tokens_token_hash', { unique: true })
  @Column({ type: 'char', length: 64 })
  tokenHash: string;

  /** Discord channels where the bot answers for this event (`events/channel/{channel_id}/`). */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  channelIds: string[];

  @Column({ type: 'uuid', nullable: true })
  createdById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by_id' })
  createdBy?: User;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  /** Set by revocation; a revoked token is refused at once (no cache). */
  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;
}
