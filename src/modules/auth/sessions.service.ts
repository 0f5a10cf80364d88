import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, Not, type EntityManager } from 'typeorm';
import type { EventRole } from '../../common/auth/event-role';
import { ErrorCode, unauthorized } from '../../common/errors/app.exception';
import { DomainEvents } from '../../common/events/domain-events';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AuthSession } from './entities/auth-session.entity';
import { RefreshToken } from './entities/refresh-token.entity';

export interface TokenPair {
  access: string;
  refresh: string;
}

/** How many verified access tokens are remembered (a few MB at most). */
const VERIFIED_ACCESS_CACHE_SIZE = 10_000;

type VerifiedAccess = Readonly<AccessClaims & { exp: number }>;

export interface AccessClaims {
  sub: string;
  sid: string;
  event_id: string | null;
  jti: string;
  typ: 'access';
}

interface SelectionClaims {
  sub: string;
  typ: 'select';
  /** Stamp of the password the token was earned with: a password change voids pending selections. */
  pwd: string;
}

/** What the guard needs to know about a session, read in one query. */
export interface SessionState {
  userId: string;
  eventId: string | null;
  revoked: boolean;
  userActive: boolean;
  isStaff: boolean;
  role: EventRole | null;
  membershipActive: boolean;
}

export type RevokeReason = 'logout' | 'refresh_reuse' | 'password_change' | 'event_switch';

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Claims reach SQL as uuid parameters: anything else would be a database error instead of a 401. */
const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

/**
 * Auth sessions, their refresh-token families and the JWTs that name them. Access tokens are short-lived JWTs that
 * carry `sid`; the guard checks the session on every request, so revocation is immediate.
 */
@Injectable()
export class SessionsService {
  /**
   * Access tokens whose signature and shape were checked, until they expire: a scanner sends the same token with
   * every scan, and the HMAC check was a noticeable share of a scan's CPU. Only the token is vouched for here;
   * whether its session is still live is asked every time (`AuthGuard.current`).
   */
  private readonly verifiedAccess = new Map<string, VerifiedAccess>();

  constructor(
    private readonly jwt: JwtService,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly events: DomainEvents,
  ) {}

  /**
   * A new session. With `passwordHash` (a login), only while the account still has the password that was checked: the
   * row is read `FOR SHARE`, so a password change either waits for this session to commit (and then revokes it) or
   * has committed first (and the login is refused), never a session that outlives the change.
   */
  async open(
    userId: string,
    eventId: string | null,
    userAgent?: string,
    passwordHash?: string | null,
  ): Promise<TokenPair> {
    return this.dataSource.transaction(async (manager) => {
      if (passwordHash !== undefined) {
        const same: unknown[] = await manager.query(
          'SELECT 1 FROM users WHERE id = $1 AND password_hash IS NOT DISTINCT FROM $2 AND is_active FOR SHARE',
          [userId, passwordHash],
        );
        if (same.length === 0) throw unauthorized(ErrorCode.INVALID_CREDENTIALS, 'Invalid email or password');
      }
      const sessionId = randomUUID();
      await manager.insert(AuthSession, {
        id: sessionId,
        userId,
        eventId,
        userAgent: userAgent?.slice(0, 255) ?? null,
      });
      return this.issue(manager, sessionId, userId, eventId);
    });
  }

