import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sessionRuleErrors, type SessionShape } from './session-rules';

const base: SessionShape = {
  startTime: new Date('2026-06-20T09:00:00Z'),
  endTime: new Date('2026-06-20T10:00:00Z'),
  sessionType: 'conference',
  isPaid: false,
  price: null,
  capacity: null,
};
const fields = (s: Partial<SessionShape>) => Object.keys(sessionRuleErrors({ ...base, ...s })).sort();

describe('session rules', () => {
  it('accepts a free conference and a paid atelier with seats', () => {
    assert.deepEqual(fields({}), []);
    assert.deepEqual(fields({ sessionType: 'atelier', isPaid: true, price: '5000.00', capacity: 20 }), []);
    assert.deepEqual(fields({ sessionType: 'atelier', isPaid: true, price: '0.00' }), []);
  });

  it('end must be after start (equal is refused)', () => {
    assert.deepEqual(fields({ endTime: base.startTime }), ['end_time']);
    assert.deepEqual(fields({ endTime: new Date('2026-06-20T08:00:00Z') }), ['end_time']);
  });

  it('price goes with is_paid, and only ateliers are paid or have seats', () => {
    assert.deepEqual(fields({ sessionType: 'atelier', isPaid: true }), ['price']);
    assert.deepEqual(fields({ sessionType: 'atelier', price: '10.00' }), ['price']);
    assert.deepEqual(fields({ isPaid: true, price: '10.00' }), ['is_paid']);
    assert.deepEqual(fields({ capacity: 10 }), ['capacity']);
  });
});
