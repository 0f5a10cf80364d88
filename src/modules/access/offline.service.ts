import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context';
import { validationFailed } from '../../common/errors/app.exception';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { RoomAssignmentsService } from '../room-assignments/room-assignments.service';
import { RoomsService } from '../rooms/rooms.service';
import type { ManifestDto } from './dto/offline.dto';
import type { SyncDto, SyncItemResultDto } from './dto/scan.dto';
import { DoorService } from './door.service';

/** Offline doors: the manifest a device decides with, and the upload of what it decided. */
@Injectable()
export class OfflineService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly door: DoorService,
    private readonly rooms: RoomsService,
    private readonly shifts: RoomAssignmentsService,
  ) {}

  /**
   * The caller's rooms (organisateurs, and staff without shifts: every room; staff with shifts: the rooms of shifts
   * not yet over), the badges that may enter one of them, revoked hashes, and the paid-atelier rights there.
   */
  async manifest(eventId: string, caller: AuthContext): Promise<ManifestDto> {
    const now = new Date();
    const only = caller.role === 'organisateur' ? null : await this.shifts.roomsFrom(eventId, caller.userId, now);
    const scope = only === null ? 'TRUE' : 'r.id = ANY($2::uuid[])';
    const params = only === null ? [eventId] : [eventId, only];
    const rooms: ManifestDto['rooms'] = await this.dataSource.query(
      `SELECT r.id, r.name, r.capacity, r.current_participants, r.is_active FROM rooms r
        WHERE r.event_id = $1 AND ${scope} ORDER BY r.name, r.id`,
      params,
    );
    const roomIds = rooms.map((r) => r.id);
    const [badges, revoked, sessions, access] = await Promise.all([
      this.dataSource.query(
        `SELECT p.qr_hash, p.id AS participant_id, p.badge_id, trim(u.first_name || ' ' || u.last_name) AS full_name,
                p.allowed_rooms
           FROM participants p JOIN users u ON u.id = p.user_id
           JOIN user_event_assignments a ON a.event_id = p.event_id AND a.user_id = p.user_id
          WHERE p.event_id = $1 AND a.is_active AND u.is_active
            AND cardinality($2::uuid[]) > 0 AND (cardinality(p.allowed_rooms) = 0 OR p.allowed_rooms && $2::uuid[])
          ORDER BY p.badge_id`,
        [eventId, roomIds],
      ) as Promise<ManifestDto['badges']>,
      this.dataSource.query(
        `SELECT qr_hash FROM revoked_qr_codes WHERE event_id = $1
         UNION
         SELECT p.qr_hash FROM participants p JOIN users u ON u.id = p.user_id
           JOIN user_event_assignments a ON a.event_id = p.event_id AND a.user_id = p.user_id
          WHERE p.event_id = $1 AND NOT (a.is_active AND u.is_active)
         ORDER BY 1`,
        [eventId],
      ) as Promise<{ qr_hash: string }[]>,
      this.dataSource.query(
        `SELECT id, room_id, title, session_type, is_paid, start_time, end_time, status FROM sessions
          WHERE event_id = $1 AND room_id = ANY($2::uuid[]) AND status <> 'cancelled' AND end_time > $3
          ORDER BY start_time, id`,
        [eventId, roomIds, now],
      ) as Promise<ManifestDto['sessions']>,
      this.dataSource.query(
        `SELECT sa.participant_id, sa.session_id, sa.payment_status IN ('paid', 'free') AS has_access
           FROM session_access sa JOIN sessions s ON s.id = sa.session_id
          WHERE sa.event_id = $1 AND s.room_id = ANY($2::uuid[]) AND s.is_paid AND s.status <> 'cancelled'
            AND s.end_time > $3
          ORDER BY sa.session_id, sa.participant_id`,
        [eventId, roomIds, now],
      ) as Promise<ManifestDto['session_access']>,
    ]);
    return {
      generated_at: now,
      grace_seconds: this.config.doorGraceSec,
      rooms,
      badges,
      revoked: revoked.map((r) => r.qr_hash),
      session_access: access,
      sessions,
    };
  }

  /**
   * Stores a batch of offline scans, each decided again by the server at its device time, in device-time order (so
   * that the first scan by device time wins). Idempotent per (device, nonce): a scan stored by an earlier upload
   * returns its stored result. Every scan is kept, whatever the decision; conflicts are flagged, never dropped.
   * The scans are decided in batches, one after the other (see DoorService.decideInOrder); an upload cut in the
   * middle is completed by uploading it again.
   */
  async sync(eventId: string, caller: AuthContext, dto: SyncDto): Promise<{ results: SyncItemResultDto[] }> {
    const roomIds = [...new Set(dto.scans.map((s) => s.room_id.toLowerCase()))];
    const unknown = await this.rooms.notInEvent(eventId, roomIds);
    if (unknown.length > 0)
      throw validationFailed({ 'scans.room_id': [`Not rooms of this event: ${unknown.join(', ')}`] });

    const order = dto.scans
      .map((scan, index) => ({ scan, index }))
      .sort((a, b) => a.scan.scanned_at.getTime() - b.scan.scanned_at.getTime() || a.index - b.index);
    const answers = await this.door.decideInOrder(
      order.map(({ scan }) => ({
        eventId,
        roomId: scan.room_id,
        qrData: scan.qr_data,
        direction: scan.direction,
        caller,
        deviceId: dto.device_id,
        nonce: scan.nonce,
        deviceTime: scan.scanned_at,
        source: 'offline' as const,
        localDecision: scan.local_decision,
      })),
    );
    const results: SyncItemResultDto[] = new Array<SyncItemResultDto>(dto.scans.length);
    // A nonce sent twice in this upload is stored by its first copy: the second is a replay, but not of an earlier
    // upload (what already_synced says).
    const storedNow = new Set<string>();
    order.forEach(({ scan, index }, i) => {
      const answer = answers[i];
      if (!answer._replayed) storedNow.add(scan.nonce);
      results[index] = {
        nonce: scan.nonce,
        status: answer.status,
        reason_code: answer.reason_code,
        conflict: answer._conflict,
        already_synced: answer._replayed && !storedNow.has(scan.nonce),
      };
    });
    return { results };
  }
}
