import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { assertEventFilter } from '../../common/auth/event-scope';
import { AppException, conflict, notFound } from '../../common/errors/app.exception';
import { escapeLike, orderingOf, type Page, pageWindow, toPage } from '../../common/pagination/pagination';
import { copyCsv, csvText, csvTime, sqlLiteral } from '../../database/copy-csv';
import { startOfUtcDay } from '../access/door-stats.service';
import { qrHash } from '../participants/badge-codes';
import type { LeadDto, LeadListQueryDto, LeadStatsDto, ScanLeadDto, UpdateLeadDto } from './dto/exposant-scan.dto';
import { LEAD_KEY } from './entities/exposant-scan.entity';
import { ExposantScanErrors } from './exposant-scans.errors';

const FULL_NAME = `trim(u.first_name || ' ' || u.last_name)`;
/** The visitor's email, only when they agreed to share it with exhibitors. */
const SHARED_EMAIL = 'CASE WHEN p.share_contact_with_exhibitors THEN u.email END';
/** The visitor of lead `s`: badge `p`, account `u`. */
const VISITOR = 'JOIN participants p ON p.id = s.participant_id JOIN users u ON u.id = p.user_id';
/** A lead as the API shows it (see `toDto`). */
const LEAD_COLUMNS = `s.id, s.scan_count, s.first_scanned_at, s.last_scanned_at, s.notes, s.rating,
  p.id AS participant_id, p.badge_id, ${FULL_NAME} AS full_name, ${SHARED_EMAIL} AS email`;

const ORDER_COLUMNS = {
  last_scanned_at: 's.last_scanned_at',
  first_scanned_at: 's.first_scanned_at',
  scan_count: 's.scan_count',
  rating: 's.rating',
  full_name: FULL_NAME,
};

/**
 * A scan, in one statement: the badge is found by the hash of its QR in the event; the lead is inserted, or (same
 * exhibitor and visitor) counted once more, the unique key deciding between concurrent scans; the scan is logged for
 * the day's figures. `created` is true when the row was inserted rather than updated (xmax = 0). When no lead is
 * written, `refused` says why. $1 event, $2 QR hash, $3 exhibitor (user id), $4 notes, $5 rating.
 */
const SCAN = `
  WITH badge AS (
    SELECT p.id, p.user_id, (a.is_active AND u.is_active) AS active
      FROM participants p
      JOIN users u ON u.id = p.user_id
      JOIN user_event_assignments a ON a.event_id = p.event_id AND a.user_id = p.user_id
     WHERE p.event_id = $1 AND p.qr_hash = $2
  ), lead AS (
    INSERT INTO exposant_scans AS s (event_id, exposant_user_id, participant_id, notes, rating)
    SELECT $1::uuid, $3::uuid, b.id, $4::text, $5::smallint FROM badge b WHERE b.active AND b.user_id <> $3
    ON CONFLICT ON CONSTRAINT ${LEAD_KEY} DO UPDATE
       -- now() is when this transaction started: a scan that waited behind the one that created the lead may have
       -- started before it, and its time must not go behind first_scanned_at (CHECK), hence greatest().
       SET scan_count = s.scan_count + 1, last_scanned_at = greatest(s.last_scanned_at, now()), updated_at = now(),
           notes = coalesce(EXCLUDED.notes, s.notes), rating = coalesce(EXCLUDED.rating, s.rating)
    RETURNING s.*, (s.xmax = 0) AS created
  ), visit AS (
    INSERT INTO exposant_scan_visits (event_id, scan_id, scanned_at) SELECT event_id, id, last_scanned_at FROM lead
  )
  SELECT CASE WHEN b.id IS NULL THEN
                CASE WHEN EXISTS (SELECT 1 FROM revoked_qr_codes r WHERE r.event_id = $1 AND r.qr_hash = $2)
                     THEN 'BADGE_REVOKED' ELSE 'BADGE_UNKNOWN' END
              WHEN b.user_id = $3 THEN 'OWN_BADGE'
              WHEN NOT b.active THEN 'BADGE_REVOKED' END AS refused,
         s.created, ${LEAD_COLUMNS}
    FROM (SELECT 1) AS one
    LEFT JOIN badge b ON true
    LEFT JOIN (lead s ${VISITOR}) ON true`;

interface LeadRow {
  id: string;
  scan_count: number;
  first_scanned_at: Date;
  last_scanned_at: Date;
  notes: string | null;
  rating: number | null;
  participant_id: string;
  badge_id: string;
  full_name: string;
  email: string | null;
}

type Refusal = keyof typeof ExposantScanErrors;

const REFUSALS: Record<Refusal, () => AppException> = {
  BADGE_UNKNOWN: () =>
    new AppException(HttpStatus.NOT_FOUND, ExposantScanErrors.BADGE_UNKNOWN, 'No badge of this event has this QR code'),
  BADGE_REVOKED: () => conflict(ExposantScanErrors.BADGE_REVOKED, 'This badge is no longer valid'),
  OWN_BADGE: () => conflict(ExposantScanErrors.OWN_BADGE, 'This is your own badge'),
};

/**
 * Exhibitor leads. Every query names the event and the exhibitor: an exhibitor sees only their own leads, and
 * another's lead does not exist for them (404). Nothing here touches check-in, rooms or the access log.
 */
