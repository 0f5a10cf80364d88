import { In, type DataSource, type EntityManager } from 'typeorm';
import { EVENT_ROLES, type EventRole } from '../common/auth/event-role';
import { UserEventAssignment } from '../modules/assignments/entities/user-event-assignment.entity';
import { Event, eventStatus, type EventStatus } from '../modules/events/entities/event.entity';
import { BADGE_ROLES, BadgeIssuer } from '../modules/participants/badge-issuer';
import { Room } from '../modules/rooms/entities/room.entity';
import type { PaymentStatus } from '../modules/session-access/entities/session-access.entity';
import { TAKE_SEAT } from '../modules/session-access/session-access.service';
import type { SessionStatus, SessionType } from '../modules/sessions/entities/event-session.entity';
import { User } from '../modules/users/entities/user.entity';
import { PasswordHasher } from '../modules/users/password-hasher';

/** The password of every demo account. It is printed and published: a demo database must never face real users. */
export const DEMO_PASSWORD = 'makeplus-demo';

/** Demo content that has no table yet; announced by the CLI until the seed below is extended. */
export const NOT_YET_SEEDED: readonly string[] = [];

/** Next to the migration lock (727_001): two seeders at once run one after the other. */
const SEED_LOCK_ID = 727_002;
const DAY = 86_400_000;
const HOUR = 3_600_000;

export type DemoEventKey = 'event1' | 'event2' | 'event3';

interface DemoEventSpec {
  key: DemoEventKey;
  name: string;
  description: string;
  location: string;
  capacity: number;
  registrationOpen: boolean;
  /** First day relative to today (UTC); the event runs from 08:00 on it to 18:00 on its last day. */
  startDay: number;
  days: number;
}

/** One running now, one upcoming, one completed, whenever the seed runs (dates are refreshed on every run). */
export const DEMO_EVENTS: readonly DemoEventSpec[] = [
  {
    key: 'event1',
    name: 'Demo · Algiers Tech Expo',
    description: 'Demo event running now: scan badges, follow occupancy, ask questions.',
    location: 'Palais des Expositions, Algiers',
    capacity: 2000,
    registrationOpen: true,
    startDay: -1,
    days: 4,
  },
  {
    key: 'event2',
    name: 'Demo · Oran Health Summit',
    description: 'Demo event starting in a month: programme and registration.',
    location: 'Centre des Conventions, Oran',
    capacity: 800,
    registrationOpen: true,
    startDay: 30,
    days: 2,
  },
  {
    key: 'event3',
    name: 'Demo · Constantine Startup Forum',
    description: 'Demo event that is over: statistics and exports.',
    location: 'Zénith, Constantine',
    capacity: 500,
    registrationOpen: false,
    startDay: -60,
    days: 3,
  },
];

const ROLE_NAMES: Record<EventRole, string> = {
  organisateur: 'Organizer',
  gestionnaire_des_salles: 'Room manager',
  controlleur_des_badges: 'Badge controller',
  exposant: 'Exhibitor',
  participant: 'Participant',
};

export interface DemoAccount {
  email: string;
  firstName: string;
  lastName: string;
  isStaff: boolean;
  memberships: { event: DemoEventKey; role: EventRole }[];
}

/**
 * A platform admin, one user per role and event (`<role>@<event>.demo`), and one person holding different roles in
 * two events, who sees the event choice at login.
 */
export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  { email: 'admin@makeplus.demo', firstName: 'Admin', lastName: 'Demo', isStaff: true, memberships: [] },
  ...DEMO_EVENTS.flatMap((event, i) =>
    EVENT_ROLES.map((role): DemoAccount => ({
      email: `${role}@${event.key}.demo`,
      firstName: ROLE_NAMES[role],
      lastName: `Demo ${i + 1}`,
      isStaff: false,
      memberships: [{ event: event.key, role }],
    })),
  ),
  {
    email: 'multi@makeplus.demo',
    firstName: 'Multi',
    lastName: 'Event',
    isStaff: false,
    memberships: [
      { event: 'event1', role: 'participant' },
      { event: 'event2', role: 'organisateur' },
    ],
  },
];

