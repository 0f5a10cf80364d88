import { Injectable } from '@nestjs/common';
import type { ServerResponse } from 'node:http';

/**
 * Where the process is in its shutdown (see main.ts): `serving`; `draining` after SIGTERM, while /health/ready answers
 * 503 so that load balancers stop sending (everything else is still served); `closing` once the listener is closed,
 * when a request arriving on a kept-alive connection is refused. While not serving, every response closes its
 * connection, so clients open their next one elsewhere.
 */
export type ShutdownPhase = 'serving' | 'draining' | 'closing';

@Injectable()
export class ShutdownState {
  private current: ShutdownPhase = 'serving';
  private running = 0;

  get phase(): ShutdownPhase {
    return this.current;
  }

  /** HTTP requests received and not answered yet. */
  get inFlight(): number {
    return this.running;
  }

  drain(): void {
    if (this.current === 'serving') this.current = 'draining';
  }

  close(): void {
    this.current = 'closing';
  }

  /** Counts a request until its response is sent or its connection is gone. */
  track(response: ServerResponse): void {
    // Its connection already gone, the response would never emit 'close' again: counting it would hold the drain.
    if (response.destroyed) return;
    this.running++;
    response.once('close', () => this.running--);
  }
}
