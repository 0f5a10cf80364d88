import assert from 'node:assert/strict';
import type { Response } from 'supertest';

const ERROR_KEYS = ['code', 'detail', 'request_id', 'status_code'];

/** No stack lines, source locations or HTML in a response: errors never leak the server's internals. */
export function assertNoStack(res: Response): void {
  assert.doesNotMatch(res.text, /(^|\\n|\n)\s*at \S/, 'no stack lines');
  assert.doesNotMatch(res.text, /\.(ts|js):\d+/, 'no source locations');
  assert.doesNotMatch(res.text, /<html|<!DOCTYPE/i, 'no HTML');
}

/**
 * The one error body of API.md: exactly `{status_code, code, detail, request_id}` (plus `errors` for a 400
 * VALIDATION_FAILED, naming each of `fields`), JSON, the request id echoed in `X-Request-Id`, no stack.
 */
export function expectError(
  res: Response,
  status: number,
  code: string,
  fields: string[] = [],
): Record<string, unknown> {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${res.text}`);
  assert.match(String(res.headers['content-type']), /^application\/json/, 'an error is JSON, never HTML');
  const body = res.body as Record<string, unknown>;
  const expectedKeys = code === 'VALIDATION_FAILED' ? [...ERROR_KEYS, 'errors'].sort() : ERROR_KEYS;
  assert.deepEqual(Object.keys(body).sort(), expectedKeys, `error body keys: ${res.text}`);
  assert.equal(body.status_code, status);
  assert.equal(body.code, code);
  assert.ok(typeof body.detail === 'string' && body.detail.length > 0, 'detail is a message');
  assert.ok(typeof body.request_id === 'string' && body.request_id.length > 0, 'request_id is set');
  assert.equal(body.request_id, res.headers['x-request-id'], 'X-Request-Id header equals body request_id');
  const errors = body.errors as Record<string, unknown> | undefined;
  for (const field of fields) {
    const messages = errors?.[field];
    assert.ok(Array.isArray(messages) && messages.length > 0, `expected errors.${field} in ${res.text}`);
    for (const message of messages) assert.equal(typeof message, 'string');
  }
  assertNoStack(res);
  return body;
}

/** A 400 VALIDATION_FAILED naming each of `fields`. */
export function expectValidation(res: Response, ...fields: string[]): Record<string, unknown> {
  return expectError(res, 400, 'VALIDATION_FAILED', fields);
}
