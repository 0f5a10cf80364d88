import { createHmac } from 'node:crypto';

/** Letters and digits that cannot be misread on a projector (no 0/O, 1/I/L). */
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const CODE_LENGTH = 6;

/** The rotation window a moment falls in. */
export const windowAt = (at: Date, rotatesEvery: number): number => Math.floor(at.getTime() / 1000 / rotatesEvery);

/** The code of one window: derived from the session's secret, so every instance shows and accepts the same. */
export function codeFor(secret: string, sessionId: string, window: number): string {
  const digest = createHmac('sha256', secret).update(`${sessionId}:${window}`).digest();
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += ALPHABET[(digest[i] as number) % ALPHABET.length];
  return code;
}

/** The current code is accepted, and the previous one too (someone who read it just before it rotated). */
export function codeMatches(secret: string, sessionId: string, rotatesEvery: number, code: string, at: Date): boolean {
  const window = windowAt(at, rotatesEvery);
  const given = code.trim().toUpperCase();
  return [window, window - 1].some((w) => codeFor(secret, sessionId, w) === given);
}
