import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { RoomOccupancy } from './realtime.events';

export type OccupancySink = (eventId: string, occupancy: RoomOccupancy) => void;

/**
 * Coalesces live occupancy: however many scans a room sees, it is pushed at most once per interval, and the push
 * after the last scan carries the value read from the database at that moment, so every screen ends on the latest
 * figure, also when several instances share the doors. The first scan after a quiet interval is pushed at once.
 */
export class OccupancyPusher {
  private readonly log = new Logger('Realtime');
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly intervalMs: number,
    private readonly sink: OccupancySink,
  ) {}

  /** Rooms whose occupancy may have changed. */
  mark(...roomIds: (string | null)[]): void {
    for (const id of roomIds) if (id) this.dirty.add(id);
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
    this.timer = setTimeout(() => void this.flush(), wait);
  }

  private async flush(): Promise<void> {
    this.lastFlush = Date.now();
    const ids = [...this.dirty];
    this.dirty.clear();
    try {
      const rows: { id: string; event_id: string; current_participants: number; capacity: number }[] =
        await this.dataSource.query(
          'SELECT id, event_id, current_participants, capacity FROM rooms WHERE id = ANY($1::uuid[])',
          [ids],
        );
      for (const r of rows) {
        this.sink(r.event_id, { room_id: r.id, current_participants: r.current_participants, capacity: r.capacity });
      }
    } catch (error) {
      // The database is away: try these rooms again at the next interval rather than lose the last value.
      this.log.warn({ err: (error as Error).message }, 'Occupancy push failed; retrying');
      for (const id of ids) this.dirty.add(id);
    } finally {
      this.timer = null;
      this.schedule();
    }
  }
}
