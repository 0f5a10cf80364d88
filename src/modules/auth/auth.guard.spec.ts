import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import type { FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';
import {
  Authenticated,
  BotToken,
  EventCreator,
  EventRoles,
  Public,
  SelectionToken,
} from '../../common/auth/auth.decorators';
import { BotTokenVerifier, type BotContext } from '../../common/auth/bot-auth';
import { AppException, ErrorCode, unauthorized } from '../../common/errors/app.exception';
import { DomainEvents } from '../../common/events/domain-events';
import { loadConfig } from '../../config/app-config';
import type { AssignmentsService } from '../assignments/assignments.service';
import { AuthGuard } from './auth.guard';
import { SessionStateCache } from './session-state.cache';
import { SessionsService, type SessionState } from './sessions.service';

const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'unit-test-secret-unit-test-secret-0123' });
const jwt = new JwtService({ secret: config.jwtSecret, signOptions: { algorithm: 'HS256' } });
const EVENT = '11111111-1111-4111-8111-111111111111';
const USER = '22222222-2222-4222-8222-222222222222';
const SID = '33333333-3333-4333-8333-333333333333';

class Routes {
  @Public() open() {}
  @Authenticated() mine() {}
  @SelectionToken() select() {}
  @EventRoles('organisateur') organizerOnly() {}
  @EventCreator() createEvent() {}
  @BotToken() bot() {}
  undeclared() {}
}

/** The creator policy is covered end to end; these cases never reach it. */
const organizerNowhere = { isOrganizerAnywhere: async () => false } as unknown as AssignmentsService;

const baseState: SessionState = {
  userId: USER,
  eventId: EVENT,
  revoked: false,
  userActive: true,
  isStaff: false,
  role: 'participant',
  membershipActive: true,
};

const BOT: BotContext = { tokenId: SID, eventId: EVENT, channelIds: [] };
/** Knows one bot token, `good`. */
class FakeBots extends BotTokenVerifier {
  async verify(token: string): Promise<BotContext> {
    if (token !== 'good') throw unauthorized(ErrorCode.TOKEN_INVALID, 'Unknown or revoked bot token');
    return BOT;
  }
}

const noCache = new SessionStateCache(new DomainEvents(), { ...config, authCacheTtlMs: 0 });

function sessionsWith(state: SessionState | null): SessionsService {
  const sessions = new SessionsService(jwt, {} as DataSource, config, new DomainEvents());
  sessions.state = async () => state;
  sessions.passwordHashOf = async () => 'hash';
  return sessions;
}

function context(
  handler: keyof Routes,
  token?: string,
  headers: Record<string, string> = {},
): { ctx: ExecutionContext; request: FastifyRequest } {
  const request = { headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } } as FastifyRequest;
  const ctx = {
    getType: () => 'http',
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  return { ctx, request };
}

const access = (claims: Partial<Record<string, unknown>> = {}, options: object = {}) =>
  jwt.sign({ sub: USER, sid: SID, event_id: EVENT, jti: 'j', typ: 'access', ...claims }, { expiresIn: 60, ...options });

async function refusal(promise: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AppException, `expected an AppException, got ${String(error)}`);
    return { status: error.getStatus(), code: error.code };
  }
  assert.fail('expected the guard to refuse');
}

