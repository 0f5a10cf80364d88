import type { FastifyInstance } from 'fastify';
import type { Logger, LoggerOptions } from 'pino';

/** What the request log says of a request (given pino's standard view of it). */
function requestLogFields(req: { id?: unknown; method?: string; url?: string; remoteAddress?: string }): object {
  return { id: req.id, method: req.method, url: req.url, remoteAddress: req.remoteAddress };
}

/** The app's pino options (given to nestjs-pino, whose root logger the whole app logs through). */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    // A request is logged as what it asked, never with its headers (tokens, cookies).
    serializers: { req: requestLogFields },
    // A failed query carries its parameters (codes, hashes, personal data): never in the logs.
    redact: ['err.parameters', 'err.driverError.parameters'],
  };
}

/**
 * The request log: one line per answered request ("request completed", with the request's id, method, URL and
 * address, the response's status and headers, and the time taken), at `error` for a 5xx but 503, `warn` for a 503
 * (a refusal: overloaded, shutting down, a dependency away) and a 4xx, else `info`; the probes are not logged.
 *
 * A Fastify hook on the app's root logger rather than nestjs-pino's HTTP middleware (pino-http): that middleware ran
 * on every request through Fastify's Express layer, made a child logger, and entered an AsyncLocalStorage context,
 * which then costs on every promise of the request. Together about a tenth of a door scan's server CPU, for a line
 * that is not even written at the production level `warn`. Nothing reads the per-request context: errors carry
 * their `request_id` themselves (AllExceptionsFilter).
 */
export function registerRequestLog(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const level = status >= 500 && status !== 503 ? 'error' : status >= 400 ? 'warn' : 'info';
    if (logger.isLevelEnabled(level) && !request.url.startsWith('/health/')) {
      logger[level](
        { req: request.raw, res: reply.raw, responseTime: Math.round(reply.elapsedTime) },
        'request completed',
      );
    }
    done();
  });
}
