import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AUTH_POLICY, type AuthPolicy } from '../../common/auth/auth.decorators';
import type { AuthContext } from '../../common/auth/auth-context';
import { BOT_TOKEN_HEADER, BotTokenVerifier } from '../../common/auth/bot-auth';
import { AppException, ErrorCode, forbidden, unauthorized } from '../../common/errors/app.exception';
import { AssignmentsService } from '../assignments/assignments.service';
import { SessionStateCache } from './session-state.cache';
import { SessionsService, type AccessClaims } from './sessions.service';

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/**
 * The one global guard. Deny by default: a route must declare its policy. Tokens are checked against the database
 * on every request, so logout, refresh reuse, deactivation and role removal take effect at once.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionsService,
    private readonly assignments: AssignmentsService,
    private readonly cache: SessionStateCache,
    private readonly bots: BotTokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const policy = this.reflector.getAllAndOverride<AuthPolicy | undefined>(AUTH_POLICY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!policy) throw forbidden('This route declares no access policy');
    if (policy.kind === 'public') return true;

    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (policy.kind === 'bot-token') {
      // Only the bot header counts here: a user's bearer token opens no bot route.
      const botToken = request.headers[BOT_TOKEN_HEADER];
      if (typeof botToken !== 'string' || botToken === '') {
        throw unauthorized(ErrorCode.AUTH_REQUIRED, 'X-Bot-Token header required');
      }
      request.bot = await this.bots.verify(botToken);
      return true;
    }
    const token = bearerToken(request);
    if (!token) throw unauthorized(ErrorCode.AUTH_REQUIRED, 'Authentication required');

    if (policy.kind === 'selection') {
      const { userId, tokenId, expiresAt } = await this.sessions.verifySelection(token);
      request.auth = {
        userId,
        isStaff: false,
        sessionId: null,
        eventId: null,
        role: null,
        selection: { tokenId, expiresAt },
      };
      return true;
    }
    request.auth = await this.authenticate(token);
    if (policy.kind === 'event-creator' && !request.auth.isStaff) {
      if (!(await this.assignments.isOrganizerAnywhere(request.auth.userId))) {
        throw forbidden('Only platform staff and organisateurs can create events');
      }
    }
    if (policy.kind === 'event') {
      if (!request.auth.eventId) throw new AppException(403, ErrorCode.EVENT_REQUIRED, 'Select an event first');
      if (!request.auth.role || !policy.roles.includes(request.auth.role)) throw forbidden();
    }
    return true;
  }

  authenticate(token: string): Promise<AuthContext> {
    return this.current(this.sessions.verifyAccess(token));
  }

  /**
   * What the claims of a verified access token are worth now: the session must be live, and the role is the one the
   * database holds. Sockets call it again for each message they send, long after the handshake's token was checked.
   */
  async current(claims: Pick<AccessClaims, 'sub' | 'sid' | 'event_id'>): Promise<AuthContext> {
    const state = await this.cache.get(claims.sid, () => this.sessions.state(claims.sid));
    if (!state || state.revoked || state.userId !== claims.sub || state.eventId !== claims.event_id) {
      throw unauthorized(ErrorCode.TOKEN_INVALID, 'Session has ended');
    }
    if (!state.userActive || (state.eventId !== null && !state.membershipActive)) {
      throw unauthorized(ErrorCode.MEMBERSHIP_REVOKED, 'Account or event membership is no longer active');
    }
    return {
      userId: state.userId,
      isStaff: state.isStaff,
      sessionId: claims.sid,
      eventId: state.eventId,
      role: state.role,
    };
  }
}