export interface DemoLogin {
  email: string;
  password: string;
  /** The event role, or `staff` for the platform admin (no event of its own, sees every event). */
  role: EventRole | 'staff';
  event: { id: string; name: string; status: EventStatus } | null;
}

export interface DemoSeedCounts {
  events: number;
  users: number;
  assignments: number;
  rooms: number;
  sessions: number;
  /** Badges. */
  participants: number;
  /** Atelier rights. */
  session_access: number;
  annonces: number;
  questions: number;
  /** Exhibitor leads. */
  leads: number;
}

export interface DemoSeedResult {
  events: { key: DemoEventKey; id: string; name: string; status: EventStatus }[];
  /** One line per account and event it belongs to (the admin: one line without event). */
  logins: DemoLogin[];
  /** Rows this run inserted; zero on a re-run. */
  created: DemoSeedCounts;
  /** Existing rows this run put back to the demo state (dates moved on, password changed, role changed...). */
  restored: DemoSeedCounts;
  notYetSeeded: readonly string[];
}

const zero = (): DemoSeedCounts => ({
  events: 0,
  users: 0,
  assignments: 0,
  rooms: 0,
  sessions: 0,
  participants: 0,
  session_access: 0,
  annonces: 0,
  questions: 0,
  leads: 0,
});

/** Visitors per event: password-less participant accounts (claimable by registering) that fill the lists. */
export const DEMO_VISITORS = 20;
const VISITOR_NAMES = [
  ['Nadia', 'Bouzid'],
  ['Samir', 'Khelifi'],
  ['Lina', 'Mansouri'],
  ['Omar', 'Ait Ahmed'],
  ['Yasmine', 'Cherif'],
  ['Rachid', 'Belkacem'],
  ['Imane', 'Saadi'],
  ['Walid', 'Hamidi'],
  ['Sara', 'Bensalem'],
  ['Mehdi', 'Zerrouki'],
] as const;

export const visitorEmail = (event: DemoEventKey, n: number): string =>
  `visitor${String(n).padStart(2, '0')}@${event}.demo`;

/** Who holds a right to each event's atelier, and how it was paid. */
const DEMO_ATELIER_ACCESS: readonly {
  who: (event: DemoEventKey) => string;
  status: PaymentStatus;
  amount: string | null;
}[] = [
  { who: (e) => `participant@${e}.demo`, status: 'paid', amount: '5000.00' },
  { who: (e) => visitorEmail(e, 1), status: 'paid', amount: '5000.00' },
  { who: (e) => visitorEmail(e, 2), status: 'paid', amount: '5000.00' },
  { who: (e) => visitorEmail(e, 3), status: 'pending', amount: null },
  { who: (e) => visitorEmail(e, 4), status: 'free', amount: null },
];

/** The same three rooms in every demo event. */
export const DEMO_ROOMS = [
  { name: 'Main Hall', capacity: 300, location: 'Ground floor' },
  { name: 'Atelier A', capacity: 40, location: 'First floor, east wing' },
  { name: 'Room B', capacity: 120, location: 'First floor, west wing' },
] as const;

interface DemoSessionSpec {
  key: string;
  title: string;
  room: (typeof DEMO_ROOMS)[number]['name'];
  type: SessionType;
  /** Day of the event (0 = first) and UTC hours; `live` sessions are placed around the seed's `now` instead. */
  day: number;
  from: number;
  to: number;
  live?: boolean;
  price?: string;
  capacity?: number;
  speaker: string;
}

