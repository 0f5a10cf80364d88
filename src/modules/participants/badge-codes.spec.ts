import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { newBadgeId, newQrSalt, QR_PREFIX, qrHash, qrText } from './badge-codes';

const KEY = Buffer.from('k'.repeat(40));
const ID = '6f1c1c2e-1111-4111-8111-111111111111';

describe('badge codes', () => {
  it('badge ids are two groups of four unambiguous characters, and differ', () => {
    const ids = new Set(Array.from({ length: 1000 }, newBadgeId));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.match(id, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  });

  it('salts carry 128 random bits', () => {
    const salt = newQrSalt();
    assert.match(salt, /^[0-9a-f]{32}$/);
    assert.notEqual(salt, newQrSalt());
  });

  it('the QR text is derived from key, badge and salt, and any change gives another text', () => {
    const salt = newQrSalt();
    const text = qrText(KEY, ID, salt);
    assert.ok(text.startsWith(QR_PREFIX));
    assert.equal(text.length, QR_PREFIX.length + 43, '256-bit MAC in base64url');
    assert.equal(qrText(KEY, ID, salt), text, 'deterministic');
    assert.equal(qrText(KEY, ID.toUpperCase(), salt), text, 'the id is case-insensitive');
    assert.notEqual(qrText(KEY, ID, newQrSalt()), text, 'rotation changes it');
    assert.notEqual(qrText(Buffer.from('x'.repeat(40)), ID, salt), text, 'another key gives another text');
    assert.ok(!text.includes(salt) && !text.includes(ID), 'neither salt nor id can be read off the text');
  });

  it('the stored hash is the lowercase hex SHA-256 of the text (what the offline manifest carries)', () => {
    const text = qrText(KEY, ID, newQrSalt());
    assert.equal(qrHash(text), createHash('sha256').update(text).digest('hex'));
    assert.match(qrHash(text), /^[0-9a-f]{64}$/);
  });
});