@Injectable()
export class ExposantScansService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Records a scan of a visitor's badge; `created` tells a new lead (201) from a repeat (200). */
  async scan(eventId: string, exposantId: string, dto: ScanLeadDto): Promise<{ lead: LeadDto; created: boolean }> {
    const rows: (LeadRow & { refused: Refusal | null; created: boolean | null })[] = await this.dataSource.query(
      SCAN,
      // Scanners may add a newline or spaces; a QR text never contains whitespace.
      [eventId, qrHash(dto.qr_data.trim()), exposantId, dto.notes ?? null, dto.rating ?? null],
    );
    const row = rows[0];
    if (!row || row.refused) throw REFUSALS[row?.refused ?? 'BADGE_UNKNOWN']();
    return { lead: toDto(row), created: row.created === true };
  }

  /** The exhibitor's own leads, last scanned first by default; `search` matches the visitor's name or badge id. */
  async list(
    eventId: string,
    exposantId: string,
    query: LeadListQueryDto,
    request: FastifyRequest,
  ): Promise<Page<LeadDto>> {
    assertEventFilter(query.event, eventId);
    const params: unknown[] = [eventId, exposantId];
    let search = '';
    if (query.search) {
      params.push(`%${escapeLike(query.search)}%`);
      search = `AND (${FULL_NAME} ILIKE $3 OR p.badge_id ILIKE $3)`;
    }
    const [column, direction] = orderingOf(query.ordering, ORDER_COLUMNS, ['s.last_scanned_at', 'DESC']);
    const from = `FROM exposant_scans s ${VISITOR} WHERE s.event_id = $1 AND s.exposant_user_id = $2 ${search}`;
    const window = pageWindow(query);
    const [count, rows] = await Promise.all([
      this.dataSource.query(`SELECT count(*) AS n ${from}`, params) as Promise<{ n: string }[]>,
      this.dataSource.query(
        `SELECT ${LEAD_COLUMNS} ${from}
          ORDER BY ${column} ${direction} NULLS LAST, s.id LIMIT ${window.pageSize} OFFSET ${window.offset}`,
        params,
      ) as Promise<LeadRow[]>,
    ]);
    return toPage(request, window, Number(count[0]?.n ?? 0), rows.map(toDto));
  }

  /** Notes and rating of an own lead: an absent field is kept, null clears it. */
  async update(eventId: string, exposantId: string, id: string, dto: UpdateLeadDto): Promise<LeadDto> {
    const rows: LeadRow[] = await this.dataSource.query(
      `WITH s AS (
         UPDATE exposant_scans
            SET notes = CASE WHEN $4 THEN $5::text ELSE notes END,
                rating = CASE WHEN $6 THEN $7::smallint ELSE rating END,
                updated_at = now()
          WHERE id = $1 AND event_id = $2 AND exposant_user_id = $3
         RETURNING *)
       SELECT ${LEAD_COLUMNS} FROM s ${VISITOR}`,
      [
        id,
        eventId,
        exposantId,
        dto.notes !== undefined,
        dto.notes ?? null,
        dto.rating !== undefined,
        dto.rating ?? null,
      ],
    );
    const row = rows[0];
    if (!row) throw notFound('Lead');
    return toDto(row);
  }

  /**
   * Every scan counts in total_visits (the sum of scan_count), each visitor once in unique_visitors (the leads);
   * today_visits and by_hour count the scans logged since 00:00 UTC, repeats included.
   */
  async statistics(eventId: string, exposantId: string): Promise<LeadStatsDto> {
    const [totals, hours] = await Promise.all([
      this.dataSource.query(
        `SELECT coalesce(sum(scan_count), 0) AS visits, count(*) AS leads
           FROM exposant_scans WHERE event_id = $1 AND exposant_user_id = $2`,
        [eventId, exposantId],
      ) as Promise<{ visits: string; leads: string }[]>,
      this.dataSource.query(
        `SELECT extract(hour FROM v.scanned_at AT TIME ZONE 'UTC')::int AS hour, count(*) AS n
           FROM exposant_scans s JOIN exposant_scan_visits v ON v.event_id = s.event_id AND v.scan_id = s.id
          WHERE s.event_id = $1 AND s.exposant_user_id = $2 AND v.scanned_at >= $3
          GROUP BY 1`,
        [eventId, exposantId, startOfUtcDay()],
      ) as Promise<{ hour: number; n: string }[]>,
    ]);
    const by_hour = Array.from({ length: 24 }, (_, hour) => ({ hour, visits: 0 }));
    for (const h of hours) (by_hour[h.hour] as (typeof by_hour)[number]).visits = Number(h.n);
    return {
      total_visits: Number(totals[0]?.visits ?? 0),
      unique_visitors: Number(totals[0]?.leads ?? 0),
      today_visits: by_hour.reduce((n, h) => n + h.visits, 0),
      by_hour,
    };
  }

  /** The exhibitor's leads as CSV, in the order they were first scanned (the email only where the visitor agreed). */
  exportCsv(eventId: string, exposantId: string): Promise<Readable> {
    return copyCsv(
      this.dataSource,
      `SELECT ${csvText('p.badge_id')} AS badge_id, ${csvText(FULL_NAME)} AS full_name,
              ${csvText(SHARED_EMAIL)} AS email, s.scan_count,
              ${csvTime('s.first_scanned_at')} AS first_scanned_at, ${csvTime('s.last_scanned_at')} AS last_scanned_at,
              s.rating, ${csvText('s.notes')} AS notes
         FROM exposant_scans s ${VISITOR}
        WHERE s.event_id = ${sqlLiteral(eventId)}::uuid AND s.exposant_user_id = ${sqlLiteral(exposantId)}::uuid
        ORDER BY s.first_scanned_at, s.id`,
    );
  }
}

function toDto(r: LeadRow): LeadDto {
  return {
    id: r.id,
    participant: {
      id: r.participant_id,
      full_name: r.full_name,
      badge_id: r.badge_id,
      ...(r.email === null ? {} : { email: r.email }),
    },
    scan_count: r.scan_count,
    first_scanned_at: r.first_scanned_at,
    last_scanned_at: r.last_scanned_at,
    notes: r.notes,
    rating: r.rating,
  };
}
