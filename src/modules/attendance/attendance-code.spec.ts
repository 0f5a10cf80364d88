import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeFor, codeMatches, windowAt } from './attendance-code';

describe('rotating attendance codes', () => {
  const secret = 'a'.repeat(64);
  const session = '6f1c1c2e-1111-4111-8111-111111111111';
  const at = new Date('2026-12-02T10:00:10Z');

  it('are 6 unambiguous characters, stable within a window, different across windows and sessions', () => {
    const w = windowAt(at, 30);
    const code = codeFor(secret, session, w);
    assert.match(code, /^[A-HJKMNP-Z2-9]{6}$/);
    assert.equal(codeFor(secret, session, w), code);
    assert.notEqual(codeFor(secret, session, w + 1), code);
    assert.notEqual(codeFor(secret, '6f1c1c2e-2222-4111-8111-111111111111', w), code);
  });

  it('accept the current and the previous code, case-insensitively, and nothing older', () => {
    const w = windowAt(at, 30);
    assert.equal(codeMatches(secret, session, 30, codeFor(secret, session, w).toLowerCase(), at), true);
    assert.equal(codeMatches(secret, session, 30, codeFor(secret, session, w - 1), at), true);
    assert.equal(codeMatches(secret, session, 30, codeFor(secret, session, w - 2), at), false);
    assert.equal(codeMatches(secret, session, 30, 'ZZZZZZ', at), false);
  });
});
