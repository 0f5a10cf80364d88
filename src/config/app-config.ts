import { randomBytes } from 'node:crypto';

export type NodeEnv = 'development' | 'production' | 'test';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface AppConfig {
  nodeEnv: NodeEnv;
  port: number;
  host: string;
  databaseUrl: string | null;
  /** Folder of the embedded PostgreSQL cluster when DATABASE_URL is unset. */
  embeddedDbDir: string;
  redisUrl: string | null;
  /** Prefix of the Redis channels, so that several deployments can share one Redis. */
  redisPrefix: string;
  jwtSecret: string;
  /** True when no JWT_SECRET was given and a per-process one was generated. */
  jwtSecretGenerated: boolean;
  accessTokenTtlSec: number;
  refreshTokenTtlSec: number;
  /** Absolute lifetime of a login: rotation never extends a session past it. */
  sessionMaxAgeSec: number;
  selectionTokenTtlSec: number;
  adminEmail: string | null;
  adminPassword: string | null;
  uploadDir: string;
  maxUploadMb: number;
  maxBodyKb: number;
  corsOrigins: string[];
  logLevel: LogLevel;
  swaggerEnabled: boolean;
  /** Trust X-Forwarded-* headers (only behind a reverse proxy that sets them). */
  trustProxy: boolean;
  /** Client-side limit on one database query, so a hung database answers 503 instead of hanging requests. */
  dbQueryTimeoutMs: number;
  /** Limit on opening a database connection or waiting for a free one in the pool (503 past it). */
  dbConnectTimeoutMs: number;
  /** Key from which badge QR secrets are derived (HMAC); null → kept in `qrSecretFile`, created on first use. */
  qrSecret: string | null;
  qrSecretFile: string;
  /** A door admits to a session this long before it starts. */
  doorGraceSec: number;
  /** Offline: two entries of one badge into one room from two devices within this window are a conflict. */
  offlineConflictWindowSec: number;
  /** Live occupancy: at most one push per room per interval, the last one always carrying the latest value. */
  occupancyPushIntervalMs: number;
  /** How long the guard may reuse a session check; every change evicts it at once (0 turns the cache off). */
  authCacheTtlMs: number;
  /** How often each instance looks for scheduled annonces that are due. */
  annonceSchedulerIntervalMs: number;
  /** Messages a socket may send per second (twice that in a burst) before it is told RATE_LIMITED. */
  socketMessagesPerSec: number;
  /** Bytes a socket may leave unsent (a client that does not keep up) before it is disconnected. */
  socketMaxUnsentBytes: number;
  /** Registrations or cancellations of one event that may wait on an instance; past it, 503 UNAVAILABLE. */
  registrationQueueMax: number;
  /** HTTP rate limits (429 RATE_LIMITED with Retry-After), each `limit` requests per `windowSec`. */
  rateLimits: Record<RateLimitName, RateLimit>;
  /** How often the approximate limits (doors, general API) add up their local counts in Redis. */
  rateLimitSyncMs: number;
  /** A Redis command of the rate limiter that takes longer fails (fail open or closed, per limit). */
  rateLimitRedisTimeoutMs: number;
  /** On SIGTERM, how long /health/ready answers 503 while everything else is still served (load balancers notice). */
  shutdownDelayMs: number;
  /** On SIGTERM, the longest the whole shutdown may take; requests still running then are cut (exit code 1). */
  shutdownTimeoutMs: number;
}

export interface RateLimit {
  limit: number;
  windowSec: number;
}

/**
 * The rate limits, their variables (`RATE_LIMIT_<NAME>`, e.g. `RATE_LIMIT_LOGIN_ACCOUNT=10/15m`) and production
 * defaults. Under NODE_ENV=test every default is TEST_RATE_LIMIT_FACTOR times higher, so that suites which log in and
 * scan many times from 127.0.0.1 never trip them; the specs of the limits set their own values.
 */
