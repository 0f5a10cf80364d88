/**
 * `npm run openapi`: writes the OpenAPI document served at `/api/docs-json` to `openapi.json` at the repository root,
 * keys sorted, so that a route or DTO change shows up as a reviewable diff. `--check` only compares (exit 1 on drift).
 * No database is needed: the application is built in Nest's preview mode (modules and routes resolved, no provider
 * instantiated, so no connection is opened). test/openapi.e2e-spec.ts checks that the committed file is what the
 * running app serves.
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { buildOpenApi, setApiPrefix } from './app.factory';
import { AppModule } from './app.module';
import { loadConfig } from './config/app-config';

/** The committed document: `<repo>/openapi.json` (this file runs from `dist/src`). */
export const OPENAPI_FILE = join(__dirname, '..', '..', 'openapi.json');

/** The document as `createApp` serves it with the default configuration, built without a database. */
export async function generateOpenApi(): Promise<OpenAPIObject> {
  // Default settings (not this shell's environment), so the file does not depend on who generates it.
  const config = loadConfig({ NODE_ENV: 'test', SWAGGER: 'on' });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, 'postgres://preview.invalid/none'),
    new FastifyAdapter(),
    { preview: true, logger: false, bodyParser: false, abortOnError: false },
  );
  try {
    setApiPrefix(app);
    return buildOpenApi(app);
  } finally {
    await app.close();
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

/** The file's text: keys sorted at every level (array order is meaningful and kept), two-space indent. */
export function renderOpenApi(document: unknown): string {
  return `${JSON.stringify(sortKeys(document), null, 2)}\n`;
}

function readCommitted(): string | null {
  try {
    return readFileSync(OPENAPI_FILE, 'utf8');
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const text = renderOpenApi(await generateOpenApi());
  const paths = Object.keys((JSON.parse(text) as OpenAPIObject).paths).length;
  if (process.argv.includes('--check')) {
    if (readCommitted() === text) {
      process.stdout.write(`${OPENAPI_FILE} is up to date (${paths} paths)\n`);
      return;
    }
    process.stderr.write(`${OPENAPI_FILE} is out of date: run \`npm run openapi\` and commit it\n`);
    process.exitCode = 1;
    return;
  }
  writeFileSync(OPENAPI_FILE, text);
  process.stdout.write(`wrote ${OPENAPI_FILE} (${paths} paths)\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
