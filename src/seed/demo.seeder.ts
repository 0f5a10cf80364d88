import { In, type DataSource, type EntityManager } from 'typeorm';
import { EVENT_ROLES, type EventRole } from '../common/auth/event-role';
import { UserEventAssignment } from '../modules/assignments/entities/user-event-assignment.entity';
import { Event, eventStatus, type EventStatus } from '../modules/events/entities/event.entity';
import { User } from '../modules/users/entities/user.entity';
import { PasswordHasher } from '../modules/users/password-hasher';

/** The password of every demo account. It is printed and published: a demo database must never face real users. */
export const DEMO_PASSWORD = 'makeplus-demo';

/** Demo content that has no table yet; announced by the CLI until the seed below is extended. */
export const NOT_YET_SEEDED = ['rooms', 'sessions', 'participants (badges)'] as const;

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

const zero = (): DemoSeedCounts => ({ events: 0, users: 0, assignments: 0 });

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
export async function seedDemo(dataSource: DataSource, options: { now?: Date } = {}): Promise<DemoSeedResult> {
  const now = options.now ?? new Date();
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

    // ── EXTEND HERE ──────────────────────────────────────────────────────────────────────────────────────────────
    // Rooms, sessions and participants (badges) have no tables yet. When their modules land, seed them here for each
    // demo event (`events`, `users`), idempotently (fixed names and badge ids, insert-or-ignore on their unique keys),
    // count them in `created`/`restored`, and drop them from NOT_YET_SEEDED so the CLI stops announcing them.
    // ─────────────────────────────────────────────────────────────────────────────────────────────────────────────

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
