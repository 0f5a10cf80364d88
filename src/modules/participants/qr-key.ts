import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AppConfig } from '../../config/app-config';

/** Injection token of the badge key (a Buffer). */
export const QR_KEY = Symbol('QR_KEY');

/**
 * The key from which every badge's QR text is derived. `QR_SECRET` when set (required in production, so that every
 * instance derives the same codes); otherwise a random key kept in `QR_SECRET_FILE`, created on first use, so that
 * badges stay valid across restarts of a development server. Losing the key invalidates every printed badge.
 */
export function loadQrKey(config: Pick<AppConfig, 'qrSecret' | 'qrSecretFile'>, warn?: (m: string) => void): Buffer {
  if (config.qrSecret) return Buffer.from(config.qrSecret, 'utf8');
  const file = config.qrSecretFile;
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    // `wx`: of two processes creating it at once, one writes and the other reads what was written.
    writeFileSync(file, `${randomBytes(48).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
    warn?.(`QR_SECRET is not set: created a badge key in ${file} (set QR_SECRET in production)`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8');
}
