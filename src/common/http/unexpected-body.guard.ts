import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { FastifyRequest } from 'fastify';
import { validationFailed } from '../errors/app.exception';

/** Parameter kinds through which a handler reads what was sent: a body DTO, or the request itself (uploads). */
const BODY_READERS = new Set<number>([RouteParamtypes.BODY, RouteParamtypes.RAW_BODY, RouteParamtypes.REQUEST]);

/**
 * A route that takes no body (an action such as `mark_live/`, a DELETE) refuses a non-empty one, like the validation
 * pipe refuses unknown fields of a body it does take (API.md: unknown body fields are a 400, never silently
 * ignored), so that a client who believes it set `attended_at` or `payment_status` learns that it did not. The last
 * guard (registered after the access guards): a caller without the right still gets 401/403 first. A guard rather
 * than an interceptor, since any interceptor puts every request through rxjs (about 4% of a door scan's CPU).
 */
export class UnexpectedBodyGuard implements CanActivate {
  private readonly readsBody = new WeakMap<object, boolean>();

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() === 'http') {
      const body = context.switchToHttp().getRequest<FastifyRequest>().body;
      if (typeof body === 'object' && body !== null && Object.keys(body).length > 0 && !this.takesBody(context)) {
        throw validationFailed(
          Object.fromEntries(Object.keys(body).map((key) => [key, [`property ${key} should not exist`]])),
          'This route takes no body',
        );
      }
    }
    return true;
  }

  private takesBody(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let reads = this.readsBody.get(handler);
    if (reads === undefined) {
      const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ?? {}) as object;
      reads = Object.keys(args).some((key) => BODY_READERS.has(Number(key.split(':')[0])));
      this.readsBody.set(handler, reads);
    }
    return reads;
  }
}
