import { EVENT_ROLES, type EventRole } from '../../src/common/auth/event-role';
import { UserEventAssignment } from '../../src/modules/assignments/entities/user-event-assignment.entity';
import { SessionsService, type TokenPair } from '../../src/modules/auth/sessions.service';
import { Event } from '../../src/modules/events/entities/event.entity';
import { BadgeIssuer } from '../../src/modules/participants/badge-issuer';
import { Participant } from '../../src/modules/participants/entities/participant.entity';
import { User } from '../../src/modules/users/entities/user.entity';
import { PasswordHasher } from '../../src/modules/users/password-hasher';
import type { TestApp } from './test-app';

/** The password of every factory user. */
export const PASSWORD = 'correct-horse-battery-9';

let seq = 0;
/** A value unique across the whole parallel run. */
export const uniq = (prefix = 'x'): string =>
  `${prefix}${process.pid}${Date.now().toString(36)}${(++seq).toString(36)}`;

export const bearer = (token: string): { Authorization: string } => ({ Authorization: `Bearer ${token}` });

const HOUR = 3600_000;

let passwordHash: Promise<string> | undefined;

/** Factory users always have an email (only Discord-only accounts have none). */
export type TestUser = User & { email: string };

export async function createUser(
  t: TestApp,
  opts: Partial<Pick<User, 'firstName' | 'lastName' | 'isStaff' | 'isActive'>> & {
    email?: string;
    password?: string | null;
  } = {},
): Promise<TestUser> {
  passwordHash ??= t.app.get(PasswordHasher, { strict: false }).hash(PASSWORD);
  let hash: string | null = await passwordHash;
  if (opts.password === null) hash = null;
  else if (opts.password !== undefined) hash = await t.app.get(PasswordHasher, { strict: false }).hash(opts.password);
  const repo = t.db.getRepository(User);
  const email = (opts.email ?? `${uniq('user')}@example.test`).toLowerCase();
  const user = await repo.save(
    repo.create({
      email,
      firstName: opts.firstName ?? 'Test',
      lastName: opts.lastName ?? uniq('L'),
      isStaff: opts.isStaff ?? false,
      isActive: opts.isActive ?? true,
      passwordHash: hash,
    }),
  );
  return { ...user, email };
}

/** An event running now by default (started an hour ago, ends in a day). */
export async function createEvent(t: TestApp, opts: Partial<Event> = {}): Promise<Event> {
  const repo = t.db.getRepository(Event);
  return repo.save(
    repo.create({
      name: uniq('Event '),
      startDate: new Date(Date.now() - HOUR),
      endDate: new Date(Date.now() + 24 * HOUR),
      ...opts,
    }),
  );
}

export async function assign(
  t: TestApp,
  eventId: string,
  userId: string,
  role: EventRole,
  isActive = true,
): Promise<UserEventAssignment> {
  const repo = t.db.getRepository(UserEventAssignment);
  return repo.save(repo.create({ eventId, userId, role, isActive }));
}

/** A real session and token pair, as a login would issue them. */
export function openSession(t: TestApp, userId: string, eventId: string | null): Promise<TokenPair> {
  return t.app.get(SessionsService, { strict: false }).open(userId, eventId);
}

export interface World {
  event: Event;
  users: Record<EventRole, TestUser>;
  /** Access token of each role, scoped to `event`. */
  tokens: Record<EventRole, string>;
}

/** An event with one user of each role and a token for each. */
export async function createWorld(t: TestApp, eventOpts: Partial<Event> = {}): Promise<World> {
  const event = await createEvent(t, eventOpts);
  const users = {} as Record<EventRole, TestUser>;
  const tokens = {} as Record<EventRole, string>;
  for (const role of EVENT_ROLES) {
    const user = await createUser(t, { firstName: role });
    await assign(t, event.id, user.id, role);
    users[role] = user;
    tokens[role] = (await openSession(t, user.id, event.id)).access;
  }
  return { event, users, tokens };
}