/** Per event: a keynote, a paid atelier, a panel; the running event also has a session live right now. */
export const DEMO_SESSIONS: readonly DemoSessionSpec[] = [
  {
    key: 'keynote',
    title: 'Opening keynote',
    room: 'Main Hall',
    type: 'conference',
    day: 0,
    from: 9,
    to: 10,
    speaker: 'Amina Benali',
  },
  {
    key: 'atelier',
    title: 'Hands-on atelier: prototyping in a day',
    room: 'Atelier A',
    type: 'atelier',
    day: 0,
    from: 14,
    to: 16,
    price: '5000.00',
    capacity: 30,
    speaker: 'Karim Haddad',
  },
  {
    key: 'panel',
    title: 'Panel: the road ahead',
    room: 'Room B',
    type: 'conference',
    day: 1,
    from: 11,
    to: 12,
    speaker: 'Panel',
  },
  {
    key: 'live',
    title: 'Live now: demo stage',
    room: 'Main Hall',
    type: 'conference',
    day: 0,
    from: 0,
    to: 0,
    live: true,
    speaker: 'Yacine Merabet',
  },
];

function eventDates(spec: DemoEventSpec, now: Date): { startDate: Date; endDate: Date } {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return {
    startDate: new Date(today + spec.startDay * DAY + 8 * HOUR),
    endDate: new Date(today + (spec.startDay + spec.days - 1) * DAY + 18 * HOUR),
  };
}

/**
 * Fills the demo: events, accounts and their roles. Idempotent: rows are found by their fixed emails and by the
 * `demo_seed` key in an event's metadata, created when missing and put back to the demo state when they drifted, so
 * that the printed logins always work. Everything happens in one transaction.
 */
export async function seedDemo(
  dataSource: DataSource,
  options: { now?: Date; qrKey: Buffer },
): Promise<DemoSeedResult> {
  const now = options.now ?? new Date();
  const issuer = new BadgeIssuer(options.qrKey);
  const hasher = new PasswordHasher();
  const created = zero();
  const restored = zero();

  return dataSource.transaction(async (manager) => {
    // Events have no natural unique key: holding this lock makes their find-then-insert safe between seeders.
    await manager.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK_ID]);

    const users = await ensureUsers(manager, hasher, created, restored);

    const events = new Map<DemoEventKey, Event>();
    for (const spec of DEMO_EVENTS) {
      const organizer = users.get(`organisateur@${spec.key}.demo`) as User;
      events.set(spec.key, await ensureEvent(manager, spec, now, organizer.id, created, restored));
    }

    for (const account of DEMO_ACCOUNTS) {
      const user = users.get(account.email) as User;
      for (const { event, role } of account.memberships) {
        await ensureAssignment(manager, (events.get(event) as Event).id, user.id, role, created, restored);
      }
    }

    for (const spec of DEMO_EVENTS) {
      const event = events.get(spec.key) as Event;
      const rooms = await ensureRooms(manager, event.id, created, restored);
      const replaced = await ensureSessions(manager, event, rooms, now, spec.key === 'event1', created, restored);
      await ensureVisitors(manager, event.id, spec.key, created);
      // Every participant and exposant of the demo (accounts and visitors) has a badge.
      const members: { user_id: string }[] = await manager.query(
        'SELECT user_id FROM user_event_assignments WHERE event_id = $1 AND role = ANY($2::text[])',
        [event.id, BADGE_ROLES],
      );
      const issued = await issuer.ensure(
        manager,
        event.id,
        members.map((m) => m.user_id),
      );
      created.participants += issued.length;
      await ensureAtelierAccess(manager, event.id, spec.key, replaced.has('atelier') ? restored : created);
      const organizer = users.get(`organisateur@${spec.key}.demo`) as User;
      await ensureAnnonces(manager, event, spec.key, organizer.id, now, created);
      await ensureLeads(manager, event.id, spec.key, created);
      if (spec.key === 'event1') {
        await ensureQuestions(manager, event.id, spec.key, organizer.id, replaced.has('live') ? restored : created);
      }
    }

    const summary = (key: DemoEventKey) => {
      const event = events.get(key) as Event;
      return { id: event.id, name: event.name, status: eventStatus(event, now) };
    };
    const logins = DEMO_ACCOUNTS.flatMap((account): DemoLogin[] =>
      account.memberships.length === 0
        ? [{ email: account.email, password: DEMO_PASSWORD, role: 'staff', event: null }]
        : account.memberships.map(({ event, role }) => ({
            email: account.email,
            password: DEMO_PASSWORD,
            role,
            event: summary(event),
          })),
    );
    return {
      events: DEMO_EVENTS.map((spec) => ({ key: spec.key, ...summary(spec.key) })),
      logins,
      created,
      restored,
      notYetSeeded: NOT_YET_SEEDED,
    };
  });
}

