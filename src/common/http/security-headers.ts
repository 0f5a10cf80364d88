import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/** Helmet's policy for this API: JSON for apps, and the Swagger UI (inline styles, images from https and data:). */
const POLICY: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', 'https:'],
      scriptSrc: ["'self'"],
    },
  },
};

/** The headers helmet sets for a policy without nonces: the same on every response, so computed once. */
export function helmetHeaders(options: HelmetOptions = POLICY): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: () => undefined,
  } as unknown as ServerResponse;
  helmet(options)({} as IncomingMessage, res, (error?: unknown) => {
    if (error) throw error;
  });
  return headers;
}

/**
 * Helmet's headers on every response, including errors and 404s. (@fastify/helmet builds helmet's middleware again
 * for each request: 4% of a door scan's CPU in a profile.) A request that carries credentials gets a private answer:
 * `Cache-Control: no-store` (a route may still set its own), so that no shared cache or browser history keeps it.
 */
export function registerSecurityHeaders(fastify: FastifyInstance): void {
  const headers = helmetHeaders();
  const privateHeaders = { ...headers, 'cache-control': 'no-store' };
  fastify.addHook('onRequest', (request, reply, done) => {
    const credentials = request.headers.authorization !== undefined || request.headers['x-bot-token'] !== undefined;
    reply.headers(credentials ? privateHeaders : headers);
    done();
  });
}
