import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { EventRole } from '../../common/auth/event-role';
import { newBadgeId, newQrSalt, qrHash, qrText } from './badge-codes';
import type { Participant } from './entities/participant.entity';
import { QR_KEY } from './qr-key';

/** Roles that always have a badge; staff may be given one. */
export const BADGE_ROLES: readonly EventRole[] = ['participant', 'exposant'];

/** A badge id drawn twice in one event (1 in 2^40 per pair) is drawn again; a few rounds end any clash. */
const MAX_ROUNDS = 5;

/**
 * Issues and rotates badges. No module dependencies (only the key), so that the assignment listener, the CSV import
 * and the demo seed all issue badges the same way, inside their own transactions.
 */
@Injectable()
export class BadgeIssuer {
  constructor(@Inject(QR_KEY) private readonly key: Buffer) {}

  /** The QR text of a badge (shown to its owner and organisateurs only). */
  qrCodeData(participant: Pick<Participant, 'id' | 'qrSalt'>): string {
    return qrText(this.key, participant.id, participant.qrSalt);
  }

  /**
   * Gives each of these members of the event a badge unless they have one (insert-or-ignore on (event, user), so
   * concurrent callers issue one badge per person). Returns the ids of the users who got a new badge.
   */
  async ensure(manager: EntityManager, eventId: string, userIds: string[]): Promise<string[]> {
    const issued: string[] = [];
    let pending = [...new Set(userIds)];
    for (let round = 0; round < MAX_ROUNDS && pending.length > 0; round++) {
      const rows = pending.map((userId) => {
        const id = randomUUID();
        const salt = newQrSalt();
        return { id, userId, badgeId: newBadgeId(), salt, hash: qrHash(qrText(this.key, id, salt)) };
      });
      const inserted: { user_id: string }[] = await manager.query(
        `INSERT INTO participants (id, event_id, user_id, badge_id, qr_salt, qr_hash)
         SELECT r.id, $1, r.user_id, r.badge_id, r.salt, r.hash
           FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[])
                AS r(id, user_id, badge_id, salt, hash)
         ON CONFLICT DO NOTHING
         RETURNING user_id`,
        [
          eventId,
          rows.map((r) => r.id),
          rows.map((r) => r.userId),
          rows.map((r) => r.badgeId),
          rows.map((r) => r.salt),
          rows.map((r) => r.hash),
        ],
      );
      issued.push(...inserted.map((r) => r.user_id));
      // Not inserted: either the person already has a badge (done) or the drawn badge id clashed (draw again).
      const done = new Set(inserted.map((r) => r.user_id));
      const missing = pending.filter((u) => !done.has(u));
      pending = [];
      if (missing.length === 0) break;
      const have: { user_id: string }[] = await manager.query(
        'SELECT user_id FROM participants WHERE event_id = $1 AND user_id = ANY($2::uuid[])',
        [eventId, missing],
      );
      const existing = new Set(have.map((r) => r.user_id));
      pending = missing.filter((u) => !existing.has(u));
    }
    if (pending.length > 0) throw new Error(`Could not draw unique badge ids for ${pending.length} users`);
    return issued;
  }

  /**
   * Replaces the QR of a badge: the old hash joins the revoked list (doors answer BADGE_REVOKED for it) and a new
   * salt gives a new text, in one statement. Returns false when there is no such badge in the event.
   */
  async rotate(manager: EntityManager, eventId: string, participantId: string): Promise<boolean> {
    const salt = newQrSalt();
    const rows: unknown[] = await manager.query(
      `WITH old AS (SELECT id, qr_hash FROM participants WHERE id = $1 AND event_id = $2 FOR UPDATE),
            revoked AS (INSERT INTO revoked_qr_codes (event_id, participant_id, qr_hash)
                        SELECT $2, id, qr_hash FROM old ON CONFLICT DO NOTHING),
            changed AS (UPDATE participants p SET qr_salt = $3, qr_hash = $4, updated_at = now() FROM old
                        WHERE p.id = old.id RETURNING p.id)
       SELECT id FROM changed`,
      // A SELECT around the UPDATE so that the driver returns plain rows.
      [participantId, eventId, salt, qrHash(qrText(this.key, participantId, salt))],
    );
    return rows.length > 0;
  }
}
