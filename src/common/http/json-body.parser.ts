import type { FastifyInstance } from 'fastify';
import { AppException, ErrorCode } from '../errors/app.exception';

/** Deep enough for any body of the API; deeper bodies only exist to exhaust class-transformer's recursion. */
export const MAX_JSON_DEPTH = 32;

/** Nesting depth of a parsed JSON value, counted without recursion. */
export function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (typeof current !== 'object' || current === null) continue;
    max = Math.max(max, depth);
    if (max > MAX_JSON_DEPTH) return max;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return max;
}

/**
 * Fastify's own JSON parser (prototype-poisoning protection, its error codes), plus a nesting limit: without it a
 * 6 KB body of nested arrays overflows the validation pipe's stack and answers 500.
 */
export function registerJsonBodyParser(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parse(request, body as string, (error, parsed) => {
      if (error) return done(error, undefined);
      if (jsonDepth(parsed) > MAX_JSON_DEPTH) {
        return done(
          new AppException(400, ErrorCode.BAD_REQUEST, `JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`),
          undefined,
        );
      }
      done(null, parsed);
    });
  });
}
