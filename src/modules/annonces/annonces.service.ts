import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context';
import { assertEventFilter } from '../../common/auth/event-scope';
import type { EventRole } from '../../common/auth/event-role';
import { conflict, forbidden, notFound, validationFailed } from '../../common/errors/app.exception';
import { DomainEvents, type AnnoncePublished } from '../../common/events/domain-events';
import { pageWindow, toPage, type Page } from '../../common/pagination/pagination';
import { RoomsService } from '../rooms/rooms.service';
import { SessionsService } from '../sessions/sessions.service';
import { AnnonceErrors } from './annonces.errors';
import type { AnnonceDto, AnnonceListQueryDto, CreateAnnonceDto, UpdateAnnonceDto } from './dto/annonce.dto';
import type { AnnonceTarget } from './entities/annonce.entity';

/** The roles an annonce target names (`all` names every role). */
export const ROLE_OF_TARGET: Record<Exclude<AnnonceTarget, 'all'>, EventRole> = {
  participants: 'participant',
  exposants: 'exposant',
  controlleurs: 'controlleur_des_badges',
  gestionnaires: 'gestionnaire_des_salles',
  organisateurs: 'organisateur',
};
const TARGET_OF_ROLE = Object.fromEntries(Object.entries(ROLE_OF_TARGET).map(([t, r]) => [r, t])) as Record<
  EventRole,
  AnnonceTarget
>;
const ROLE_SQL = `CASE a.target ${Object.entries(ROLE_OF_TARGET)
  .map(([t, r]) => `WHEN '${t}' THEN '${r}'`)
  .join(' ')} END`;

/** Roles that write annonces, and so see all of them (scheduled ones too). */
export const WRITERS: EventRole[] = ['organisateur', 'gestionnaire_des_salles'];

interface Row {
  id: string;
  event_id: string;
  title: string;
  description: string;
  target: AnnonceTarget;
  target_rooms: string[];
  target_sessions: string[];
  publish_at: Date;
  published_at: Date | null;
  recipients: string[] | null;
  created_by_id: string | null;
  created_by_name: string | null;
  is_read: boolean;
  created_at: Date;
  updated_at: Date;
}

const toDto = (r: Row): AnnonceDto => ({
  id: r.id,
  event: r.event_id,
  title: r.title,
  description: r.description,
  target: r.target,
  target_rooms: r.target_rooms,
  target_sessions: r.target_sessions,
  publish_at: r.publish_at.toISOString(),
  published_at: r.published_at?.toISOString() ?? null,
  created_by: r.created_by_id,
  created_by_name: r.created_by_name,
  is_read: r.is_read,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});

const SELECT = `SELECT a.id, a.event_id, a.title, a.description, a.target, a.target_rooms, a.target_sessions,
       a.publish_at, a.published_at, a.recipients, a.created_by_id,
       nullif(trim(coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, '')), '') AS created_by_name,
       EXISTS (SELECT 1 FROM annonce_reads r WHERE r.annonce_id = a.id AND r.user_id = $2) AS is_read,
       a.created_at, a.updated_at
  FROM annonces a LEFT JOIN users u ON u.id = a.created_by_id`;

/**
 * What the caller may see ($1 event, $2 user, $3 whether they write annonces, $4 the target naming their role):
 * writers everything of the event, others what is published and targets them.
 */
const VISIBLE = `a.event_id = $1 AND ($3 OR (a.published_at IS NOT NULL AND a.target IN ('all', $4)
                 AND (a.recipients IS NULL OR $2 = ANY (a.recipients))))`;

/**
 * Annonces (API.md, "Annonces"). Publication is one conditional UPDATE that claims due rows (`published_at` set once,
 * `FOR UPDATE SKIP LOCKED`), so an annonce is published once even with several instances running the scheduler, and
 * the recipients of an annonce narrowed to rooms or sessions are fixed in that same statement.
 */
