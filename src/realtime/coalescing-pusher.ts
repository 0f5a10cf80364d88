import { Logger } from '@nestjs/common';

/** Pushes the latest state of these keys (read from the database at that moment). */
export type PushKeys = (keys: string[]) => Promise<void>;

/**
 * Coalesces live figures (room occupancy, attendance counts): however many changes a key sees, it is pushed at most
 * once per interval, and the push after the last change reads the value at that moment, so every screen ends on the
 * latest figure, also when several instances share the work. The first change after a quiet interval is pushed at
 * once. A failed push (database away) is tried again at the next interval rather than lost.
 */
export class CoalescingPusher {
  private readonly log = new Logger('Realtime');
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  private stopped = false;

  constructor(
    private readonly what: string,
    private readonly intervalMs: number,
    private readonly push: PushKeys,
  ) {}

  /** Keys whose figure may have changed. */
  mark(...keys: (string | null)[]): void {
    for (const key of keys) if (key) this.dirty.add(key);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer || this.stopped || this.dirty.size === 0) return;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - Date.now());
    this.timer = setTimeout(() => void this.flush().catch(() => undefined), wait);
  }

  private async flush(): Promise<void> {
    this.lastFlush = Date.now();
    const keys = [...this.dirty];
    this.dirty.clear();
    try {
      await this.push(keys);
    } catch (error) {
      for (const key of keys) this.dirty.add(key);
      this.log.warn(
        { err: error instanceof Error ? error.message : String(error) },
        `${this.what} push failed; retrying`,
      );
    } finally {
      this.timer = null;
      this.schedule();
    }
  }
}
