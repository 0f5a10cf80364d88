import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { pinoHttp } from 'pino-http';
import { loggerOptions, registerRequestLog } from './request-log';

/** A Fastify app with the request log of the app on a logger at `level` (built as nestjs-pino builds it). */
async function appLoggingAt(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const { logger } = pinoHttp({ ...loggerOptions(level), stream });
  // As the app's genReqId does (app.factory.ts), the id is also set on the raw request, where the log reads it.
  const app = Fastify({ genReqId: (req) => ((req as { id?: string }).id = 'req-1') });
  registerRequestLog(app, logger);
  app.get('/api/ok', async () => ({ ok: true }));
  app.get('/api/boom', async () => {
    throw new Error('boom');
  });
  app.get('/api/busy', async (_request, reply) => reply.status(503).send({ code: 'UNAVAILABLE' }));
  app.get('/health/ready', async () => ({ ok: true }));
  await app.ready();
  return { app, lines };
}

describe('request log', () => {
  it('one line per request: info for 2xx, warn for 4xx and 503, error for other 5xx; no headers; no probes', async () => {
    const { app, lines } = await appLoggingAt('info');
    const auth = { authorization: 'Bearer secret-token', cookie: 'a=b' };
    await app.inject({ url: '/api/ok?x=1', headers: auth });
    await app.inject({ url: '/api/missing', headers: auth });
    await app.inject({ url: '/api/boom', headers: auth });
    await app.inject({ url: '/api/busy' });
    await app.inject({ url: '/health/ready' });
    await app.close();
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, (l.res as { statusCode: number }).statusCode]),
      [
        [30, 'request completed', 200],
        [40, 'request completed', 404],
        [50, 'request completed', 500],
        [40, 'request completed', 503],
      ],
    );
    assert.deepEqual(lines[0]?.req, { id: 'req-1', method: 'GET', url: '/api/ok?x=1', remoteAddress: '127.0.0.1' });
    assert.equal(typeof lines[0]?.responseTime, 'number');
    assert.doesNotMatch(JSON.stringify(lines), /secret-token|cookie/i, 'request headers are never logged');
  });

  it('at warn (production), answered requests are not logged, refused ones are', async () => {
    const { app, lines } = await appLoggingAt('warn');
    await app.inject({ url: '/api/ok' });
    await app.inject({ url: '/api/missing' });
    await app.close();
    assert.deepEqual(
      lines.map((l) => l.level),
      [40],
    );
  });
});
