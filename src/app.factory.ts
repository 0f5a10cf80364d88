import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import helmet from '@fastify/helmet';
import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { AllExceptionsFilter, sendError } from './common/errors/all-exceptions.filter';
import { createValidationPipe } from './common/http/validation.pipe';
import type { AppConfig } from './config/app-config';

const REQUEST_ID = /^[\w.:-]{1,64}$/;

/** Honours a sane incoming `X-Request-Id` (from a proxy), else a new UUID; pino-http reads it from `req.id`. */
function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  (req as IncomingMessage & { id: string }).id = id;
  return id;
}

export function buildOpenApi(app: NestFastifyApplication) {
  const config = new DocumentBuilder()
    .setTitle('MakePlus API')
    .setDescription(
      'Backend for conferences and expos. Every route states who may call it: `x-access` (public, authenticated, ' +
        'selection token) or `x-event-roles` (roles in the event of the access token). Errors: `{status_code, code, detail, errors?, request_id}`.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token' }, 'access')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'temp_token of a multi-event login' },
      'selection',
    )
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Builds the whole HTTP application (also used by the e2e tests), without listening. */
export async function createApp(config: AppConfig, databaseUrl: string): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.maxBodyKb * 1024,
    routerOptions: { ignoreTrailingSlash: true },
    genReqId: requestId,
    trustProxy: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, databaseUrl), adapter, {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.flushLogs();

  const fastify = app.getHttpAdapter().getInstance();
  // Only JSON is accepted as a body (multipart is added per route); text/plain would reach validation as a string.
  fastify.removeContentTypeParser('text/plain');
  const errorLogger = new NestLogger('Errors');
  // Errors raised by Fastify before Nest sees the request (body too large, malformed JSON, media type).
  fastify.setErrorHandler((error, request, reply) => sendError(reply, request, error, errorLogger));
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'https:'],
        scriptSrc: ["'self'"],
      },
    },
  });
  app.enableCors({
    origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
    credentials: true,
    exposedHeaders: ['x-request-id', 'retry-after'],
  });
  app.setGlobalPrefix('api', { exclude: ['health/live', 'health/ready'] });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());

  if (config.swaggerEnabled) {
    SwaggerModule.setup('api/docs', app, buildOpenApi(app), {
      jsonDocumentUrl: 'api/docs-json',
      swaggerOptions: { persistAuthorization: true },
    });
  }
  return app;
}
