import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory';
import { loadConfig, type AppConfig } from '../../src/config/app-config';
import { SessionStateCache } from '../../src/modules/auth/session-state.cache';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  db: DataSource;
  /** supertest bound to the app: `t.http.get('/api/...')`. */
  http: ReturnType<typeof request>;
  close(): Promise<void>;
}

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';
export const TEST_QR_SECRET = 'test-qr-key-test-qr-key-test-qr-key-0123456789';

export function testDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the suite with `npm test`');
  return url;
}

/** Boots the real application (same factory as `npm start`) on the suite's database. */
export async function bootTestApp(env: Record<string, string> = {}, databaseUrl = testDatabaseUrl()): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    QR_SECRET: TEST_QR_SECRET,
    DATABASE_URL: databaseUrl,
    // Spec files run at once on one database: an app of another file would publish this file's scheduled annonces
    // to its own sockets. Only apps that ask for the scheduler run it.
    ANNONCE_SCHEDULER_INTERVAL_MS: '0',
    ...env,
  });
  const app = await createApp(config, databaseUrl);
  // Listen for real (ephemeral port): supertest on an unbound server binds and closes it per request, which breaks
  // the concurrency tests that fire hundreds of requests at once.
  await app.listen(0, '127.0.0.1');
  return {
    app,
    config,
    db: app.get<DataSource>(getDataSourceToken()),
    http: request(app.getHttpServer()),
    close: () => app.close(),
  };
}

/**
 * After changing sessions, users or memberships with SQL: such a change bypasses the services that evict the guard's
 * session cache, so the app would see it only after AUTH_CACHE_TTL_MS (as an operator's manual change would).
 */
export function forgetCachedSessions(t: TestApp): void {
  t.app.get(SessionStateCache, { strict: false }).clear();
}
