import type { Redis } from 'ioredis';

/**
 * Closes a Redis client without waiting on a Redis that is away: QUIT when connected, otherwise the connection
 * attempts are dropped. (QUIT on a client with an offline queue would wait for Redis to return, holding up shutdown.)
 */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}