/** Creates the missing accounts and repairs drifted ones (password, active, staff flag). */
async function ensureUsers(
  manager: EntityManager,
  hasher: PasswordHasher,
  created: DemoSeedCounts,
  restored: DemoSeedCounts,
): Promise<Map<string, User>> {
  const repo = manager.getRepository(User);
  const emails = DEMO_ACCOUNTS.map((a) => a.email);
  const existing = new Map((await repo.findBy({ email: In(emails) })).map((u) => [u.email, u]));
  // argon2 runs on libuv's thread pool: verify and hash every account at once rather than one after the other.
  const verified = await Promise.all(
    [...existing.values()].map(async (u) => ((await hasher.verify(u.passwordHash, DEMO_PASSWORD)) ? u.email : '')),
  );
  const passwordOk = new Set(verified.filter((email) => email !== ''));
  const hashes = new Map(
    await Promise.all(
      emails.filter((e) => !passwordOk.has(e)).map(async (e) => [e, await hasher.hash(DEMO_PASSWORD)] as const),
    ),
  );

  const users = new Map<string, User>();
  for (const account of DEMO_ACCOUNTS) {
    let user = existing.get(account.email);
    let inserted = false;
    if (!user) {
      // Or-ignore: the email may be registered through the API meanwhile; that account is then repaired below.
      const result = await repo
        .createQueryBuilder()
        .insert()
        .values({
          email: account.email,
          firstName: account.firstName,
          lastName: account.lastName,
          isStaff: account.isStaff,
          isActive: true,
          passwordHash: hashes.get(account.email),
        })
        .orIgnore()
        .execute();
      inserted = Boolean(result.identifiers[0]);
      if (inserted) created.users += 1;
      user = await repo.findOneByOrFail({ email: account.email });
    }
    const passwordKnown = inserted || passwordOk.has(account.email);
    if (!passwordKnown || !user.isActive || user.isStaff !== account.isStaff) {
      const patch: Partial<User> = { isActive: true, isStaff: account.isStaff };
      if (!passwordKnown) patch.passwordHash = hashes.get(account.email) as string;
      await repo.update({ id: user.id }, patch);
      restored.users += 1;
      user = { ...user, ...patch };
    }
    users.set(account.email, user);
  }
  return users;
}

async function ensureEvent(
  manager: EntityManager,
  spec: DemoEventSpec,
  now: Date,
  organizerId: string,
  created: DemoSeedCounts,
  restored: DemoSeedCounts,
): Promise<Event> {
  const repo = manager.getRepository(Event);
  const { startDate, endDate } = eventDates(spec, now);
  const existing = await repo
    .createQueryBuilder('e')
    .where(`e.metadata ->> 'demo_seed' = :key`, { key: spec.key })
    .orderBy('e.createdAt', 'ASC')
    .getOne();
  if (!existing) {
    created.events += 1;
    return repo.save(
      repo.create({
        name: spec.name,
        description: spec.description,
        location: spec.location,
        capacity: spec.capacity,
        registrationOpen: spec.registrationOpen,
        startDate,
        endDate,
        organizerContact: `organisateur@${spec.key}.demo`,
        metadata: { demo_seed: spec.key },
        createdById: organizerId,
        presidentId: organizerId,
      }),
    );
  }
  // Only what makes the event running, upcoming or completed is put back; other edits made in the demo are kept.
  const sameDates =
    existing.startDate.getTime() === startDate.getTime() && existing.endDate.getTime() === endDate.getTime();
  if (sameDates && !existing.isCancelled) return existing;
  await repo.update({ id: existing.id }, { startDate, endDate, isCancelled: false });
  restored.events += 1;
  return { ...existing, startDate, endDate, isCancelled: false };
}

