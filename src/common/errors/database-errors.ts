/** Classifies driver errors: which mean "the database is not there" (503) and which are constraint violations. */

const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
  'Query read timeout',
  'the database system is starting up',
  'the database system is shutting down',
];

interface DriverError {
  code?: string;
  message?: string;
  constraint?: string;
  detail?: string;
  driverError?: DriverError;
  cause?: unknown;
}

function driverOf(error: unknown): DriverError | null {
  if (typeof error !== 'object' || error === null) return null;
  const e = error as DriverError;
  return e.driverError ?? e;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  const e = driverOf(error);
  if (!e) return false;
  const code = e.code ?? '';
  // SQLSTATE class 08 (connection exception), 57P0x (shutdown / cannot connect now), 53300 (too many connections),
  // 40001/40P01 (serialization failure, deadlock): all transient, so 503 with Retry-After tells the client to retry.
  if (CONNECTION_ERRNOS.has(code) || code.startsWith('08') || /^57P0[1-4]$/.test(code)) return true;
  if (code === '53300' || code === '40001' || code === '40P01') return true;
  const message = e.message ?? '';
  if (CONNECTION_MESSAGES.some((m) => message.includes(m))) return true;
  return e.cause !== undefined && e.cause !== error && isDatabaseUnavailable(e.cause);
}

/**
 * Runs `work` again (up to `attempts` runs in all) when PostgreSQL aborted it to break a deadlock or a serialization
 * conflict: it was rolled back, and running it again gives the answer it would have had alone (e.g. a 409 for an
 * overlap, as the other writer committed) instead of a 503. For statements that can deadlock on their own checks,
 * such as an exclusion constraint waiting on another writer's uncommitted row.
 */
export async function retryOnDeadlock<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let run = 1; ; run++) {
    try {
      return await work();
    } catch (error) {
      const code = driverOf(error)?.code;
      if (run >= attempts || (code !== '40P01' && code !== '40001')) throw error;
    }
  }
}

export interface ConstraintViolation {
  /** `data`: any other SQLSTATE of class 22 (a value out of range, a NUL byte in text, a string too long...). */
  kind: 'unique' | 'foreign_key' | 'check' | 'not_null' | 'exclusion' | 'invalid_text' | 'data';
  constraint: string | null;
  detail: string | null;
}

const SQLSTATE_KINDS: Record<string, ConstraintViolation['kind']> = {
  '23505': 'unique',
  '23503': 'foreign_key',
  '23514': 'check',
  '23502': 'not_null',
  '23P01': 'exclusion',
  '22P02': 'invalid_text',
};

export function constraintViolation(error: unknown): ConstraintViolation | null {
  const e = driverOf(error);
  const kind = e?.code ? (SQLSTATE_KINDS[e.code] ?? (/^22[0-9A-Z]{3}$/.test(e.code) ? 'data' : undefined)) : undefined;
  if (!e || !kind) return null;
  return { kind, constraint: e.constraint ?? null, detail: e.detail ?? null };
}
