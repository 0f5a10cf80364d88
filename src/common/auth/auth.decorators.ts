import { applyDecorators, createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtension,
  ApiForbiddenResponse,
  ApiSecurity,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AppException, ErrorCode } from '../errors/app.exception';
import type { AuthContext } from './auth-context';
import type { BotContext } from './bot-auth';
import { EVENT_ROLES, type EventRole } from './event-role';

export const AUTH_POLICY = 'makeplus:auth-policy';

/**
 * What a route requires. Every route has exactly one; the guard refuses routes without one (deny by default)
 * and the permission snapshot test lists them all.
 */
export type AuthPolicy =
  | { kind: 'public' }
  | { kind: 'selection' }
  | { kind: 'authenticated' }
  | { kind: 'event-creator' }
  | { kind: 'bot-token' }
  | { kind: 'event'; roles: readonly EventRole[] };

const policy = (p: AuthPolicy) => SetMetadata(AUTH_POLICY, p);

/** No token needed. */
export const Public = () => applyDecorators(policy({ kind: 'public' }), ApiExtension('x-access', 'public'));

/** Takes the short-lived selection token (`temp_token`) of a multi-event login. */
export const SelectionToken = () =>
  applyDecorators(
    policy({ kind: 'selection' }),
    ApiBearerAuth('selection'),
    ApiExtension('x-access', 'selection token'),
    ApiUnauthorizedResponse({ description: 'AUTH_REQUIRED, TOKEN_INVALID' }),
  );

/** Any valid access token, with or without a selected event (own profile, own event lists). */
export const Authenticated = () =>
  applyDecorators(
    policy({ kind: 'authenticated' }),
    ApiBearerAuth('access'),
    ApiExtension('x-access', 'authenticated'),
    ApiUnauthorizedResponse({ description: 'AUTH_REQUIRED, TOKEN_INVALID, MEMBERSHIP_REVOKED' }),
  );

/** Platform staff, or an organisateur of any event (whatever the token's event): who may create events. */
export const EventCreator = () =>
  applyDecorators(
    policy({ kind: 'event-creator' }),
    ApiBearerAuth('access'),
    ApiExtension('x-access', 'staff or organisateur of any event'),
    ApiUnauthorizedResponse({ description: 'AUTH_REQUIRED, TOKEN_INVALID, MEMBERSHIP_REVOKED' }),
    ApiForbiddenResponse({ description: 'FORBIDDEN unless platform staff or an organisateur of some event' }),
  );

/** An access token whose selected event gives the caller one of these roles. */
export const EventRoles = (...roles: EventRole[]) =>
  applyDecorators(
    policy({ kind: 'event', roles }),
    ApiBearerAuth('access'),
    ApiExtension('x-event-roles', roles),
    ApiUnauthorizedResponse({ description: 'AUTH_REQUIRED, TOKEN_INVALID, MEMBERSHIP_REVOKED' }),
    ApiForbiddenResponse({ description: `FORBIDDEN unless the caller is ${roles.join(', ')} of the token's event` }),
  );

/** Any role in the token's event. */
export const EventMember = () => EventRoles(...EVENT_ROLES);

/**
 * An integration's event-scoped bot token in the `X-Bot-Token` header, not a user's bearer token (the Discord bot).
 * The route acts for the token's event (`@CurrentBot()`); no user is authenticated.
 */
export const BotToken = () =>
  applyDecorators(
    policy({ kind: 'bot-token' }),
    ApiSecurity('bot-token'),
    ApiExtension('x-access', 'bot token (X-Bot-Token)'),
    ApiUnauthorizedResponse({ description: 'AUTH_REQUIRED (no X-Bot-Token), TOKEN_INVALID (unknown or revoked)' }),
  );

function authOf(ctx: ExecutionContext): AuthContext {
  const auth = ctx.switchToHttp().getRequest<FastifyRequest>().auth;
  if (!auth) throw new AppException(401, ErrorCode.AUTH_REQUIRED, 'Authentication required');
  return auth;
}

/** The resolved caller. */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthContext => authOf(ctx));

/** The event of the access token: every event-scoped service call takes it. */
export const CurrentEvent = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const { eventId } = authOf(ctx);
  if (!eventId) throw new AppException(403, ErrorCode.EVENT_REQUIRED, 'Select an event first');
  return eventId;
});

/** The bot token of a `@BotToken()` route: the event it acts for. */
export const CurrentBot = createParamDecorator((_: unknown, ctx: ExecutionContext): BotContext => {
  const bot = ctx.switchToHttp().getRequest<FastifyRequest>().bot;
  if (!bot) throw new AppException(401, ErrorCode.AUTH_REQUIRED, 'Bot token required');
  return bot;
});
