import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context';
import type { EventRole } from '../../common/auth/event-role';
import { AppException, conflict, ErrorCode, forbidden, notFound } from '../../common/errors/app.exception';
import { DomainEvents } from '../../common/events/domain-events';
import { pageWindow, toPage, type Page } from '../../common/pagination/pagination';
import type { AnswerQuestionDto, AskQuestionDto, QuestionDto, QuestionListQueryDto } from './dto/question.dto';
import type { QuestionStatus } from './entities/question.entity';
import { QuestionErrors } from './questions.errors';

/** Who moderates questions: they see every question and every name. */
export const MODERATORS: EventRole[] = ['organisateur', 'gestionnaire_des_salles'];
/** Questions one person may ask in an event per minute. */
export const QUESTIONS_PER_MINUTE = 5;

interface Row {
  id: string;
  session_id: string;
  question_text: string;
  is_anonymous: boolean;
  status: QuestionStatus;
  upvotes: number;
  answer_text: string | null;
  asked_by_id: string | null;
  asker: string | null;
  answerer: string | null;
  has_upvoted: boolean;
  created_at: Date;
  answered_at: Date | null;
}

const NAME = (alias: string) =>
  `nullif(trim(coalesce(${alias}.first_name, '') || ' ' || coalesce(${alias}.last_name, '')), '')`;
/** $1 event, $2 caller. */
const SELECT = `SELECT q.id, q.session_id, q.question_text, q.is_anonymous, q.status, q.upvotes, q.answer_text,
       q.asked_by_id, ${NAME('ua')} AS asker, ${NAME('ub')} AS answerer, q.created_at, q.answered_at,
       EXISTS (SELECT 1 FROM question_upvotes v WHERE v.question_id = q.id AND v.user_id = $2) AS has_upvoted
  FROM questions q LEFT JOIN users ua ON ua.id = q.asked_by_id LEFT JOIN users ub ON ub.id = q.answered_by_id`;
/** $3: the caller moderates. Others see approved and answered questions, and their own pending ones. */
const VISIBLE = `q.event_id = $1 AND ($3 OR q.status IN ('approved', 'answered')
                 OR (q.status = 'pending' AND q.asked_by_id = $2))`;
const PUBLIC: QuestionStatus[] = ['approved', 'answered'];

/** A question as one person sees it: moderators always see the name; socket views carry no `has_upvoted`. */
function view(r: Row, moderator: boolean, forCaller: boolean): QuestionDto {
  const dto: QuestionDto = {
    id: r.id,
    session: r.session_id,
    question_text: r.question_text,
    is_anonymous: r.is_anonymous,
    asked_by_name: moderator || !r.is_anonymous ? r.asker : null,
    status: r.status,
    upvotes: r.upvotes,
    answer_text: r.answer_text,
    answered_by_name: r.answerer,
    asked_at: r.created_at.toISOString(),
    answered_at: r.answered_at?.toISOString() ?? null,
  };
  if (forCaller) dto.has_upvoted = r.has_upvoted;
  return dto;
}

/**
 * Session Q&A (API.md, "Questions"). Votes are rows with a (question, user) primary key, and the counter moves in
 * the same statement as the row, so repeated or concurrent votes count once. With `settings.qa_moderation` on, a
 * question starts pending and only moderators and its author see it; hidden ones only moderators.
 */
