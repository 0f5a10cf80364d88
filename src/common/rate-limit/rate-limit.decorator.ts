import { SetMetadata } from '@nestjs/common';
import type { RateLimitName } from '../../config/app-config';

export const RATE_LIMITS = 'makeplus:rate-limits';

/**
 * The limits of a route, in the order they are counted, instead of the general one (`api_ip` on public routes,
 * `api_token` on the others). `@RateLimit()` with none exempts the route (health probes).
 */
export const RateLimit = (...names: RateLimitName[]) => SetMetadata(RATE_LIMITS, names);
