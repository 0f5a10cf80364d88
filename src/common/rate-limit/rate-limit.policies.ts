import type { RateLimitName } from '../../config/app-config';

/**
 * How each limit is counted and whom it counts.
 * - `store`: `exact` counts every hit in Redis with one atomic script (one round trip per request); `synced` counts in
 *   memory and adds the counts up in Redis every RATE_LIMIT_SYNC_MS (no I/O per request: door scans, general limits).
 * - `redisDown`: what an `exact` limit does when Redis does not answer: `closed` refuses the request (503 UNAVAILABLE
 *   with Retry-After: a login must not become unlimited because Redis is away), `open` counts in this process instead.
 *   `synced` limits always go on with their local counts.
 * - `tracker`: `ip` (the client address, IPv6 by /64), `session` (the access token's session; the user for a selection
 *   token), `user` (the authenticated user), `account` (the normalized email of the body).
 */
export interface RateLimitPolicy {
  store: 'exact' | 'synced';
  redisDown: 'closed' | 'open';
  tracker: 'ip' | 'session' | 'user' | 'account';
}

export const RATE_LIMIT_POLICIES: Record<RateLimitName, RateLimitPolicy> = {
  login_account: { store: 'exact', redisDown: 'closed', tracker: 'account' },
  login_ip: { store: 'exact', redisDown: 'closed', tracker: 'ip' },
  password: { store: 'exact', redisDown: 'closed', tracker: 'user' },
  refresh_ip: { store: 'exact', redisDown: 'open', tracker: 'ip' },
  leads: { store: 'exact', redisDown: 'open', tracker: 'session' },
  api_token: { store: 'synced', redisDown: 'open', tracker: 'session' },
  api_ip: { store: 'synced', redisDown: 'open', tracker: 'ip' },
  door: { store: 'synced', redisDown: 'open', tracker: 'session' },
};