@Injectable()
export class QuestionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: DomainEvents,
  ) {}

  private moderates(caller: AuthContext): boolean {
    return caller.role !== null && MODERATORS.includes(caller.role);
  }

  async list(
    eventId: string,
    sessionId: string,
    query: QuestionListQueryDto,
    caller: AuthContext,
    request: FastifyRequest,
  ): Promise<Page<QuestionDto>> {
    await this.sessionOf(this.dataSource.manager, eventId, sessionId);
    const window = pageWindow(query);
    const moderator = this.moderates(caller);
    const params = [eventId, caller.userId, moderator, sessionId];
    const [rows, count]: [Row[], { n: number }[]] = await Promise.all([
      this.dataSource.query(
        `${SELECT} WHERE ${VISIBLE} AND q.session_id = $4
          ORDER BY q.upvotes DESC, q.created_at, q.id LIMIT $5 OFFSET $6`,
        [...params, window.pageSize, window.offset],
      ),
      this.dataSource.query(
        `SELECT count(*)::int AS n FROM questions q WHERE ${VISIBLE} AND q.session_id = $4`,
        params,
      ),
    ]);
    return toPage(
      request,
      window,
      count[0]?.n ?? 0,
      rows.map((r) => view(r, moderator, true)),
    );
  }

  /**
   * Asks a question. The rate limit is exact: the caller's questions are counted under a per-person advisory lock,
   * so parallel requests cannot all pass the count.
   */
  async ask(eventId: string, sessionId: string, dto: AskQuestionDto, caller: AuthContext): Promise<QuestionDto> {
    const id = await this.dataSource.transaction(async (manager) => {
      const session = await this.sessionOf(manager, eventId, sessionId);
      if (session.status === 'cancelled' || session.status === 'completed') {
        throw conflict(QuestionErrors.SESSION_CLOSED, `This session is ${session.status}: it takes no more questions`);
      }
      await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 4141))', [
        `questions/${eventId}/${caller.userId}`,
      ]);
      const [recent]: { n: number }[] = await manager.query(
        `SELECT count(*)::int AS n FROM questions
          WHERE event_id = $1 AND asked_by_id = $2 AND created_at > now() - interval '1 minute'`,
        [eventId, caller.userId],
      );
      if ((recent?.n ?? 0) >= QUESTIONS_PER_MINUTE) {
        throw new AppException(
          HttpStatus.TOO_MANY_REQUESTS,
          ErrorCode.RATE_LIMITED,
          `At most ${QUESTIONS_PER_MINUTE} questions a minute`,
          undefined,
          { 'Retry-After': '60' },
        );
      }
      const rows: { id: string }[] = await manager.query(
        `INSERT INTO questions (event_id, session_id, asked_by_id, question_text, is_anonymous, status)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [
          eventId,
          sessionId,
          caller.userId,
          dto.question_text,
          dto.is_anonymous ?? false,
          session.moderated ? 'pending' : 'approved',
        ],
      );
      return (rows[0] as { id: string }).id;
    });
    return this.changed(eventId, id, caller, 'asked');
  }

  /** Adds or removes the caller's vote on a question the audience sees; once per person, whatever the concurrency. */
  async vote(eventId: string, id: string, caller: AuthContext, add: boolean): Promise<QuestionDto> {
    const change = add
      ? `INSERT INTO question_upvotes (question_id, user_id, event_id) SELECT id, $3, $2 FROM target
         ON CONFLICT (question_id, user_id) DO NOTHING RETURNING question_id`
      : `DELETE FROM question_upvotes WHERE question_id IN (SELECT id FROM target) AND user_id = $3
         RETURNING question_id`;
    const [rows]: [{ id: string }[], number] = await this.dataSource.query(
      `WITH target AS (SELECT id FROM questions WHERE id = $1 AND event_id = $2 AND status IN ('approved', 'answered')),
            changed AS (${change})
       UPDATE questions SET upvotes = upvotes ${add ? '+' : '-'} (SELECT count(*) FROM changed)
        WHERE id IN (SELECT id FROM target) RETURNING id`,
      [id, eventId, caller.userId],
    );
    if (rows.length === 0) throw notFound('Question');
    return this.changed(eventId, id, caller, 'updated');
  }

  /** Approving a question that has an answer (hidden, then shown again) shows it as answered, with its answer. */
  async moderate(eventId: string, id: string, status: QuestionStatus, caller: AuthContext): Promise<QuestionDto> {
    const [rows]: [unknown[], number] = await this.dataSource.query(
      `UPDATE questions SET status = CASE WHEN $3 = 'approved' AND answered_at IS NOT NULL THEN 'answered' ELSE $3 END,
              updated_at = now()
        WHERE id = $1 AND event_id = $2 RETURNING id`,
      [id, eventId, status],
    );
    if (rows.length === 0) throw notFound('Question');
    return this.changed(eventId, id, caller, 'updated');
  }

  async answer(eventId: string, id: string, dto: AnswerQuestionDto, caller: AuthContext): Promise<QuestionDto> {
    const [rows]: [unknown[], number] = await this.dataSource.query(
      `UPDATE questions SET answer_text = $3, answered_by_id = $4, answered_at = now(), status = 'answered',
              updated_at = now()
        WHERE id = $1 AND event_id = $2 RETURNING id`,
      [id, eventId, dto.answer_text, caller.userId],
    );
    if (rows.length === 0) throw notFound('Question');
    return this.changed(eventId, id, caller, 'updated');
  }

  /** The author or a moderator; a question the caller cannot see does not exist for them. */
  async remove(eventId: string, id: string, caller: AuthContext): Promise<void> {
    const row = await this.row(eventId, id, caller);
    if (!this.moderates(caller) && row.asked_by_id !== caller.userId) {
      throw forbidden('Only its author or a moderator deletes a question');
    }
    await this.dataSource.query('DELETE FROM questions WHERE id = $1 AND event_id = $2', [id, eventId]);
    void this.events.publish('question.changed', {
      eventId,
      sessionId: row.session_id,
      kind: 'deleted',
      moderatorView: { id, session: row.session_id, removed: true },
      publicView: null,
    });
  }

  private async row(eventId: string, id: string, caller: AuthContext): Promise<Row> {
    const rows: Row[] = await this.dataSource.query(`${SELECT} WHERE ${VISIBLE} AND q.id = $4`, [
      eventId,
      caller.userId,
      this.moderates(caller),
      id,
    ]);
    if (!rows[0]) throw notFound('Question');
    return rows[0];
  }

  /** The question as the caller now sees it, and the same change told to the session (see the gateway). */
  private async changed(
    eventId: string,
    id: string,
    caller: AuthContext,
    kind: 'asked' | 'updated',
  ): Promise<QuestionDto> {
    const rows: Row[] = await this.dataSource.query(`${SELECT} WHERE q.event_id = $1 AND q.id = $3`, [
      eventId,
      caller.userId,
      id,
    ]);
    const row = rows[0];
    if (!row) throw notFound('Question');
    void this.events.publish('question.changed', {
      eventId,
      sessionId: row.session_id,
      kind,
      moderatorView: view(row, true, false),
      publicView: PUBLIC.includes(row.status) ? view(row, false, false) : null,
    });
    return view(row, this.moderates(caller), true);
  }

  private async sessionOf(
    manager: EntityManager,
    eventId: string,
    sessionId: string,
  ): Promise<{ status: string; moderated: boolean }> {
    const rows: { status: string; moderated: boolean }[] = await manager.query(
      `SELECT s.status, coalesce(e.settings -> 'qa_moderation' = 'true'::jsonb, false) AS moderated
         FROM sessions s JOIN events e ON e.id = s.event_id WHERE s.id = $2 AND s.event_id = $1`,
      [eventId, sessionId],
    );
    if (!rows[0]) throw notFound('Session');
    return rows[0];
  }
}