export const RATE_LIMIT_DEFAULTS = {
  /** Login, token and register attempts per account (normalized email). */
  login_account: '10/15m',
  /** Login, token, register and password changes per client IP (generous: a venue's Wi-Fi is one IP). */
  login_ip: '300/15m',
  /** Password changes per user. */
  password: '5/15m',
  /** Token refreshes per client IP. */
  refresh_ip: '1000/15m',
  /** Requests per session (access token) on authenticated routes, door scans and leads apart. */
  api_token: '600/1m',
  /** Requests per client IP on public routes other than the ones above. */
  api_ip: '300/1m',
  /** Door scans (verify_access, qr/verify, participants/scan, scans/sync) per session of a scanning device. */
  door: '600/1m',
  /** Lead scans per exhibitor session. */
  leads: '120/1m',
} as const;
export type RateLimitName = keyof typeof RATE_LIMIT_DEFAULTS;
export const TEST_RATE_LIMIT_FACTOR = 1000;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const DURATION = /^(\d+)\s*(ms|s|m|h|d)?$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Parses `10/15m` (10 requests per 15 minutes); the window is a duration as parseDurationSeconds reads it. */
export function parseRateLimit(value: string): RateLimit | null {
  const m = /^(\d+)\s*\/\s*(.+)$/.exec(value.trim());
  const limit = m ? Number(m[1]) : 0;
  const windowSec = m ? parseDurationSeconds(m[2] as string) : null;
  return limit >= 1 && limit <= 1_000_000_000 && windowSec !== null ? { limit, windowSec } : null;
}

/** Parses `15m`, `7d`, `3600` (seconds) into whole seconds. */
export function parseDurationSeconds(value: string): number | null {
  const m = DURATION.exec(value.trim());
  if (!m) return null;
  const seconds = Math.floor(Number(m[1]) * UNIT_SECONDS[m[2] ?? 's']);
  return seconds > 0 ? seconds : null;
}

