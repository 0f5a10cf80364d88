import { Check, Column, Entity, Index } from 'typeorm';
import { BaseEntity } from '../../../database/base.entity';

@Entity('users')
@Check('chk_users_email_lowercase', `"email" = lower("email")`)
@Check('chk_users_email_or_discord', `"email" IS NOT NULL OR "discord_user_id" IS NOT NULL`)
export class User extends BaseEntity {
  /**
   * Always stored lower-cased so that uniqueness is case-insensitive. Null for a Discord-only account (created by the
   * Discord bot's `users/register/`), which cannot log in until it is given an email.
   */
  @Index('uq_users_email', { unique: true })
  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  /** argon2id hash; null for an account created by an organizer and not yet claimed by registration. */
  @Column({ type: 'text', nullable: true })
  passwordHash: string | null;

  @Column({ type: 'varchar', length: 150, default: '' })
  firstName: string;

  @Column({ type: 'varchar', length: 150, default: '' })
  lastName: string;

  @Column({ type: 'boolean', default: false })
  isStaff: boolean;

  @Column({ type: 'boolean', default: true })
  isActive: boolean;

  @Index('uq_users_discord_user_id', { unique: true, where: '"discord_user_id" IS NOT NULL' })
  @Column({ type: 'varchar', length: 32, nullable: true })
  discordUserId: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  discordUsername: string | null;

  /**
   * The one-time code the user gives the Discord bot (`!link <code>`) to link their Discord account to this one:
   * its SHA-256, never the code, and when it expires. Not loaded unless asked for.
   */
  @Index('uq_users_discord_link_code_hash', { unique: true, where: '"discord_link_code_hash" IS NOT NULL' })
  @Column({ type: 'varchar', length: 64, nullable: true, select: false })
  discordLinkCodeHash: string | null;

  @Column({ type: 'timestamptz', nullable: true, select: false })
  discordLinkExpiresAt: Date | null;
}