async function ensureAssignment(
  manager: EntityManager,
  eventId: string,
  userId: string,
  role: EventRole,
  created: DemoSeedCounts,
  restored: DemoSeedCounts,
): Promise<void> {
  const repo = manager.getRepository(UserEventAssignment);
  let assignment = await repo.findOneBy({ eventId, userId });
  if (!assignment) {
    const result = await repo
      .createQueryBuilder()
      .insert()
      .values({ eventId, userId, role, isActive: true })
      .orIgnore()
      .execute();
    if (result.identifiers[0]) {
      created.assignments += 1;
      return;
    }
    // An organizer added this user to the event meanwhile: make it the demo role below.
    assignment = await repo.findOneByOrFail({ eventId, userId });
  }
  if (assignment.role === role && assignment.isActive) return;
  await repo.update({ id: assignment.id }, { role, isActive: true, updatedAt: new Date() });
  restored.assignments += 1;
}

async function ensureRooms(
  manager: EntityManager,
  eventId: string,
  created: DemoSeedCounts,
  restored: DemoSeedCounts,
): Promise<Map<string, string>> {
  const repo = manager.getRepository(Room);
  for (const room of DEMO_ROOMS) {
    const inserted = await repo
      .createQueryBuilder()
      .insert()
      .values({ eventId, name: room.name, capacity: room.capacity, location: room.location })
      .orIgnore()
      .execute();
    if (inserted.identifiers.length > 0 && inserted.identifiers[0]) {
      created.rooms += 1;
      continue;
    }
    // A room switched off during a demo comes back; its capacity and occupancy are left as the demo made them.
    const reactivated = await repo.update({ eventId, name: room.name, isActive: false }, { isActive: true });
    if (reactivated.affected) restored.rooms += 1;
  }
  const rows = await repo.find({ where: { eventId, name: In(DEMO_ROOMS.map((r) => r.name)) } });
  return new Map(rows.map((r) => [r.name, r.id]));
}

function sessionSlot(
  spec: DemoSessionSpec,
  event: Event,
  now: Date,
): { start: Date; end: Date; status: SessionStatus } {
  if (spec.live) {
    const start = new Date(Math.floor(now.getTime() / HOUR) * HOUR - HOUR);
    return { start, end: new Date(start.getTime() + 3 * HOUR), status: 'live' };
  }
  const day = Date.UTC(event.startDate.getUTCFullYear(), event.startDate.getUTCMonth(), event.startDate.getUTCDate());
  const start = new Date(day + spec.day * DAY + spec.from * HOUR);
  const end = new Date(day + spec.day * DAY + spec.to * HOUR);
  const status: SessionStatus = end < now ? 'completed' : 'scheduled';
  return { start, end, status };
}

/**
 * Demo sessions are found by `metadata.demo_seed`. One whose slot no longer matches the event's (moved) dates is
 * replaced: drifted ones are deleted first, then the missing inserted, so they never collide with each other. An
 * insert that would overlap a session a demo user added is skipped (ON CONFLICT DO NOTHING on the exclusion).
 */