/** Number of rows in a table, for "nothing changed" assertions. */
export async function countRows(t: TestApp, table: string, where = 'TRUE', params: unknown[] = []): Promise<number> {
  const rows: { n: string }[] = await t.db.query(`SELECT count(*) AS n FROM ${table} WHERE ${where}`, params);
  return Number(rows[0]?.n ?? 0);
}

/** The badge of a member of the event (issued like the app does), with its QR text. */
export async function issueBadge(
  t: TestApp,
  eventId: string,
  userId: string,
): Promise<{ participant: Participant; qr: string }> {
  const issuer = t.app.get(BadgeIssuer, { strict: false });
  await issuer.ensure(t.db.manager, eventId, [userId]);
  const participant = await t.db.getRepository(Participant).findOneByOrFail({ eventId, userId });
  return { participant, qr: issuer.qrCodeData(participant) };
}

/** A new user with this role in the event, a badge and an access token. */
export async function createMember(
  t: TestApp,
  eventId: string,
  role: EventRole = 'participant',
  opts: Parameters<typeof createUser>[1] = {},
): Promise<{ user: TestUser; participant: Participant; qr: string; token: string }> {
  const user = await createUser(t, opts);
  await assign(t, eventId, user.id, role);
  const badge = await issueBadge(t, eventId, user.id);
  return { user, ...badge, token: (await openSession(t, user.id, eventId)).access };
}

/** A room written straight to the database. */
export async function createRoom(
  t: TestApp,
  eventId: string,
  opts: { name?: string; capacity?: number; isActive?: boolean } = {},
): Promise<string> {
  const rows: { id: string }[] = await t.db.query(
    'INSERT INTO rooms (event_id, name, capacity, is_active) VALUES ($1, $2, $3, $4) RETURNING id',
    [eventId, opts.name ?? uniq('Room '), opts.capacity ?? 100, opts.isActive ?? true],
  );
  return (rows[0] as { id: string }).id;
}

/** A session written straight to the database (an hour from now by default). */
export async function createSession(
  t: TestApp,
  eventId: string,
  roomId: string,
  opts: {
    title?: string;
    start?: Date;
    end?: Date;
    type?: 'conference' | 'atelier';
    isPaid?: boolean;
    price?: string | null;
    capacity?: number | null;
    status?: string;
  } = {},
): Promise<string> {
  const start = opts.start ?? new Date(Date.now() + HOUR);
  const rows: { id: string }[] = await t.db.query(
    `INSERT INTO sessions (event_id, room_id, title, start_time, end_time, session_type, is_paid, price, capacity, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
    [
      eventId,
      roomId,
      opts.title ?? uniq('Session '),
      start,
      opts.end ?? new Date(start.getTime() + HOUR),
      opts.type ?? 'conference',
      opts.isPaid ?? false,
      opts.price ?? null,
      opts.capacity ?? null,
      opts.status ?? 'scheduled',
    ],
  );
  return (rows[0] as { id: string }).id;
}

/** `n` participants with badges written straight to the database (for exports and lists of realistic size). */
export async function createBulkParticipants(t: TestApp, eventId: string, n: number): Promise<string[]> {
  const users: { id: string }[] = await t.db.query(
    `INSERT INTO users (email, first_name, last_name)
     SELECT $1 || '-' || i || '@example.test', 'Bulk', 'V' || i FROM generate_series(1, $2::int) AS i RETURNING id`,
    [uniq('bulk'), n],
  );
  const ids = users.map((u) => u.id);
  await t.db.query(
    `INSERT INTO user_event_assignments (event_id, user_id, role) SELECT $1, unnest($2::uuid[]), 'participant'`,
    [eventId, ids],
  );
  const participants: { id: string }[] = await t.db.query(
    `INSERT INTO participants (event_id, user_id, badge_id, qr_salt, qr_hash)
     SELECT $1, u, 'B' || lpad(n::text, 7, '0'), md5(u::text), encode(sha256(u::text::bytea), 'hex')
       FROM unnest($2::uuid[]) WITH ORDINALITY AS x(u, n) RETURNING id`,
    [eventId, ids],
  );
  return participants.map((p) => p.id);
}