  /**
   * Spends a refresh token and issues the next pair of the same session. The spend is a conditional update, so of two
   * concurrent uses exactly one succeeds; presenting a spent token again revokes the whole family.
   */
  async rotate(refresh: string): Promise<TokenPair> {
    const hash = sha256(refresh);
    const pair = await this.dataSource.transaction(async (manager) => {
      // TypeORM answers a raw UPDATE with `[rows, affectedCount]`, not with the rows.
      const [spent]: [{ session_id: string }[], number] = await manager.query(
        `UPDATE refresh_tokens SET used_at = now()
          WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
            AND session_id IN (SELECT id FROM auth_sessions WHERE created_at > now() - make_interval(secs => $2))
          RETURNING session_id`,
        [hash, this.config.sessionMaxAgeSec],
      );
      const sessionId = spent[0]?.session_id;
      if (!sessionId) return null;
      const state = await this.state(sessionId, manager);
      // Throwing rolls the spend back: a token of an ended session is not a replay, only a dead token.
      if (!state || state.revoked) throw unauthorized(ErrorCode.TOKEN_INVALID, 'Session has ended');
      if (!state.userActive || (state.eventId !== null && !state.membershipActive)) {
        throw unauthorized(ErrorCode.MEMBERSHIP_REVOKED, 'Account or event membership is no longer active');
      }
      return this.issue(manager, sessionId, state.userId, state.eventId);
    });
    if (pair) return pair;
    const known = await this.dataSource
      .getRepository(RefreshToken)
      .findOneBy({ tokenHash: hash, usedAt: Not(IsNull()) });
    if (known) {
      await this.revoke(known.sessionId, 'refresh_reuse');
      throw unauthorized(ErrorCode.TOKEN_INVALID, 'Refresh token already used: the session has been revoked');
    }
    throw unauthorized(ErrorCode.TOKEN_INVALID, 'Refresh token is invalid or expired');
  }

  async revoke(sessionId: string, reason: RevokeReason): Promise<void> {
    await this.dataSource
      .getRepository(AuthSession)
      .update({ id: sessionId, revokedAt: IsNull() }, { revokedAt: new Date(), revokedReason: reason });
    // Sockets opened with the session's tokens close too (on every instance).
    await this.events.publish('auth.revoked', { sessionId });
  }

  /** Revokes the session that a refresh token belongs to, if it is the user's. */
  async revokeByRefresh(userId: string, refresh: string, reason: RevokeReason): Promise<void> {
    const token = await this.dataSource.getRepository(RefreshToken).findOneBy({ tokenHash: sha256(refresh) });
    if (!token) return;
    const result = await this.dataSource
      .getRepository(AuthSession)
      .update({ id: token.sessionId, userId, revokedAt: IsNull() }, { revokedAt: new Date(), revokedReason: reason });
    if (result.affected) await this.events.publish('auth.revoked', { sessionId: token.sessionId });
  }

  async revokeAllOfUser(userId: string, exceptSessionId: string | null, reason: RevokeReason): Promise<void> {
    await this.dataSource.query(
      `UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $3
        WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2::uuid)`,
      [userId, exceptSessionId, reason],
    );
    await this.events.publish('auth.revoked', { userId, exceptSessionId });
  }

  /**
   * Session, user and membership in one indexed round trip: it runs on every authenticated request. It reads the
   * users and assignments tables directly for that reason.
   */
  async state(sessionId: string, manager: EntityManager = this.dataSource.manager): Promise<SessionState | null> {
    const rows: {
      user_id: string;
      event_id: string | null;
      revoked: boolean;
      user_active: boolean;
      is_staff: boolean;
      role: EventRole | null;
      membership_active: boolean | null;
    }[] = await manager.query(
      `SELECT s.user_id, s.event_id, s.revoked_at IS NOT NULL AS revoked, u.is_active AS user_active, u.is_staff,
              a.role, a.is_active AS membership_active
         FROM auth_sessions s
         JOIN users u ON u.id = s.user_id
         LEFT JOIN user_event_assignments a ON a.event_id = s.event_id AND a.user_id = s.user_id
        WHERE s.id = $1`,
      [sessionId],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      userId: row.user_id,
      eventId: row.event_id,
      revoked: row.revoked,
      userActive: row.user_active,
      isStaff: row.is_staff,
      role: row.membership_active ? row.role : null,
      membershipActive: row.membership_active === true,
    };
  }

  verifyAccess(token: string): AccessClaims {
    const known = this.verifiedAccess.get(token);
    // Seconds, as jsonwebtoken counts them: a cached token expires at the same moment a fresh check would say so.
    if (known && known.exp > Math.floor(Date.now() / 1000)) return known;
    if (known) this.verifiedAccess.delete(token);
    const claims = this.verify<AccessClaims & { exp?: unknown }>(token);
    if (
      claims.typ !== 'access' ||
      // Every access token the server signs expires; one that never does was not made here.
      typeof claims.exp !== 'number' ||
      !isUuid(claims.sid) ||
      !isUuid(claims.sub) ||
      (claims.event_id !== null && !isUuid(claims.event_id))
    ) {
      throw unauthorized(ErrorCode.TOKEN_INVALID, 'Not an access token');
    }
    if (this.verifiedAccess.size >= VERIFIED_ACCESS_CACHE_SIZE) {
      // The oldest entry goes (a Map iterates in insertion order).
      this.verifiedAccess.delete(this.verifiedAccess.keys().next().value as string);
    }
    const verified: VerifiedAccess = Object.freeze({ ...claims, exp: claims.exp });
    this.verifiedAccess.set(token, verified);
    return verified;
  }