async function ensureSessions(
  manager: EntityManager,
  event: Event,
  rooms: Map<string, string>,
  now: Date,
  running: boolean,
  created: DemoSeedCounts,
  restored: DemoSeedCounts,
): Promise<Set<string>> {
  const specs = DEMO_SESSIONS.filter((s) => running || !s.live);
  const replaced = new Set<string>();
  const existing: { id: string; key: string; start_time: Date; end_time: Date; status: SessionStatus }[] =
    await manager.query(
      `SELECT id, metadata ->> 'demo_seed' AS key, start_time, end_time, status FROM sessions
        WHERE event_id = $1 AND metadata ? 'demo_seed'`,
      [event.id],
    );
  const drifted: string[] = [];
  const missing: DemoSessionSpec[] = [];
  for (const spec of specs) {
    const slot = sessionSlot(spec, event, now);
    const row = existing.find((e) => e.key === spec.key);
    const live = spec.live && row !== undefined && row.status === 'live' && row.start_time <= now && now < row.end_time;
    const inPlace =
      row !== undefined &&
      (spec.live
        ? live
        : row.start_time.getTime() === slot.start.getTime() && row.end_time.getTime() === slot.end.getTime());
    if (inPlace) continue;
    if (row) drifted.push(row.id);
    missing.push(spec);
  }
  if (drifted.length > 0) await manager.query('DELETE FROM sessions WHERE id = ANY($1::uuid[])', [drifted]);
  for (const spec of missing) {
    const slot = sessionSlot(spec, event, now);
    const result: unknown[] = await manager.query(
      `INSERT INTO sessions (event_id, room_id, title, start_time, end_time, status, session_type, is_paid, price,
                             capacity, speaker_name, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING RETURNING id`,
      [
        event.id,
        rooms.get(spec.room),
        spec.title,
        slot.start,
        slot.end,
        slot.status,
        spec.type,
        spec.price !== undefined,
        spec.price ?? null,
        spec.capacity ?? null,
        spec.speaker,
        JSON.stringify({ demo_seed: spec.key }),
      ],
    );
    if (result.length === 0) continue;
    if (drifted.length > 0 && existing.some((e) => e.key === spec.key)) {
      restored.sessions += 1;
      replaced.add(spec.key);
    } else created.sessions += 1;
  }
  return replaced;
}

/** Password-less visitor accounts, each a participant of the event. */
async function ensureVisitors(
  manager: EntityManager,
  eventId: string,
  key: DemoEventKey,
  created: DemoSeedCounts,
): Promise<void> {
  const emails = Array.from({ length: DEMO_VISITORS }, (_, i) => visitorEmail(key, i + 1));
  const names = emails.map((_, i) => VISITOR_NAMES[i % VISITOR_NAMES.length] as readonly [string, string]);
  const users: unknown[] = await manager.query(
    `INSERT INTO users (email, first_name, last_name) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
     ON CONFLICT (email) DO NOTHING RETURNING id`,
    [emails, names.map((n) => n[0]), names.map((n) => n[1])],
  );
  created.users += users.length;
  const memberships: unknown[] = await manager.query(
    `INSERT INTO user_event_assignments (event_id, user_id, role)
     SELECT $1, id, 'participant' FROM users WHERE email = ANY($2::text[])
     ON CONFLICT (event_id, user_id) DO NOTHING RETURNING id`,
    [eventId, emails],
  );
  created.assignments += memberships.length;
}

/**
 * Rights to the event's atelier (see DEMO_ATELIER_ACCESS), each with its seat. Missing rows only: the seed holds its
 * advisory lock, so the check-then-insert cannot race another seeder. A holder who is no longer a participant (role
 * changed during a demo) is skipped.
 */
