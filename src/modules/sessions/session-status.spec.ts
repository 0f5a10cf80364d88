import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SESSION_STATUSES, type SessionStatus } from './entities/event-session.entity';
import { nextStatus, SESSION_ACTIONS, type SessionAction } from './session-status';

describe('session status transitions', () => {
  const allowed: Record<string, SessionStatus> = {
    'scheduled mark_live': 'live',
    'live mark_completed': 'completed',
    'scheduled cancel': 'cancelled',
    'live cancel': 'cancelled',
  };

  for (const from of SESSION_STATUSES) {
    for (const action of SESSION_ACTIONS) {
      const expected = allowed[`${from} ${action}`] ?? null;
      it(`${from} + ${action} → ${expected ?? 'refused'}`, () => {
        assert.equal(nextStatus(from, action as SessionAction), expected);
      });
    }
  }

  it('completed and cancelled are final', () => {
    for (const from of ['completed', 'cancelled'] as const) {
      assert.deepEqual(
        SESSION_ACTIONS.map((a) => nextStatus(from, a)),
        [null, null, null],
      );
    }
  });

  it('no action leads back to scheduled', () => {
    for (const from of SESSION_STATUSES) {
      for (const action of SESSION_ACTIONS) assert.notEqual(nextStatus(from, action), 'scheduled');
    }
  });
});