function isUrlWithProtocol(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/**
 * Reads and validates the environment once at boot. Every problem is collected so that an operator sees all of
 * them in one failed start rather than one per restart.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  const str = (key: string): string | null => {
    const v = env[key];
    return v === undefined || v.trim() === '' ? null : v.trim();
  };
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const raw = str(key);
    if (raw === null) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${key} must be an integer between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const duration = (key: string, fallback: string): number => {
    const raw = str(key) ?? fallback;
    const s = parseDurationSeconds(raw);
    if (s === null) {
      problems.push(`${key} must be a duration such as 900, 15m, 7d (got "${raw}")`);
      return parseDurationSeconds(fallback) as number;
    }
    return s;
  };

  const bool = (key: string, fallback: boolean): boolean => {
    const raw = str(key)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${key} must be true or false (got "${raw}")`);
    return fallback;
  };

  const nodeEnvRaw = str('NODE_ENV') ?? 'development';
  let nodeEnv: NodeEnv = 'development';
  if (nodeEnvRaw === 'development' || nodeEnvRaw === 'production' || nodeEnvRaw === 'test') nodeEnv = nodeEnvRaw;
  else problems.push(`NODE_ENV must be development, production or test (got "${nodeEnvRaw}")`);
  const production = nodeEnv === 'production';

  const databaseUrl = str('DATABASE_URL');
  if (databaseUrl !== null && !isUrlWithProtocol(databaseUrl, ['postgres:', 'postgresql:'])) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  if (production && databaseUrl === null) {
    problems.push('DATABASE_URL is required when NODE_ENV=production (the embedded database is for development)');
  }
  const redisUrl = str('REDIS_URL');
  if (redisUrl !== null && !isUrlWithProtocol(redisUrl, ['redis:', 'rediss:'])) {
    problems.push('REDIS_URL must be a redis:// or rediss:// URL');
  }

  let jwtSecret = str('JWT_SECRET');
  const jwtSecretGenerated = jwtSecret === null;
  if (jwtSecret === null) {
    if (production) problems.push('JWT_SECRET is required when NODE_ENV=production');
    jwtSecret = randomBytes(48).toString('base64url');
  } else if (jwtSecret.length < 32) {
    problems.push('JWT_SECRET must be at least 32 characters');
  }

  const qrSecret = str('QR_SECRET');
  if (qrSecret === null && production) {
    problems.push('QR_SECRET is required when NODE_ENV=production (every instance must derive the same badge codes)');
  } else if (qrSecret !== null && qrSecret.length < 32) {
    problems.push('QR_SECRET must be at least 32 characters');
  }

  const adminEmail = str('ADMIN_EMAIL');
  const adminPassword = str('ADMIN_PASSWORD');
  if ((adminEmail === null) !== (adminPassword === null)) {
    problems.push('ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
  }
  if (adminEmail !== null && !/^[^@\s]+@[^@\s]+$/.test(adminEmail)) problems.push('ADMIN_EMAIL must be an email');
  if (adminPassword !== null && adminPassword.length < 8) problems.push('ADMIN_PASSWORD must be at least 8 characters');

  const logLevelRaw = (str('LOG_LEVEL') ?? (nodeEnv === 'test' ? 'silent' : 'info')).toLowerCase();
  const logLevel = LOG_LEVELS.includes(logLevelRaw as LogLevel) ? (logLevelRaw as LogLevel) : 'info';
  if (logLevel !== logLevelRaw) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const corsOrigins = (str('CORS_ORIGINS') ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
  for (const origin of corsOrigins) {
    if (!isUrlWithProtocol(origin, ['http:', 'https:']))
      problems.push(`CORS_ORIGINS entry "${origin}" is not an origin`);
  }

  const rateLimits = {} as Record<RateLimitName, RateLimit>;
  for (const [name, fallback] of Object.entries(RATE_LIMIT_DEFAULTS) as [RateLimitName, string][]) {
    const key = `RATE_LIMIT_${name.toUpperCase()}`;
    const raw = str(key);
    const given = raw === null ? null : parseRateLimit(raw);
    if (raw !== null && given === null) problems.push(`${key} must be requests/window such as 10/15m (got "${raw}")`);
    const limit = given ?? (parseRateLimit(fallback) as RateLimit);
    if (given === null && nodeEnv === 'test') limit.limit *= TEST_RATE_LIMIT_FACTOR;
    rateLimits[name] = limit;
  }

  const config: AppConfig = {
    nodeEnv,
    port: int('PORT', 3000, 0, 65535),
    host: str('HOST') ?? '0.0.0.0',
    databaseUrl,
    embeddedDbDir: str('EMBEDDED_DB_DIR') ?? '.data/postgres',
    redisUrl,
    redisPrefix: str('REDIS_PREFIX') ?? 'makeplus',
    jwtSecret,
    jwtSecretGenerated,
    accessTokenTtlSec: duration('ACCESS_TOKEN_TTL', '15m'),
    refreshTokenTtlSec: duration('REFRESH_TOKEN_TTL', '7d'),
    sessionMaxAgeSec: duration('SESSION_MAX_AGE', '30d'),
    selectionTokenTtlSec: duration('SELECTION_TOKEN_TTL', '10m'),
    adminEmail: adminEmail?.toLowerCase() ?? null,
    adminPassword,
    uploadDir: str('UPLOAD_DIR') ?? '.data/uploads',
    maxUploadMb: int('MAX_UPLOAD_MB', 10, 1, 1024),
    maxBodyKb: int('MAX_BODY_KB', 1024, 1, 102400),
    corsOrigins,
    logLevel,
    swaggerEnabled: (str('SWAGGER') ?? 'on') !== 'off',
    trustProxy: bool('TRUST_PROXY', false),
    dbQueryTimeoutMs: int('DB_QUERY_TIMEOUT_MS', 15000, 100, 3_600_000),
    dbConnectTimeoutMs: int('DB_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
    qrSecret,
    qrSecretFile: str('QR_SECRET_FILE') ?? '.data/qr-secret.key',
    doorGraceSec: duration('DOOR_GRACE', '15m'),
    offlineConflictWindowSec: duration('OFFLINE_CONFLICT_WINDOW', '30m'),
    occupancyPushIntervalMs: int('OCCUPANCY_PUSH_INTERVAL_MS', 500, 50, 60_000),
    authCacheTtlMs: int('AUTH_CACHE_TTL_MS', 2000, 0, 60_000),
    // 0: this instance publishes none (another one does).
    annonceSchedulerIntervalMs: int('ANNONCE_SCHEDULER_INTERVAL_MS', 1000, 0, 60_000),
    socketMessagesPerSec: int('SOCKET_MESSAGES_PER_SEC', 10, 1, 10_000),
    socketMaxUnsentBytes: int('SOCKET_MAX_UNSENT_KB', 1024, 16, 1_048_576) * 1024,
    registrationQueueMax: int('REGISTRATION_QUEUE_MAX', 500, 1, 1_000_000),
    rateLimits,
    rateLimitSyncMs: int('RATE_LIMIT_SYNC_MS', 200, 10, 10_000),
    rateLimitRedisTimeoutMs: int('RATE_LIMIT_REDIS_TIMEOUT_MS', 500, 10, 10_000),
    shutdownDelayMs: int('SHUTDOWN_DELAY_MS', 0, 0, 600_000),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 10_000, 100, 3_600_000),
  };
  if (config.shutdownDelayMs >= config.shutdownTimeoutMs) {
    problems.push('SHUTDOWN_DELAY_MS must be shorter than SHUTDOWN_TIMEOUT_MS (the timeout counts from the signal)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** For entry points (server, CLIs): the configuration, or every problem on stderr and exit code 78 (EX_CONFIG). */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): AppConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
}
