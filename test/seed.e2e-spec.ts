import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EVENT_ROLES } from '../src/common/auth/event-role';
import {
  DEMO_ACCOUNTS,
  DEMO_EVENTS,
  DEMO_PASSWORD,
  DEMO_VISITORS,
  seedDemo,
  type DemoSeedResult,
} from '../src/seed/demo.seeder';
import { countRows } from './helpers/factories';
import { bootTestApp, TEST_QR_SECRET, type TestApp } from './helpers/test-app';

// The suite's database is shared with specs running in parallel: count only the seed's own rows.
const EMAILS = DEMO_ACCOUNTS.map((a) => a.email);
const KEYS = DEMO_EVENTS.map((e) => e.key);
const MEMBERSHIPS = DEMO_ACCOUNTS.reduce((n, a) => n + a.memberships.length, 0);
const qrKey = Buffer.from(TEST_QR_SECRET);
const NOTHING = {
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
};

describe('seed:demo', () => {
  let t: TestApp;
  let first: DemoSeedResult;
  const now = new Date();

  // Every test leaves the demo seeded, as this first run does.
  before(async () => {
    t = await bootTestApp();
    first = await seedDemo(t.db, { now, qrKey });
  });
  after(() => t.close());

  const demoEvents = () => countRows(t, 'events', `metadata ->> 'demo_seed' = ANY($1)`, [KEYS]);
  const demoUsers = () => countRows(t, 'users', 'email = ANY($1)', [EMAILS]);
  const demoAssignments = () =>
    countRows(
      t,
      'user_event_assignments a JOIN users u ON u.id = a.user_id JOIN events e ON e.id = a.event_id',
      `u.email = ANY($1) AND e.metadata ->> 'demo_seed' = ANY($2)`,
      [EMAILS, KEYS],
    );
  const login = (email: string) => t.http.post('/api/auth/login').send({ email, password: DEMO_PASSWORD }).expect(200);

  it('creates its rows once and nothing on a second run', async () => {
    // Per event: 20 visitors; badges for its participant, exposant and visitors (multi@ is a participant of event1);
    // five atelier rights.
    assert.deepEqual(first.created, {
      events: 3,
      users: EMAILS.length + 3 * DEMO_VISITORS,
      assignments: MEMBERSHIPS + 3 * DEMO_VISITORS,
      rooms: 9,
      sessions: 10,
      participants: 3 * (2 + DEMO_VISITORS) + 1,
      session_access: 15,
      // Two annonces per event and one scheduled in the running event; three questions in its live session.
      annonces: 7,
      questions: 3,
      // Five leads of each event's exhibitor.
      leads: 15,
    });
    const second = await seedDemo(t.db, { now, qrKey });
    assert.deepEqual(second.created, NOTHING);
    assert.deepEqual(second.restored, NOTHING);
    assert.deepEqual(second.logins, first.logins);

    assert.equal(await demoEvents(), 3);
    assert.equal(await demoUsers(), 17);
    assert.equal(await demoAssignments(), 17);
    assert.deepEqual(
      second.events.map((e) => e.status),
      ['active', 'upcoming', 'completed'],
    );
    // Each event has exactly one user per role among the <role>@<event>.demo accounts.
    const perEvent: { key: string; roles: string[] }[] = await t.db.query(
      `SELECT e.metadata ->> 'demo_seed' AS key, array_agg(a.role ORDER BY a.role) AS roles
         FROM user_event_assignments a JOIN users u ON u.id = a.user_id JOIN events e ON e.id = a.event_id
        WHERE u.email LIKE '%@event_.demo' AND u.email NOT LIKE 'visitor%' AND e.metadata ->> 'demo_seed' = ANY($1)
        GROUP BY 1 ORDER BY 1`,
      [KEYS],
    );
    const roles = [...EVENT_ROLES].sort();
    assert.deepEqual(perEvent, [
      { key: 'event1', roles },
      { key: 'event2', roles },
      { key: 'event3', roles },
    ]);
    assert.deepEqual(second.notYetSeeded, []);
  });

  it('gives every event three rooms and its sessions; the running one has a session live now and a paid atelier', async () => {
    const rows: { key: string; rooms: string; sessions: string; live_now: string; paid: string | null }[] =
      await t.db.query(
        `SELECT e.metadata ->> 'demo_seed' AS key,
                (SELECT count(*) FROM rooms r WHERE r.event_id = e.id) AS rooms,
                (SELECT count(*) FROM sessions s WHERE s.event_id = e.id) AS sessions,
                (SELECT count(*) FROM sessions s WHERE s.event_id = e.id AND s.status = 'live'
                    AND s.start_time <= $1 AND $1 < s.end_time) AS live_now,
                (SELECT max(price)::text FROM sessions s WHERE s.event_id = e.id AND s.is_paid) AS paid
           FROM events e WHERE e.metadata ->> 'demo_seed' IS NOT NULL ORDER BY 1`,
        [now],
      );
    assert.deepEqual(
      rows.map((r) => [r.key, Number(r.rooms), Number(r.sessions), Number(r.live_now), r.paid]),
      [
        ['event1', 3, 4, 1, '5000.00'],
        ['event2', 3, 3, 0, '5000.00'],
        ['event3', 3, 3, 0, '5000.00'],
      ],
    );
  });

  it('gives every participant and exposant a badge, and each atelier five rights holding five seats', async () => {
    const rows: { key: string; members: string; badges: string; rights: string; seats: number }[] = await t.db.query(
      `SELECT e.metadata ->> 'demo_seed' AS key,
              (SELECT count(*) FROM user_event_assignments a
                WHERE a.event_id = e.id AND a.role IN ('participant', 'exposant')) AS members,
              (SELECT count(*) FROM participants p JOIN user_event_assignments a
                   ON a.event_id = p.event_id AND a.user_id = p.user_id
                WHERE p.event_id = e.id AND a.role IN ('participant', 'exposant')) AS badges,
              (SELECT count(*) FROM session_access sa WHERE sa.event_id = e.id) AS rights,
              (SELECT seats_taken FROM sessions s WHERE s.event_id = e.id AND s.metadata ->> 'demo_seed' = 'atelier')
                AS seats
         FROM events e WHERE e.metadata ->> 'demo_seed' IS NOT NULL ORDER BY 1`,
    );
    for (const row of rows) {
      assert.ok(Number(row.members) >= 2 + DEMO_VISITORS, `${row.key}: ${row.members} members`);
      assert.equal(row.badges, row.members, `${row.key}: every participant and exposant has a badge`);
      assert.equal(Number(row.rights), 5, row.key);
      assert.equal(row.seats, 5, `${row.key}: pending, paid and free rights each hold a seat`);
    }
  });

  it('logs a seeded single-event user straight into its event, with its role', async () => {
    const res = await login('controlleur_des_badges@event1.demo');
    assert.equal(res.body.role, 'controlleur_des_badges');
    assert.equal(res.body.event.id, first.events[0]?.id);
    assert.equal(res.body.event.name, 'Demo · Algiers Tech Expo');
    assert.equal(res.body.event.status, 'active');
    assert.equal(typeof res.body.access, 'string');
    assert.equal(typeof res.body.refresh, 'string');
  });

  it('gives the multi-event user the event choice and the admin no event', async () => {
    const multi = await login('multi@makeplus.demo');
    assert.equal(multi.body.requires_event_selection, true);
    assert.deepEqual(
      multi.body.available_events.map((e: { name: string; role: string }) => [e.name, e.role]),
      [
        ['Demo · Algiers Tech Expo', 'participant'],
        ['Demo · Oran Health Summit', 'organisateur'],
      ],
    );
    const admin = await login('admin@makeplus.demo');
    assert.equal(admin.body.role, null);
    assert.equal(admin.body.event, null);
  });

  it('puts drifted rows back so that the printed logins keep working', async () => {
    await t.db.query(
      `UPDATE users SET password_hash = NULL, is_active = false WHERE email = 'participant@event2.demo'`,
    );
    await t.db.query(
      `UPDATE user_event_assignments SET role = 'participant' WHERE user_id =
         (SELECT id FROM users WHERE email = 'organisateur@event3.demo')`,
    );
    await t.db.query(`UPDATE events SET is_cancelled = true WHERE metadata ->> 'demo_seed' = 'event1'`);
    await t.http
      .post('/api/auth/login')
      .send({ email: 'participant@event2.demo', password: DEMO_PASSWORD })
      .expect(401);

    const result = await seedDemo(t.db, { now, qrKey });
    assert.deepEqual(result.created, NOTHING);
    assert.deepEqual(result.restored, { ...NOTHING, events: 1, users: 1, assignments: 1 });
    assert.equal((await login('participant@event2.demo')).body.role, 'participant');
    assert.equal((await login('organisateur@event3.demo')).body.role, 'organisateur');
    assert.equal(result.events[0]?.status, 'active');
  });

  it('moves the sessions with the events when a later run shifts the dates (runs last: it moves the clock)', async () => {
    const tomorrow = new Date(now.getTime() + 86_400_000);
    const result = await seedDemo(t.db, { now: tomorrow, qrKey });
    assert.deepEqual(result.created, NOTHING);
    assert.equal(result.restored.events, 3);
    assert.equal(result.restored.sessions, 10);
    // The ateliers moved with their events, and their rights (and seats) with them.
    assert.equal(result.restored.session_access, 15);
    const live: { n: string }[] = await t.db.query(
      `SELECT count(*) AS n FROM sessions s JOIN events e ON e.id = s.event_id
        WHERE e.metadata ->> 'demo_seed' = 'event1' AND s.status = 'live' AND s.start_time <= $1 AND $1 < s.end_time`,
      [tomorrow],
    );
    assert.equal(Number(live[0]?.n), 1);
  });
});