describe('AuthGuard', () => {
  const guard = (state: SessionState | null = baseState) =>
    new AuthGuard(new Reflector(), sessionsWith(state), organizerNowhere, noCache, new FakeBots());

  it('refuses a route that declares no policy, even with a valid token (deny by default)', async () => {
    const { ctx } = context('undeclared', access());
    assert.deepEqual(await refusal(guard().canActivate(ctx)), { status: 403, code: 'FORBIDDEN' });
  });

  it('lets public routes through without a token', async () => {
    assert.equal(await guard().canActivate(context('open').ctx), true);
  });

  it('asks for a token on protected routes', async () => {
    assert.deepEqual(await refusal(guard().canActivate(context('mine').ctx)), { status: 401, code: 'AUTH_REQUIRED' });
  });

  it('checks the role in the event of the token', async () => {
    const { ctx } = context('organizerOnly', access());
    assert.deepEqual(await refusal(guard().canActivate(ctx)), { status: 403, code: 'FORBIDDEN' });
    const allowed = context('organizerOnly', access());
    assert.equal(await guard({ ...baseState, role: 'organisateur' }).canActivate(allowed.ctx), true);
    assert.equal(allowed.request.auth?.eventId, EVENT);
    assert.equal(allowed.request.auth?.role, 'organisateur');
  });

  it('lets staff and organisateurs of any event create events, and nobody else', async () => {
    const organizerSomewhere = { isOrganizerAnywhere: async () => true } as unknown as AssignmentsService;
    const cases: [SessionState, AssignmentsService, boolean][] = [
      [baseState, organizerNowhere, false],
      [{ ...baseState, isStaff: true }, organizerNowhere, true],
      [baseState, organizerSomewhere, true],
    ];
    for (const [state, assignments, allowed] of cases) {
      const run = new AuthGuard(new Reflector(), sessionsWith(state), assignments, noCache, new FakeBots()).canActivate(
        context('createEvent', access()).ctx,
      );
      if (allowed) assert.equal(await run, true);
      else assert.deepEqual(await refusal(run), { status: 403, code: 'FORBIDDEN' });
    }
  });

  it('refuses event routes to a token without a selected event', async () => {
    const { ctx } = context('organizerOnly', access({ event_id: null }));
    const state = { ...baseState, eventId: null, role: null, membershipActive: false };
    assert.deepEqual(await refusal(guard(state).canActivate(ctx)), { status: 403, code: 'EVENT_REQUIRED' });
  });

  it('ends at once for a revoked session, a removed membership or a deactivated user', async () => {
    const cases: [Partial<SessionState> | null, string][] = [
      [null, 'TOKEN_INVALID'],
      [{ revoked: true }, 'TOKEN_INVALID'],
      [{ eventId: '44444444-4444-4444-8444-444444444444' }, 'TOKEN_INVALID'],
      [{ membershipActive: false, role: null }, 'MEMBERSHIP_REVOKED'],
      [{ userActive: false }, 'MEMBERSHIP_REVOKED'],
    ];
    for (const [patch, code] of cases) {
      const state = patch === null ? null : { ...baseState, ...patch };
      const { ctx } = context('mine', access());
      assert.deepEqual(await refusal(guard(state).canActivate(ctx)), { status: 401, code }, JSON.stringify(patch));
    }
  });

  it('refuses forged, expired, unsigned and wrong-kind tokens', async () => {
    const other = new JwtService({ secret: 'another-secret-another-secret-0123456' });
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ sub: USER, sid: SID, event_id: EVENT, typ: 'access' })).toString(
      'base64url',
    );
    const tokens = [
      'not-a-jwt',
      other.sign({ sub: USER, sid: SID, event_id: EVENT, typ: 'access' }),
      `${header}.${body}.`,
      access({}, { expiresIn: -10 }),
      jwt.sign({ sub: USER, typ: 'select' }),
    ];
    for (const token of tokens) {
      const { ctx } = context('mine', token);
      assert.deepEqual(await refusal(guard().canActivate(ctx)), { status: 401, code: 'TOKEN_INVALID' }, token);
    }
  });

  it('takes only selection tokens on the selection route', async () => {
    const sessions = sessionsWith(baseState);
    const ok = context('select', sessions.signSelection(USER, 'hash'));
    assert.equal(await guard().canActivate(ok.ctx), true);
    assert.equal(ok.request.auth?.userId, USER);
    const { ctx } = context('select', access());
    assert.deepEqual(await refusal(guard().canActivate(ctx)), { status: 401, code: 'TOKEN_INVALID' });
  });

  it('takes only X-Bot-Token on bot routes: missing → AUTH_REQUIRED, unknown → TOKEN_INVALID, a bearer opens nothing', async () => {
    assert.deepEqual(await refusal(guard().canActivate(context('bot').ctx)), { status: 401, code: 'AUTH_REQUIRED' });
    const withBearer = context('bot', access());
    assert.deepEqual(await refusal(guard().canActivate(withBearer.ctx)), { status: 401, code: 'AUTH_REQUIRED' });
    const wrong = context('bot', undefined, { 'x-bot-token': 'bad' });
    assert.deepEqual(await refusal(guard().canActivate(wrong.ctx)), { status: 401, code: 'TOKEN_INVALID' });
    const ok = context('bot', undefined, { 'x-bot-token': 'good' });
    assert.equal(await guard().canActivate(ok.ctx), true);
    assert.deepEqual(ok.request.bot, BOT);
    assert.equal(ok.request.auth, undefined, 'no user is authenticated by a bot token');
  });

  it('a bot token opens no user route', async () => {
    const { ctx } = context('mine', undefined, { 'x-bot-token': 'good' });
    assert.deepEqual(await refusal(guard().canActivate(ctx)), { status: 401, code: 'AUTH_REQUIRED' });
  });
});
