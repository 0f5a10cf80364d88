import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventWindowRefusal, windowRefusal } from './attendance-window';

const session = (status = 'scheduled') => ({
  status,
  startTime: new Date('2026-12-02T10:00:00Z'),
  endTime: new Date('2026-12-02T11:00:00Z'),
});

describe('session attendance window', () => {
  it('refuses before the start and says how long until it', () => {
    const r = windowRefusal(session(), new Date('2026-12-02T09:59:00.500Z'));
    assert.equal(r?.code, 'SESSION_NOT_STARTED');
    assert.equal(r?.seconds_until_start, 60);
  });

  it('accepts from the start to the end, both included', () => {
    assert.equal(windowRefusal(session(), new Date('2026-12-02T10:00:00Z')), null);
    assert.equal(windowRefusal(session('live'), new Date('2026-12-02T10:30:00Z')), null);
    assert.equal(windowRefusal(session(), new Date('2026-12-02T11:00:00Z')), null);
  });

  it('refuses after the end and says how long since', () => {
    const r = windowRefusal(session(), new Date('2026-12-02T11:02:00Z'));
    assert.equal(r?.code, 'SESSION_ENDED');
    assert.equal(r?.seconds_since_end, 120);
  });

  it('refuses a cancelled session even while its slot runs', () => {
    assert.equal(windowRefusal(session('cancelled'), new Date('2026-12-02T10:30:00Z'))?.code, 'SESSION_CANCELLED');
  });

  it('refuses a session marked completed before its end: it ended early', () => {
    const r = windowRefusal(session('completed'), new Date('2026-12-02T10:30:00Z'));
    assert.deepEqual(r, { code: 'SESSION_ENDED', message: 'This session has ended' });
  });
});

describe('event attendance window', () => {
  const event = (isCancelled = false) => ({
    isCancelled,
    startDate: new Date('2026-12-02T08:00:00Z'),
    endDate: new Date('2026-12-03T18:00:00Z'),
  });

  it('names the event in its codes and keeps the figures', () => {
    const before = eventWindowRefusal(event(), new Date('2026-12-02T07:00:00Z'));
    assert.equal(before?.code, 'EVENT_NOT_STARTED');
    assert.equal(before?.seconds_until_start, 3600);
    assert.equal(before?.message, 'This event has not started yet');
    assert.equal(eventWindowRefusal(event(), new Date('2026-12-03T18:00:01Z'))?.code, 'EVENT_ENDED');
    assert.equal(eventWindowRefusal(event(true), new Date('2026-12-02T12:00:00Z'))?.code, 'EVENT_CANCELLED');
    assert.equal(eventWindowRefusal(event(), new Date('2026-12-02T12:00:00Z')), null);
  });
});
