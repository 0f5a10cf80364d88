import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { mapError } from './error-mapper';

/** Every error of every HTTP route leaves the server through here, in the shape of API.md. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    sendError(reply, request, exception, this.logger);
  }
}

export function sendError(reply: FastifyReply, request: FastifyRequest, exception: unknown, logger: Logger): void {
  const mapped = mapError(exception, String(request.id));
  if (mapped.unexpected) {
    logger.error({ err: exception, request_id: request.id }, 'Unhandled error');
  } else if (mapped.databaseUnavailable) {
    logger.warn({ err: exception, request_id: request.id }, 'Database unavailable');
  }
  if (reply.sent) return;
  reply.status(mapped.status).headers(mapped.headers).type('application/json; charset=utf-8').send(mapped.body);
}
