import multipart from '@fastify/multipart';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '../../config/app-config';

/** Route config (`@RouteConfig(MULTIPART_ROUTE)`) of the routes that take an upload; every other route refuses one. */
export const MULTIPART_ROUTE = { multipart: true } as const;

/**
 * Multipart for upload routes only, in stream mode (handlers call `request.file()`; nothing is attached to the body
 * or buffered). Anywhere else a multipart body is the same 415 as any other non-JSON body.
 */
export async function registerMultipart(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  await app.register(multipart, {
    limits: { fileSize: config.maxUploadMb * 1024 * 1024, files: 1, fields: 5, parts: 6, headerPairs: 100 },
  });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('preValidation', async (request) => {
      const routeConfig = request.routeOptions.config as { multipart?: boolean } | undefined;
      if (request.isMultipart() && routeConfig?.multipart !== true) {
        // Fastify's own code for an unsupported body, so it is answered like every other one.
        throw Object.assign(new Error('Unsupported Media Type'), {
          code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
          statusCode: 415,
        });
      }
    });
}
