/** Thrown by `KeyedLimiter.run` when its key already has `maxWaiting` tasks waiting: the task is not run. */
export class LimiterFullError extends Error {
  constructor(readonly key: string) {
    super(`too many tasks waiting for ${key}`);
  }
}

/**
 * At most `limit` tasks at once per key (here: per event), the others waiting in arrival order, in memory, at most
 * `maxWaiting` of them per key (past it `run` throws LimiterFullError at once, so a rush is refused early rather than
 * held for longer than any client waits). For work that queues on one database row lock anyway (an event's
 * registrations): without it, a rush of requests for one event would hold every pooled connection while waiting for
 * that lock, and the rest of the server (door scans included) would wait for a connection, then fail. The limit stays
 * above one so that the database's own locking is what keeps the work correct, not this.
 */
export class KeyedLimiter {
  private readonly running = new Map<string, { active: number; waiting: (() => void)[] }>();

  constructor(
    private readonly limit: number,
    private readonly maxWaiting = Number.POSITIVE_INFINITY,
  ) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let slot = this.running.get(key);
    if (!slot) {
      slot = { active: 0, waiting: [] };
      this.running.set(key, slot);
    }
    if (slot.active >= this.limit) {
      if (slot.waiting.length >= this.maxWaiting) throw new LimiterFullError(key);
      await new Promise<void>((resolve) => slot.waiting.push(resolve));
    } else slot.active += 1;
    try {
      return await task();
    } finally {
      const next = slot.waiting.shift();
      if (next)
        next(); // the slot passes on; `active` is unchanged
      else if (--slot.active === 0) this.running.delete(key);
    }
  }

  /** Keys with work running or waiting (for tests). */
  get size(): number {
    return this.running.size;
  }
}
