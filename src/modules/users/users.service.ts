import { createHmac, randomInt } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type EntityManager, type Repository } from 'typeorm';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { notFound } from '../../common/errors/app.exception';
import { constraintViolation } from '../../common/errors/database-errors';
import { User } from './entities/user.entity';
import { PasswordHasher } from './password-hasher';

/**
 * The one form an address is stored and looked up in: Unicode NFC (é typed as e + accent is é), without invisible
 * format characters (a zero-width space would make a second account that looks the same), trimmed, lower case.
 */
export const normalizeEmail = (email: string): string =>
  email
    .normalize('NFC')
    .replace(/\p{Cf}/gu, '')
    .trim()
    .toLowerCase();

export interface NewUser {
  email: string;
  firstName?: string;
  lastName?: string;
  password?: string | null;
  isStaff?: boolean;
}

/** Link codes: no 0/O, 1/I/L look-alikes; read aloud or typed from a phone. */
const LINK_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const DISCORD_LINK_TTL_MS = 10 * 60_000;

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly hasher: PasswordHasher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Creates the staff user of ADMIN_EMAIL / ADMIN_PASSWORD when it does not exist yet. */
  async onApplicationBootstrap(): Promise<void> {
    const { adminEmail, adminPassword } = this.config;
    if (!adminEmail || !adminPassword) return;
    const passwordHash = await this.hasher.hash(adminPassword);
    const result = await this.users
      .createQueryBuilder()
      .insert()
      .values({ email: adminEmail, passwordHash, isStaff: true, firstName: 'Admin', lastName: '' })
      .orIgnore()
      .execute();
    if (result.identifiers.length > 0 && result.identifiers[0]) {
      this.logger.log(`Created staff user ${adminEmail}`);
      return;
    }
    const existing = await this.findByEmail(adminEmail);
    if (existing && (!existing.isStaff || existing.passwordHash === null)) {
      this.logger.warn(
        `ADMIN_EMAIL ${adminEmail} already belongs to an account that is not a usable staff account; it was left unchanged`,
      );
    }
  }

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  async getById(id: string): Promise<User> {
    const user = await this.findById(id);
    if (!user) throw notFound('User');
    return user;
  }

  findByEmail(email: string): Promise<User | null> {
    return this.users.findOneBy({ email: normalizeEmail(email) });
  }

  async create(input: NewUser, manager?: EntityManager): Promise<User> {
    const repo = manager ? manager.getRepository(User) : this.users;
    const passwordHash = input.password ? await this.hasher.hash(input.password) : null;
    return repo.save(
      repo.create({
        email: normalizeEmail(input.email),
        firstName: input.firstName?.trim() ?? '',
        lastName: input.lastName?.trim() ?? '',
        passwordHash,
        isStaff: input.isStaff ?? false,
      }),
    );
  }

  /**
   * The account of this email, creating a password-less one when there is none (an organizer adding someone who
   * has not registered yet). Safe when two requests add the same new email at once.
   */
  async findOrCreateByEmail(input: Omit<NewUser, 'password'>, manager?: EntityManager): Promise<User> {
    const repo = manager ? manager.getRepository(User) : this.users;
    const email = normalizeEmail(input.email);
    await repo
      .createQueryBuilder()
      .insert()
      .values({ email, firstName: input.firstName?.trim() ?? '', lastName: input.lastName?.trim() ?? '' })
      .orIgnore()
      .execute();
    return repo.findOneByOrFail({ email });
  }

  findByDiscordId(discordUserId: string): Promise<User | null> {
    return this.users.findOneBy({ discordUserId });
  }

  /**
   * The account linked to this Discord id, creating a Discord-only one (no email, no password) when there is none;
   * an existing account is not changed (`refreshDiscordUsername` once the request is accepted). Safe when two requests
   * register the same Discord user at once (the unique index decides).
   */
  async findOrCreateByDiscord(input: {
    discordUserId: string;
    discordUsername: string;
    name: string;
  }): Promise<{ user: User; created: boolean }> {
    const [firstName = '', ...rest] = input.name.trim().split(/\s+/);
    const rows: { id: string }[] = await this.users.query(
      `INSERT INTO users (discord_user_id, discord_username, first_name, last_name) VALUES ($1, $2, $3, $4)
       ON CONFLICT (discord_user_id) WHERE discord_user_id IS NOT NULL DO NOTHING
       RETURNING id`,
      [input.discordUserId, input.discordUsername, firstName, rest.join(' ')],
    );
    const created = rows[0];
    if (created) return { user: await this.users.findOneByOrFail({ id: created.id }), created: true };
    return { user: await this.users.findOneByOrFail({ discordUserId: input.discordUserId }), created: false };
  }

  /** The Discord username as Discord now gives it, written only when it changed. */
  async refreshDiscordUsername(user: User, discordUsername: string): Promise<void> {
    if (user.discordUsername === discordUsername) return;
    await this.users.update({ id: user.id }, { discordUsername });
    user.discordUsername = discordUsername;
  }

  /**
   * A new one-time code for linking a Discord account (`!link <code>` to the bot): 8 characters without look-alikes
   * (40 bits), valid DISCORD_LINK_TTL_MS; asking again replaces it. Only its hash is stored.
   */
  async issueDiscordLinkCode(userId: string): Promise<{ code: string; expires_at: Date }> {
    const code = Array.from({ length: 8 }, () => LINK_ALPHABET[randomInt(LINK_ALPHABET.length)]).join('');
    const expires = new Date(Date.now() + DISCORD_LINK_TTL_MS);
    await this.users.update(
      { id: userId },
      { discordLinkCodeHash: this.linkCodeHash(code), discordLinkExpiresAt: expires },
    );
    return { code, expires_at: expires };
  }

  /**
   * Links the Discord account to the (active) account whose code this is, in one conditional UPDATE that also spends
   * the code: `invalid` for an unknown, spent or expired code, `taken` when another account has this Discord id.
   */
  async linkDiscord(
    code: string,
    discordUserId: string,
    discordUsername: string,
  ): Promise<{ result: 'linked'; user: User } | { result: 'invalid' | 'taken' }> {
    let rows: { id: string }[];
    try {
      [rows] = await this.users.query(
        `UPDATE users SET discord_user_id = $2, discord_username = $3, discord_link_code_hash = NULL,
                          discord_link_expires_at = NULL, updated_at = now()
          WHERE discord_link_code_hash = $1 AND discord_link_expires_at > now() AND is_active
          RETURNING id`,
        [this.linkCodeHash(code), discordUserId, discordUsername],
      );
    } catch (error) {
      const violation = constraintViolation(error);
      if (violation?.kind === 'unique' && violation.constraint === 'uq_users_discord_user_id')
        return { result: 'taken' };
      throw error;
    }
    const id = rows[0]?.id;
    return id ? { result: 'linked', user: await this.users.findOneByOrFail({ id }) } : { result: 'invalid' };
  }

  /**
   * A keyed hash (HMAC with the server's JWT secret), not a bare SHA-256: 8 characters are few enough that whoever
   * read the table could otherwise find a live code by trying them all.
   */
  private linkCodeHash(code: string): string {
    return createHmac('sha256', this.config.jwtSecret).update(code.trim().toUpperCase()).digest('hex');
  }

  /** The user a request body names: an existing `user_id` (else 404), or the account of an `email`, created when new. */
  resolveReference(
    ref: { user_id?: string; email?: string; first_name?: string; last_name?: string },
    manager?: EntityManager,
  ): Promise<User> {
    if (ref.user_id !== undefined) {
      const repo = manager ? manager.getRepository(User) : this.users;
      return repo.findOneBy({ id: ref.user_id }).then((user) => user ?? Promise.reject(notFound('User')));
    }
    return this.findOrCreateByEmail(
      { email: ref.email as string, firstName: ref.first_name, lastName: ref.last_name },
      manager,
    );
  }

  /**
   * Bulk form of `findOrCreateByEmail` for imports: creates the missing accounts (password-less) and brings the names
   * of unclaimed ones up to date, unless they belong to another event too (an organizer renames only people of their
   * own event); claimed accounts keep the names their owners chose. Returns email → user id.
   */
  async upsertUnclaimed(
    manager: EntityManager,
    eventId: string,
    rows: { email: string; firstName: string; lastName: string }[],
  ): Promise<Map<string, string>> {
    const emails = rows.map((r) => normalizeEmail(r.email));
    const firsts = rows.map((r) => r.firstName.trim());
    const lasts = rows.map((r) => r.lastName.trim());
    await manager.query(
      `INSERT INTO users (email, first_name, last_name)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT (email) DO NOTHING`,
      [emails, firsts, lasts],
    );
    await manager.query(
      `UPDATE users u SET first_name = r.f, last_name = r.l, updated_at = now()
         FROM unnest($1::text[], $2::text[], $3::text[]) AS r(e, f, l)
        WHERE u.email = r.e AND u.password_hash IS NULL AND (r.f <> '' OR r.l <> '')
          AND (u.first_name, u.last_name) IS DISTINCT FROM (r.f, r.l)
          AND NOT EXISTS (SELECT 1 FROM user_event_assignments a WHERE a.user_id = u.id AND a.event_id <> $4)`,
      [emails, firsts, lasts, eventId],
    );
    const found: { id: string; email: string }[] = await manager.query(
      'SELECT id, email FROM users WHERE email = ANY($1::text[])',
      [emails],
    );
    return new Map(found.map((u) => [u.email, u.id]));
  }

  /** Sets the password of an active password-less account; null if someone claimed it first or it is deactivated. */
  async claim(email: string, password: string, firstName: string, lastName: string): Promise<User | null> {
    const passwordHash = await this.hasher.hash(password);
    const result = await this.users.update(
      { email: normalizeEmail(email), passwordHash: IsNull(), isActive: true },
      { passwordHash, firstName: firstName.trim(), lastName: lastName.trim() },
    );
    return result.affected ? this.findByEmail(email) : null;
  }

  async updateNames(id: string, names: { firstName?: string; lastName?: string }): Promise<User> {
    const patch: Partial<User> = {};
    if (names.firstName !== undefined) patch.firstName = names.firstName.trim();
    if (names.lastName !== undefined) patch.lastName = names.lastName.trim();
    if (Object.keys(patch).length > 0) await this.users.update({ id }, patch);
    return this.getById(id);
  }

  async setPassword(id: string, password: string): Promise<void> {
    await this.users.update({ id }, { passwordHash: await this.hasher.hash(password) });
  }

  verifyPassword(user: User | null, password: string): Promise<boolean> {
    return this.hasher.verify(user?.passwordHash ?? null, password);
  }
}

export function fullName(user: Pick<User, 'firstName' | 'lastName'>): string {
  return `${user.firstName} ${user.lastName}`.trim();
}
