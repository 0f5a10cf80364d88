import type { DataSource } from 'typeorm';

/**
 * Door decisions commit without waiting for the WAL flush (`synchronous_commit = off` for that one transaction), so
 * a room's row lock is released as soon as the decision is made instead of being held through a 2-3 ms disk flush
 * (which, per room, serialised every scan behind the disk). The answer is then acknowledged only after this barrier:
 * a tiny transaction that writes WAL with synchronous commit, whose flush covers every earlier commit (the WAL is
 * sequential). So an acknowledged decision is durable, and so is everything it was based on.
 *
 * Concurrent scans share barriers: each waits for one that started after its own commit, so under load one flush
 * round trip serves every scan committed while the previous one was in flight (group commit, done by the app).
 */
export class WalFlushBarrier {
  private current: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(private readonly dataSource: DataSource) {}

  /** Resolves once everything this process committed before the call is flushed to disk. */
  wait(): Promise<void> {
    if (!this.current) {
      this.current = this.flush().finally(() => {
        this.current = null;
      });
      return this.current;
    }
    // The barrier in flight may have started before our commit: take the next one.
    this.queued ??= this.current
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.wait();
      });
    return this.queued;
  }

  private async flush(): Promise<void> {
    // A transactional logical message: writes WAL and takes a transaction id, so its commit flushes (sync commit).
    await this.dataSource.query(`SELECT pg_logical_emit_message(true, 'makeplus', 'flush')`);
  }
}
