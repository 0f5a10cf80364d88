/**
 * A populated event for the security suite: one user of each role, and one real object of every kind a route can
 * name in its path (room, session, badge, annonce, question, atelier right, staff roles, lead, attendance record,
 * access log row), so that an attack names real ids instead of ids that would be 404 anyway.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AuthPolicy } from '../../src/common/auth/auth.decorators';
import { EVENT_ROLES, type EventRole } from '../../src/common/auth/event-role';
import { bearer, createRoom, createSession, createWorld, issueBadge, type World } from '../helpers/factories';
import type { TestApp } from '../helpers/test-app';

export interface RichWorld extends World {
  roomId: string;
  sessionId: string;
  atelierId: string;
  /** Badges (participants rows) of the participant and the exposant, with their QR text. */
  badge: { id: string; qr: string };
  exposantBadge: { id: string; qr: string };
  annonceId: string;
  questionId: string;
  sessionAccessId: string;
  userAssignmentId: string;
  roomAssignmentId: string;
  leadId: string;
  attendanceId: string;
  accessId: string;
}

const HOUR = 3600_000;

function created(res: { status: number; text: string; body: { id?: string; access_id?: string } }): string {
  assert.ok(res.status === 200 || res.status === 201, res.text);
  const id = res.body.id ?? res.body.access_id;
  assert.equal(typeof id, 'string', res.text);
  return id as string;
}

export async function createRichWorld(t: TestApp): Promise<RichWorld> {
  const world = await createWorld(t);
  const eventId = world.event.id;
  const org = bearer(world.tokens.organisateur);
  const roomId = await createRoom(t, eventId, { capacity: 50 });
  const sessionId = await createSession(t, eventId, roomId, { start: new Date(Date.now() - HOUR) });
  const atelierRoom = await createRoom(t, eventId);
  const atelierId = await createSession(t, eventId, atelierRoom, {
    type: 'atelier',
    isPaid: true,
    price: '100.00',
    capacity: 10,
  });
  const p = await issueBadge(t, eventId, world.users.participant.id);
  const e = await issueBadge(t, eventId, world.users.exposant.id);

  const annonceId = created(await t.http.post('/api/annonces').set(org).send({ title: 'Welcome' }));
  const questionId = created(
    await t.http
      .post(`/api/sessions/${sessionId}/questions`)
      .set(bearer(world.tokens.participant))
      .send({ question_text: 'Is this on?' }),
  );
  const sessionAccessId = created(
    await t.http
      .post('/api/session-access')
      .set(org)
      .send({ participant_id: p.participant.id, session_id: atelierId, payment_status: 'paid' }),
  );
  const assignments: { id: string }[] = await t.db.query(
    'SELECT id FROM user_event_assignments WHERE event_id = $1 AND user_id = $2',
    [eventId, world.users.participant.id],
  );
  const roomAssignmentId = created(
    await t.http
      .post('/api/room-assignments')
      .set(org)
      .send({
        user_id: world.users.gestionnaire_des_salles.id,
        room_id: atelierRoom,
        role: 'gestionnaire_des_salles',
        start_time: new Date(Date.now() + 48 * HOUR).toISOString(),
        end_time: new Date(Date.now() + 50 * HOUR).toISOString(),
      }),
  );
  const leadId = created(
    await t.http.post('/api/exposant/scan').set(bearer(world.tokens.exposant)).send({ qr_data: p.qr }),
  );
  const attendanceId = created(
    await t.http.post(`/api/events/${eventId}/attendees`).set(org).send({ participant_id: p.participant.id }),
  );
  const accessId = created(await t.http.post(`/api/rooms/${roomId}/verify_access`).set(org).send({ qr_data: p.qr }));
  return {
    ...world,
    roomId,
    sessionId,
    atelierId,
    badge: { id: p.participant.id, qr: p.qr },
    exposantBadge: { id: e.participant.id, qr: e.qr },
    annonceId,
    questionId,
    sessionAccessId,
    userAssignmentId: (assignments[0] as { id: string }).id,
    roomAssignmentId,
    leadId,
    attendanceId,
    accessId,
  };
}

/**
 * A concrete URL for a route pattern of `listRoutes` (`/api/rooms/{id}/sessions`): each `{param}` gets the id of the
 * world's object of that kind, judged by the first path segment; a kind the world does not know (a route added
 * later) gets a random UUID, which still exercises the guard.
 */
export function concretePath(pattern: string, w: RichWorld): string {
  const collection = pattern.split('/')[2] ?? '';
  const byCollection: Record<string, string> = {
    events: w.event.id,
    rooms: w.roomId,
    sessions: w.sessionId,
    participants: w.badge.id,
    annonces: w.annonceId,
    questions: w.questionId,
    'session-access': w.sessionAccessId,
    'user-assignments': w.userAssignmentId,
    'room-assignments': w.roomAssignmentId,
    'room-access': w.accessId,
    exposant: w.leadId,
  };
  return pattern.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (name === 'kind') return 'programme';
    if (name === 'attendanceId') return w.attendanceId;
    return name === 'id' ? (byCollection[collection] ?? randomUUID()) : randomUUID();
  });
}

/**
 * A digest of everything the event owns: the event row and the rows of every table with an `event_id` (sessions and
 * refresh tokens aside, which logins change). Equal before and after proves that a sweep of requests wrote nothing,
 * neither insert, update nor delete, while other spec files write to other events of the same database.
 */
export async function eventDigest(t: TestApp, eventId: string): Promise<Record<string, string>> {
  const tables: { name: string }[] = await t.db.query(
    `SELECT table_name AS name FROM information_schema.columns
      WHERE table_schema = 'public' AND column_name = 'event_id' AND table_name NOT IN ('auth_sessions', 'refresh_tokens')
      ORDER BY 1`,
  );
  const digest: Record<string, string> = {};
  for (const { name } of [{ name: 'events' }, ...tables]) {
    const key = name === 'events' ? 'id' : 'event_id';
    const rows: { d: string | null }[] = await t.db.query(
      `SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) AS d FROM "${name}" x WHERE ${key} = $1`,
      [eventId],
    );
    digest[name] = rows[0]?.d ?? 'empty';
  }
  return digest;
}

/**
 * The event roles whose access token a route's policy admits, or null for a route that no access token opens as such
 * (public, selection token, and any other kind, such as a bot token: those answer an access token like no token).
 */
export function accessRoles(policy: AuthPolicy | null): readonly EventRole[] | null {
  switch (policy?.kind) {
    case 'event':
      return policy.roles;
    case 'event-creator':
      return ['organisateur'];
    case 'authenticated':
      return EVENT_ROLES;
    default:
      return null;
  }
}
