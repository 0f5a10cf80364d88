import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpStatus, ServiceUnavailableException } from '@nestjs/common';
import { AppException, ErrorCode } from './app.exception';
import { mapError } from './error-mapper';

describe('mapError: what is logged as a fault', () => {
  it('a 503 the app chose (AppException: overloaded, shutting down) is not unexpected and keeps its Retry-After', () => {
    const refusal = new AppException(HttpStatus.SERVICE_UNAVAILABLE, ErrorCode.UNAVAILABLE, 'busy', undefined, {
      'Retry-After': '2',
    });
    const mapped = mapError(refusal, 'req-1');
    assert.equal(mapped.status, 503);
    assert.equal(mapped.unexpected, false);
    assert.equal(mapped.databaseUnavailable, false, 'not logged as a database outage either');
    assert.equal(mapped.headers['Retry-After'], '2');
  });

  it('another 5xx, a 503 from elsewhere, and an error that is not an HTTP one are unexpected (controls)', () => {
    assert.equal(mapError(new ServiceUnavailableException(), 'req-2').unexpected, true);
    assert.equal(mapError(new AppException(500, ErrorCode.INTERNAL_ERROR, 'x'), 'req-3').unexpected, true);
    const crash = mapError(new Error('boom'), 'req-4');
    assert.deepEqual([crash.status, crash.unexpected], [500, true]);
  });

  it('a database that cannot be reached is a 503 logged as an outage, not as a fault', () => {
    const mapped = mapError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'req-5');
    assert.deepEqual([mapped.status, mapped.unexpected, mapped.databaseUnavailable], [503, false, true]);
  });
});
