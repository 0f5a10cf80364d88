import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { HttpStatus, Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Logger, PinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { AllExceptionsFilter, sendError } from './common/errors/all-exceptions.filter';
import { AppException, ErrorCode } from './common/errors/app.exception';
import { mapError } from './common/errors/error-mapper';
import { registerJsonBodyParser } from './common/http/json-body.parser';
import { registerRequestLog } from './common/http/request-log';
import { registerSecurityHeaders } from './common/http/security-headers';
import { UnexpectedBodyGuard } from './common/http/unexpected-body.guard';
import { createValidationPipe } from './common/http/validation.pipe';
import type { AppConfig } from './config/app-config';
import { registerMultipart } from './modules/files/multipart';
import { ShutdownState } from './modules/health/shutdown-state';
import { RealtimeIoAdapter } from './realtime/realtime.adapter';

const REQUEST_ID = /^[\w.:-]{1,64}$/;

/** Every route is under `/api` but the probes; shared with the OpenAPI generator so its paths match the served ones. */
export function setApiPrefix(app: NestFastifyApplication): void {
  app.setGlobalPrefix('api', { exclude: ['health/live', 'health/ready'] });
}

/** Honours a sane incoming `X-Request-Id` (from a proxy), else a new UUID; pino-http reads it from `req.id`. */
function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  (req as IncomingMessage & { id: string }).id = id;
  return id;
}

const CLIENT_ERRORS: Record<string, [number, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request took too long to arrive'],
  HPE_HEADER_OVERFLOW: [431, 'Request headers (or the URL) are too large'],
};

/**
 * A request Node's HTTP parser rejects (oversized headers or URL, broken framing) never reaches Fastify's routing:
 * it is answered on the socket, in the documented error shape rather than Fastify's default one.
 */
function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const [status, detail] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'Malformed HTTP request'];
    const id = randomUUID();
    const body = JSON.stringify({ status_code: status, code: ErrorCode.BAD_REQUEST, detail, request_id: id });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${id}\r\nX-Content-Type-Options: nosniff\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

export function buildOpenApi(app: NestFastifyApplication) {
  const config = new DocumentBuilder()
    .setTitle('MakePlus API')
    .setDescription(
      'Backend for conferences and expos. Every route states who may call it: `x-access` (public, authenticated, ' +
        'selection token, bot token) or `x-event-roles` (roles in the event of the access token). Errors: `{status_code, code, detail, errors?, request_id}`. ' +
        'Real time: socket.io at `/socket.io` with `auth: {token: <access token>}` (events and rooms: API.md, "Real time", and the README).',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token' }, 'access')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'temp_token of a multi-event login' },
      'selection',
    )
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-Bot-Token', description: 'Event-scoped Discord bot token' },
      'bot-token',
    )
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Builds the whole HTTP application (also used by the e2e tests), without listening. */
export async function createApp(config: AppConfig, databaseUrl: string): Promise<NestFastifyApplication> {
  const errorLogger = new NestLogger('Errors');
  const adapter = new FastifyAdapter({
    bodyLimit: config.maxBodyKb * 1024,
    routerOptions: { ignoreTrailingSlash: true },
    genReqId: requestId,
    trustProxy: config.trustProxy,
    clientErrorHandler,
    // A malformed URL (`/api/events/%E0%A4%A`) or an over-long path parameter is refused by the router before any
    // hook or error handler: without this, Fastify answers its own `{statusCode, error, message}` body.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      reply.header('x-request-id', request.id).header('x-content-type-options', 'nosniff');
      sendError(reply, request, error, errorLogger);
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, databaseUrl), adapter, {
    bufferLogs: true,
    // Nest's parsers would add application/x-www-form-urlencoded; Fastify's built-in JSON parser is the only one kept.
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.flushLogs();

  const fastify = app.getHttpAdapter().getInstance();
  registerRequestLog(fastify, PinoLogger.root);
  // Only JSON is accepted as a body (multipart is added per route); text/plain would reach validation as a string.
  fastify.removeContentTypeParser('text/plain');
  registerJsonBodyParser(fastify);
  await registerMultipart(app, config);
  // No fastify.setErrorHandler here: Nest installs its own at init (over any other, with a FSTWRN004 warning) and
  // routes Fastify's errors (body too large, malformed JSON, media type) to AllExceptionsFilter, which maps them.
  const shutdown = app.get(ShutdownState);
  fastify.addHook('onRequest', async (request, reply) => {
    shutdown.track(reply.raw);
    // The listener is closed (main.ts): a request on a connection kept alive from before is refused at once.
    if (shutdown.phase === 'closing') {
      const refused = mapError(
        new AppException(HttpStatus.SERVICE_UNAVAILABLE, ErrorCode.UNAVAILABLE, 'The server is shutting down'),
        String(request.id),
      );
      return reply.status(refused.status).headers(refused.headers).send(refused.body);
    }
  });
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // Shutting down: the client's next request opens a new connection, which the load balancer sends elsewhere.
    if (shutdown.phase !== 'serving') reply.header('connection', 'close');
  });

  registerSecurityHeaders(fastify);
  app.enableCors({
    origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
    // @fastify/cors allows only GET, HEAD and POST by default: the admin panel also edits and deletes.
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    credentials: true,
    exposedHeaders: ['x-request-id', 'retry-after'],
  });
  const sockets = new RealtimeIoAdapter(app, config);
  await sockets.connect();
  app.useWebSocketAdapter(sockets);
  setApiPrefix(app);
  app.useGlobalPipes(createValidationPipe());
  // After the access guards (APP_GUARD providers, registered at creation): see the guard.
  app.useGlobalGuards(new UnexpectedBodyGuard());
  app.useGlobalFilters(new AllExceptionsFilter());

  if (config.swaggerEnabled) {
    SwaggerModule.setup('api/docs', app, buildOpenApi(app), {
      jsonDocumentUrl: 'api/docs-json',
      swaggerOptions: { persistAuthorization: true },
    });
  }
  return app;
}