@Injectable()
export class AnnoncesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly rooms: RoomsService,
    private readonly sessions: SessionsService,
    private readonly events: DomainEvents,
  ) {}

  private scope(eventId: string, caller: AuthContext): unknown[] {
    const role = caller.role as EventRole;
    return [eventId, caller.userId, WRITERS.includes(role), TARGET_OF_ROLE[role]];
  }

  async list(
    eventId: string,
    query: AnnonceListQueryDto,
    caller: AuthContext,
    request: FastifyRequest,
  ): Promise<Page<AnnonceDto>> {
    assertEventFilter(query.event, eventId);
    const window = pageWindow(query);
    const params = this.scope(eventId, caller);
    const [rows, count]: [Row[], { n: number }[]] = await Promise.all([
      this.dataSource.query(
        `${SELECT} WHERE ${VISIBLE}
          ORDER BY coalesce(a.published_at, a.publish_at) DESC, a.id LIMIT $5 OFFSET $6`,
        [...params, window.pageSize, window.offset],
      ),
      this.dataSource.query(`SELECT count(*)::int AS n FROM annonces a WHERE ${VISIBLE}`, params),
    ]);
    return toPage(request, window, count[0]?.n ?? 0, rows.map(toDto));
  }

  async get(eventId: string, id: string, caller: AuthContext): Promise<AnnonceDto> {
    return toDto(await this.visibleRow(eventId, id, caller));
  }

  private async visibleRow(eventId: string, id: string, caller: AuthContext): Promise<Row> {
    const rows: Row[] = await this.dataSource.query(`${SELECT} WHERE ${VISIBLE} AND a.id = $5`, [
      ...this.scope(eventId, caller),
      id,
    ]);
    if (!rows[0]) throw notFound('Annonce');
    return rows[0];
  }

  async create(eventId: string, dto: CreateAnnonceDto, caller: AuthContext): Promise<AnnonceDto> {
    await this.assertTargetsInEvent(eventId, dto);
    const rows: { id: string }[] = await this.dataSource.query(
      `INSERT INTO annonces (event_id, title, description, target, target_rooms, target_sessions, publish_at,
                             created_by_id)
       VALUES ($1, $2, $3, $4, $5, $6, greatest(coalesce($7, now()), now()), $8) RETURNING id`,
      [
        eventId,
        dto.title,
        dto.description ?? '',
        dto.target ?? 'all',
        dto.target_rooms ?? [],
        dto.target_sessions ?? [],
        dto.publish_at ?? null,
        caller.userId,
      ],
    );
    const id = (rows[0] as { id: string }).id;
    await this.publishDue(id);
    return this.get(eventId, id, caller);
  }

  /**
   * PATCH: text can be corrected at any time; the audience and the publication time only until it is published
   * (the conditional UPDATE decides against a concurrent publication: ANNONCE_ALREADY_PUBLISHED).
   */
  async update(eventId: string, id: string, dto: UpdateAnnonceDto, caller: AuthContext): Promise<AnnonceDto> {
    const current = await this.ownedRow(eventId, id, caller);
    await this.assertTargetsInEvent(eventId, dto);
    const audience = ['target', 'target_rooms', 'target_sessions', 'publish_at'].some(
      (k) => dto[k as keyof UpdateAnnonceDto] !== undefined,
    );
    if (audience && current.published_at) {
      throw conflict(AnnonceErrors.ALREADY_PUBLISHED, 'A published annonce keeps its audience; only its text changes');
    }
    const [, affected]: [unknown, number] = await this.dataSource.query(
      `UPDATE annonces SET title = coalesce($3, title), description = coalesce($4, description),
              target = coalesce($5, target), target_rooms = coalesce($6, target_rooms),
              target_sessions = coalesce($7, target_sessions),
              publish_at = CASE WHEN $8 THEN greatest(coalesce($9, now()), now()) ELSE publish_at END,
              updated_at = now()
        WHERE id = $1 AND event_id = $2 AND (NOT $10 OR published_at IS NULL)`,
      [
        id,
        eventId,
        dto.title ?? null,
        dto.description ?? null,
        dto.target ?? null,
        dto.target_rooms ?? null,
        dto.target_sessions ?? null,
        dto.publish_at !== undefined,
        dto.publish_at ?? null,
        audience,
      ],
    );
    if (!affected) {
      throw conflict(AnnonceErrors.ALREADY_PUBLISHED, 'A published annonce keeps its audience; only its text changes');
    }
    await this.publishDue(id);
    return this.get(eventId, id, caller);
  }

  async remove(eventId: string, id: string, caller: AuthContext): Promise<void> {
    await this.ownedRow(eventId, id, caller);
    await this.dataSource.query('DELETE FROM annonces WHERE id = $1 AND event_id = $2', [id, eventId]);
  }

  /** A read receipt; repeating it changes nothing. */
  async markRead(eventId: string, id: string, caller: AuthContext): Promise<AnnonceDto> {
    const row = await this.visibleRow(eventId, id, caller);
    if (!row.published_at) throw notFound('Annonce');
    await this.dataSource.query(
      `INSERT INTO annonce_reads (annonce_id, user_id, event_id) VALUES ($1, $2, $3)
       ON CONFLICT (annonce_id, user_id) DO NOTHING`,
      [id, caller.userId, eventId],
    );
    return toDto({ ...row, is_read: true });
  }

  /**
   * Publishes the annonces whose time has come (or this one), each exactly once across instances, and tells the
   * real-time gateway who should receive them. Returns how many were published.
   */
  async publishDue(onlyId: string | null = null): Promise<number> {
    // TypeORM answers a raw UPDATE with `[rows, affectedCount]`.
    const [published]: [Row[], number] = await this.dataSource.query(
      `WITH due AS (
         SELECT id FROM annonces
          WHERE published_at IS NULL AND publish_at <= now() AND ($1::uuid IS NULL OR id = $1)
          ORDER BY publish_at LIMIT 100 FOR UPDATE SKIP LOCKED)
       UPDATE annonces a SET published_at = now(),
              recipients = CASE WHEN cardinality(a.target_rooms) + cardinality(a.target_sessions) = 0 THEN NULL
              ELSE ARRAY(
                SELECT DISTINCT p.user_id FROM participants p
                  JOIN user_event_assignments m ON m.event_id = p.event_id AND m.user_id = p.user_id AND m.is_active
                 WHERE p.event_id = a.event_id AND (a.target = 'all' OR m.role = ${ROLE_SQL})
                   AND (p.current_room_id = ANY (a.target_rooms)
                        OR EXISTS (SELECT 1 FROM sessions s
                                    WHERE s.event_id = a.event_id AND s.id = ANY (a.target_sessions)
                                      AND (NOT s.is_paid OR EXISTS (
                                            SELECT 1 FROM session_access sa
                                             WHERE sa.session_id = s.id AND sa.participant_id = p.id
                                               AND sa.payment_status IN ('paid', 'free')))))) END
         FROM due WHERE a.id = due.id
       RETURNING a.*, NULL::text AS created_by_name, false AS is_read`,
      [onlyId],
    );
    for (const row of published) {
      const names: { name: string | null }[] = await this.dataSource.query(
        `SELECT nullif(trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')), '') AS name
           FROM users WHERE id = $1`,
        [row.created_by_id],
      );
      void this.events.publish('annonce.published', {
        eventId: row.event_id,
        annonce: toDto({ ...row, created_by_name: names[0]?.name ?? null }),
        audience: audienceOf(row),
      });
    }
    return published.length;
  }

  /** The row, if the caller may change it: organisateurs any, gestionnaires their own. */
  private async ownedRow(eventId: string, id: string, caller: AuthContext): Promise<Row> {
    const row = await this.visibleRow(eventId, id, caller);
    if (caller.role !== 'organisateur' && row.created_by_id !== caller.userId) {
      throw forbidden('A gestionnaire changes only the annonces they wrote');
    }
    return row;
  }

  private async assertTargetsInEvent(
    eventId: string,
    dto: { target_rooms?: string[]; target_sessions?: string[] },
  ): Promise<void> {
    const errors: Record<string, string[]> = {};
    if ((await this.rooms.notInEvent(eventId, dto.target_rooms ?? [])).length > 0) {
      errors.target_rooms = ['Every room must be a room of this event'];
    }
    if ((await this.sessions.notInEvent(eventId, dto.target_sessions ?? [])).length > 0) {
      errors.target_sessions = ['Every session must be a session of this event'];
    }
    if (Object.keys(errors).length > 0) throw validationFailed(errors);
  }
}

function audienceOf(row: Row): AnnoncePublished['audience'] {
  if (row.recipients) return { kind: 'users', userIds: row.recipients };
  if (row.target === 'all') return { kind: 'event' };
  return { kind: 'role', role: ROLE_OF_TARGET[row.target] };
}
