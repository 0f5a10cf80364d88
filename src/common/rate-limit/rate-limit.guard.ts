import { createHash } from 'node:crypto';
import { Injectable, type ExecutionContext } from '@nestjs/common';
import { normalizeIp, ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerOptions } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import type { RateLimitName } from '../../config/app-config';
import { AUTH_POLICY, type AuthPolicy } from '../auth/auth.decorators';
import { AppException, ErrorCode } from '../errors/app.exception';
import { RATE_LIMITS } from './rate-limit.decorator';
import { RATE_LIMIT_POLICIES } from './rate-limit.policies';

const keyOf = (_context: ExecutionContext, tracker: string, name: string): string => `${name}:${tracker}`;

/** Whom a limit counts for this request; null when the request carries nothing to count (no email in the body). */
function trackerOf(name: RateLimitName, request: FastifyRequest): string | null {
  switch (RATE_LIMIT_POLICIES[name].tracker) {
    case 'ip':
      return normalizeIp(request.ip);
    case 'session': {
      // A bot counts per token: bots behind one address (or NAT) must not share one budget.
      if (request.bot) return `b:${request.bot.tokenId}`;
      const auth = request.auth;
      if (auth?.sessionId) return `s:${auth.sessionId}`;
      return auth ? `u:${auth.userId}` : `ip:${normalizeIp(request.ip)}`;
    }
    case 'user':
      return request.auth ? request.auth.userId : null;
    case 'account': {
      const email = (request.body as { email?: unknown } | undefined)?.email;
      if (typeof email !== 'string' || email.length > 254) return null;
      // Hashed: no email in Redis keys.
      return createHash('sha256').update(email.trim().toLowerCase()).digest('base64url');
    }
  }
}

/**
 * The global rate-limit guard, on @nestjs/throttler: the module holds the limits (RATE_LIMIT_* variables) and the
 * storage (rate-limit.storage.ts); this guard picks the limits of each route once (its `@RateLimit(...)`, else the
 * general limit of its access policy) instead of testing every limit on every request, and answers 429 in the error
 * body of API.md with `Retry-After`. Registered after the auth guard, so that per-session limits see the caller.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private readonly plans = new Map<object, ThrottlerOptions[]>();

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    for (const throttler of this.planOf(context)) {
      const tracker = trackerOf(throttler.name as RateLimitName, request);
      if (tracker === null) continue;
      await this.handleRequest({
        context,
        limit: throttler.limit as number,
        ttl: throttler.ttl as number,
        blockDuration: throttler.ttl as number,
        throttler,
        getTracker: () => tracker,
        generateKey: keyOf,
      });
    }
    return true;
  }

  private planOf(context: ExecutionContext): ThrottlerOptions[] {
    const handler = context.getHandler();
    let plan = this.plans.get(handler);
    if (!plan) {
      const targets = [handler, context.getClass()];
      const policy = this.reflector.getAllAndOverride<AuthPolicy | undefined>(AUTH_POLICY, targets);
      const names = this.reflector.getAllAndOverride<RateLimitName[] | undefined>(RATE_LIMITS, targets) ?? [
        policy?.kind === 'public' ? 'api_ip' : 'api_token',
      ];
      plan = names.map((name) => {
        const throttler = this.throttlers.find((t) => t.name === name);
        if (!throttler) throw new Error(`No rate limit named ${name}`);
        return throttler;
      });
      this.plans.set(handler, plan);
    }
    return plan;
  }

  protected override throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const seconds = Math.max(1, detail.timeToBlockExpire);
    throw new AppException(429, ErrorCode.RATE_LIMITED, `Too many requests: retry in ${seconds} s`, undefined, {
      'Retry-After': String(seconds),
    });
  }
}