async function ensureAtelierAccess(
  manager: EntityManager,
  eventId: string,
  key: DemoEventKey,
  counts: DemoSeedCounts,
): Promise<void> {
  const atelier: { id: string }[] = await manager.query(
    `SELECT id FROM sessions WHERE event_id = $1 AND metadata ->> 'demo_seed' = 'atelier'`,
    [eventId],
  );
  const sessionId = atelier[0]?.id;
  if (!sessionId) return;
  for (const grant of DEMO_ATELIER_ACCESS) {
    const holders: { id: string; has: boolean }[] = await manager.query(
      `SELECT p.id, EXISTS (SELECT 1 FROM session_access sa WHERE sa.event_id = $1 AND sa.session_id = $3
                                AND sa.participant_id = p.id) AS has
         FROM participants p JOIN users u ON u.id = p.user_id WHERE p.event_id = $1 AND u.email = $2`,
      [eventId, grant.who(key), sessionId],
    );
    const holder = holders[0];
    if (!holder || holder.has) continue;
    const inserted: unknown[] = await manager.query(
      `WITH seat AS (${TAKE_SEAT})
       INSERT INTO session_access (event_id, participant_id, session_id, payment_status, amount_paid, paid_at)
       SELECT $2, $3, seat.id, $4::text, $5, CASE WHEN $4::text = 'paid' THEN now() END FROM seat RETURNING id`,
      [sessionId, eventId, holder.id, grant.status, grant.amount],
    );
    counts.session_access += inserted.length;
  }
}

/** Per event: a welcome to all and a note to exhibitors, published; in the running event, one scheduled for tomorrow. */
export const DEMO_ANNONCES: readonly {
  title: string;
  description: string;
  target: string;
  inHours?: number;
  only?: DemoEventKey;
}[] = [
  { title: 'Welcome!', description: 'Badges are at the entrance desk; the programme is in the app.', target: 'all' },
  { title: 'Exhibitors: stands open at 8:30', description: 'Set-up closes at 8:30 sharp.', target: 'exposants' },
  {
    title: 'Tomorrow: the panel moves to the Main Hall',
    description: 'Same time, bigger room.',
    target: 'participants',
    inHours: 24,
    only: 'event1',
  },
];

/** Missing demo annonces only (found by title): the seed holds its advisory lock. */
async function ensureAnnonces(
  manager: EntityManager,
  event: Event,
  key: DemoEventKey,
  organizerId: string,
  now: Date,
  counts: DemoSeedCounts,
): Promise<void> {
  for (const spec of DEMO_ANNONCES.filter((a) => !a.only || a.only === key)) {
    const publishAt = new Date(now.getTime() + (spec.inHours ?? 0) * HOUR);
    const inserted: unknown[] = await manager.query(
      `INSERT INTO annonces (event_id, title, description, target, publish_at, published_at, created_by_id)
       SELECT $1::uuid, $2::text, $3::text, $4::text, $5::timestamptz, $6::timestamptz, $7::uuid
        WHERE NOT EXISTS (SELECT 1 FROM annonces WHERE event_id = $1::uuid AND title = $2::text) RETURNING id`,
      [event.id, spec.title, spec.description, spec.target, publishAt, spec.inHours ? null : publishAt, organizerId],
    );
    counts.annonces += inserted.length;
  }
}

/** Questions in the running event's live session, asked by visitors, one anonymous, one answered, with upvotes. */
export const DEMO_QUESTIONS: readonly {
  text: string;
  by: number;
  anonymous?: boolean;
  answer?: string;
  voters: number[];
}[] = [
  { text: 'Will the slides be shared after the talk?', by: 1, answer: 'Yes, in the app tonight.', voters: [4, 5, 6] },
  { text: 'Is the demo code open source?', by: 2, voters: [4, 7] },
  { text: 'How do you test this at scale?', by: 3, anonymous: true, voters: [] },
];

