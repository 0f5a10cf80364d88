import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { ShutdownState } from './shutdown-state';

const response = (destroyed = false) => Object.assign(new EventEmitter(), { destroyed }) as unknown as ServerResponse;

describe('ShutdownState', () => {
  it('goes serving → draining → closing, never back', () => {
    const state = new ShutdownState();
    assert.equal(state.phase, 'serving');
    state.drain();
    assert.equal(state.phase, 'draining');
    state.close();
    state.drain();
    assert.equal(state.phase, 'closing');
  });

  it('counts a request until its response closes, and not one whose connection is already gone', () => {
    const state = new ShutdownState();
    const [a, b] = [response(), response()];
    state.track(a);
    state.track(b);
    state.track(response(true));
    assert.equal(state.inFlight, 2);
    a.emit('close');
    a.emit('close');
    assert.equal(state.inFlight, 1);
    b.emit('close');
    assert.equal(state.inFlight, 0);
  });
});
