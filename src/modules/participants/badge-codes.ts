import { createHmac, hash, randomBytes, randomInt } from 'node:crypto';

/** Crockford's base32 without I, L, O, U: no letter a person reading a badge aloud can mistake for another. */
const BADGE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Prefix and version of the QR text, so that a future format can be told apart and a lead scanner can recognise it. */
export const QR_PREFIX = 'MP1.';

/** A human-readable badge id such as `K7QX-3MPA` (40 bits; unique per event by constraint, retried on a clash). */
export function newBadgeId(): string {
  let id = '';
  for (let i = 0; i < 8; i++) id += BADGE_ALPHABET[randomInt(BADGE_ALPHABET.length)];
  return `${id.slice(0, 4)}-${id.slice(4)}`;
}

/** 128 random bits, stored with the badge; rotating the QR replaces it. */
export function newQrSalt(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The QR text of a badge: an HMAC of its id and salt under the server's key. The database keeps only the salt and a
 * hash of the text, so a copy of the database cannot print valid badges, yet the owner can be shown the code again.
 */
export function qrText(key: Buffer, participantId: string, salt: string): string {
  const mac = createHmac('sha256', key).update(`${participantId.toLowerCase()}.${salt}`).digest('base64url');
  return `${QR_PREFIX}${mac}`;
}

/**
 * What the database stores and the offline manifest carries: lowercase hex SHA-256 of the QR text. Once per scan:
 * node's one-shot `hash` (a third of `createHash` here, no Hash object per call).
 */
export function qrHash(text: string): string {
  return hash('sha256', text, 'hex');
}