async function ensureQuestions(
  manager: EntityManager,
  eventId: string,
  key: DemoEventKey,
  organizerId: string,
  counts: DemoSeedCounts,
): Promise<void> {
  const live: { id: string }[] = await manager.query(
    `SELECT id FROM sessions WHERE event_id = $1 AND metadata ->> 'demo_seed' = 'live'`,
    [eventId],
  );
  const sessionId = live[0]?.id;
  if (!sessionId) return;
  const userOf = async (n: number): Promise<string | undefined> =>
    ((await manager.query('SELECT id FROM users WHERE email = $1', [visitorEmail(key, n)])) as { id: string }[])[0]?.id;
  for (const q of DEMO_QUESTIONS) {
    const inserted: { id: string }[] = await manager.query(
      `INSERT INTO questions (event_id, session_id, asked_by_id, question_text, is_anonymous, status, answer_text,
                              answered_by_id, answered_at)
       SELECT $1::uuid, $2::uuid, $3::uuid, $4::text, $5::boolean,
              CASE WHEN $6::text IS NULL THEN 'approved' ELSE 'answered' END, $6::text,
              CASE WHEN $6::text IS NULL THEN NULL ELSE $7::uuid END, CASE WHEN $6::text IS NULL THEN NULL ELSE now() END
        WHERE NOT EXISTS (SELECT 1 FROM questions WHERE session_id = $2::uuid AND question_text = $4::text)
       RETURNING id`,
      [eventId, sessionId, await userOf(q.by), q.text, q.anonymous ?? false, q.answer ?? null, organizerId],
    );
    const questionId = inserted[0]?.id;
    if (!questionId) continue;
    counts.questions += 1;
    for (const voter of q.voters) {
      await manager.query(
        `INSERT INTO question_upvotes (question_id, user_id, event_id)
         SELECT $1::uuid, $2::uuid, $3::uuid WHERE $2::uuid IS NOT NULL ON CONFLICT DO NOTHING`,
        [questionId, await userOf(voter), eventId],
      );
    }
    await manager.query(
      'UPDATE questions SET upvotes = (SELECT count(*) FROM question_upvotes WHERE question_id = $1) WHERE id = $1',
      [questionId],
    );
  }
}

/** Leads of each event's exhibitor: the first visitors, the first two scanned twice. */
export const DEMO_LEADS: readonly { visitor: number; scans: number; rating?: number; notes?: string }[] = [
  { visitor: 1, scans: 2, rating: 5, notes: 'Wants a demo next week' },
  { visitor: 2, scans: 2, rating: 3 },
  { visitor: 3, scans: 1 },
  { visitor: 4, scans: 1 },
  { visitor: 5, scans: 1, notes: 'Send the brochure' },
];

async function ensureLeads(manager: EntityManager, eventId: string, key: DemoEventKey, counts: DemoSeedCounts) {
  const exhibitor: { id: string }[] = await manager.query(
    `SELECT u.id FROM users u JOIN participants p ON p.user_id = u.id AND p.event_id = $1
      JOIN user_event_assignments a ON a.event_id = $1 AND a.user_id = u.id AND a.role = 'exposant'
     WHERE u.email = $2`,
    [eventId, `exposant@${key}.demo`],
  );
  const exposantId = exhibitor[0]?.id;
  if (!exposantId) return;
  for (const lead of DEMO_LEADS) {
    const inserted: { id: string }[] = await manager.query(
      `INSERT INTO exposant_scans (event_id, exposant_user_id, participant_id, scan_count, notes, rating)
       SELECT $1::uuid, $2::uuid, p.id, $4::int, $5::text, $6::smallint
         FROM participants p JOIN users u ON u.id = p.user_id WHERE p.event_id = $1::uuid AND u.email = $3::text
       ON CONFLICT DO NOTHING RETURNING id`,
      [eventId, exposantId, visitorEmail(key, lead.visitor), lead.scans, lead.notes ?? null, lead.rating ?? null],
    );
    const leadId = inserted[0]?.id;
    if (!leadId) continue;
    counts.leads += 1;
    await manager.query(
      `INSERT INTO exposant_scan_visits (event_id, scan_id, scanned_at)
       SELECT $1, $2, now() - make_interval(mins => i * 20) FROM generate_series(1, $3::int) AS i`,
      [eventId, leadId, lead.scans],
    );
  }
}
