import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replaceOnce } from './sql-text';

describe('replaceOnce', () => {
  it('replaces a text found exactly once, taking the replacement as is', () => {
    assert.equal(replaceOnce('a; b; c', 'b;', "$$ x $& 'y';", 'b'), "a; $$ x $& 'y'; c");
  });

  it('throws when the text is missing or repeated (negative controls)', () => {
    assert.throws(() => replaceOnce('a; c', 'b;', 'x', 'door_decide: b'), /door_decide: b is not found once/);
    assert.throws(() => replaceOnce('b; b;', 'b;', 'x', 'door_decide: b'), /not found once/);
  });
});