  signSelection(userId: string, passwordHash: string | null): string {
    const claims: SelectionClaims = { sub: userId, typ: 'select', pwd: this.passwordStamp(passwordHash) };
    return this.jwt.sign(claims, { expiresIn: this.config.selectionTokenTtlSec, jwtid: randomUUID() });
  }

  /** The user and the token's id and expiry; refuses anything but a live selection token of the current password. */
  async verifySelection(token: string): Promise<{ userId: string; tokenId: string; expiresAt: Date }> {
    const claims = this.verify<SelectionClaims & { jti?: string; exp?: number }>(token);
    if (
      claims.typ !== 'select' ||
      !isUuid(claims.sub) ||
      typeof claims.pwd !== 'string' ||
      !isUuid(claims.jti) ||
      typeof claims.exp !== 'number'
    ) {
      throw unauthorized(ErrorCode.TOKEN_INVALID, 'Not a selection token');
    }
    const hash = await this.passwordHashOf(claims.sub);
    if (hash === undefined || this.passwordStamp(hash) !== claims.pwd) {
      throw unauthorized(ErrorCode.TOKEN_INVALID, 'Selection token is no longer valid');
    }
    return { userId: claims.sub, tokenId: claims.jti, expiresAt: new Date(claims.exp * 1000) };
  }

  /** Marks a selection token used; a second use (also a concurrent one) is refused. Purges expired marks. */
  async spendSelection(tokenId: string, expiresAt: Date): Promise<void> {
    await this.dataSource.query('DELETE FROM spent_selection_tokens WHERE expires_at < now()');
    const spent: unknown[] = await this.dataSource.query(
      'INSERT INTO spent_selection_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING jti',
      [tokenId, expiresAt],
    );
    if (spent.length === 0) throw unauthorized(ErrorCode.TOKEN_INVALID, 'Selection token already used');
  }

  /** The user's password hash; undefined when the user does not exist. */
  async passwordHashOf(userId: string): Promise<string | null | undefined> {
    const rows: { password_hash: string | null }[] = await this.dataSource.query(
      'SELECT password_hash FROM users WHERE id = $1',
      [userId],
    );
    return rows[0]?.password_hash;
  }

  /** Keyed, so the token (readable by its holder) says nothing about the hash. */
  private passwordStamp(passwordHash: string | null): string {
    return createHmac('sha256', this.config.jwtSecret)
      .update(passwordHash ?? '')
      .digest('base64url')
      .slice(0, 22);
  }

  private verify<T extends object>(token: string): T {
    try {
      // HS256 only: refuses `alg: none` and algorithm confusion.
      return this.jwt.verify<T>(token, { algorithms: ['HS256'] });
    } catch (error) {
      const expired = (error as { name?: string }).name === 'TokenExpiredError';
      throw unauthorized(ErrorCode.TOKEN_INVALID, expired ? 'Token expired' : 'Token is invalid');
    }
  }

  private async issue(
    manager: EntityManager,
    sessionId: string,
    userId: string,
    eventId: string | null,
  ): Promise<TokenPair> {
    const refresh = randomBytes(32).toString('base64url');
    await manager.getRepository(RefreshToken).insert({
      sessionId,
      tokenHash: sha256(refresh),
      expiresAt: new Date(Date.now() + this.config.refreshTokenTtlSec * 1000),
    });
    const claims: AccessClaims = { sub: userId, sid: sessionId, event_id: eventId, jti: randomUUID(), typ: 'access' };
    const access = this.jwt.sign(claims, { expiresIn: this.config.accessTokenTtlSec });
    return { access, refresh };
  }
}
