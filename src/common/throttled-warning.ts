import type { Logger } from '@nestjs/common';

/**
 * A warning logged at most once per interval (10 s by default): a lasting condition (Redis away, an overload, stuck
 * clients) would otherwise be logged once per request, broadcast or sweep.
 */
export class ThrottledWarning {
  private last = 0;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  warn(fields: object, message: string): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    this.logger.warn(fields, message);
  }
}
