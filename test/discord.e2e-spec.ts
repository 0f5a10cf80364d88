import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Test } from 'supertest';
import { EVENT_ROLES } from '../src/common/auth/event-role';
import type { Event } from '../src/modules/events/entities/event.entity';
import { expectError, expectValidation } from './helpers/assertions';
import {
  assign,
  bearer,
  countRows,
  createUser,
  createWorld,
  issueBadge,
  openSession,
  type TestUser,
  type World,
} from './helpers/factories';
import { fire, tally } from './helpers/requests';
import { bootTestApp, type TestApp } from './helpers/test-app';

/*
 * The Discord integration (API.md, "Discord"): organisateurs' bot tokens, and the `/api/discord/` routes that take
 * `X-Bot-Token` and act for the token's event only. Time windows are controlled by creating events before, around
 * and after now.
 */

const HOUR = 3_600_000;
const NON_ORGANIZER_ROLES = EVENT_ROLES.filter((r) => r !== 'organisateur');
const UNKNOWN_ID = '6f1c1c2e-1111-4111-8111-111111111111';
const LIST_KEYS = ['channel_ids', 'created_at', 'created_by', 'id', 'last_used_at', 'name', 'revoked_at'];

let snowflakes = 0;
/** A Discord id (19 digits) unique across the parallel run. */
const snowflake = (): string => `${Date.now()}${String(process.pid % 1000).padStart(3, '0')}${++snowflakes % 1000}`;

describe('discord', () => {
  let t: TestApp;
  let w: World;
  /** A bot token of `w.event`. */
  let bot: string;

  before(async () => {
    t = await bootTestApp();
    w = await createWorld(t, { registrationOpen: true });
    bot = await botToken(w);
  });
  after(() => t.close());

  const createToken = (token: string, body: object): Test =>
    t.http.post('/api/integrations/discord/').set(bearer(token)).send(body);

  async function botToken(world: World, channelIds: string[] = []): Promise<string> {
    const res = await createToken(world.tokens.organisateur, { name: 'bot', channel_ids: channelIds });
    assert.equal(res.status, 201, res.text);
    return res.body.token as string;
  }

  const asBot = (token: string) => ({ 'X-Bot-Token': token });
  const register = (token: string, discordUserId: string, name = 'Ada Lovelace'): Test =>
    t.http
      .post('/api/discord/users/register/')
      .set(asBot(token))
      .send({ name, discord_user_id: discordUserId, discord_username: `user${discordUserId.slice(-6)}` });
  const attend = (token: string, eventId: string, discordUserId: string): Test =>
    t.http.post(`/api/discord/attend/${eventId}/`).set(asBot(token)).send({ discord_user_id: discordUserId });
  const userRow = async (discordUserId: string) =>
    (
      await t.db.query(
        'SELECT id, email, password_hash, first_name, last_name, discord_username FROM users WHERE discord_user_id = $1',
        [discordUserId],
      )
    )[0] as
      | {
          id: string;
          email: string | null;
          password_hash: string | null;
          first_name: string;
          last_name: string;
          discord_username: string;
        }
      | undefined;

  /** A member of the event with a badge and a linked Discord id, written directly (any event, even one that ended). */
  async function discordMember(eventId: string): Promise<{ user: TestUser; discordId: string }> {
    const user = await createUser(t);
    const discordId = snowflake();
    await t.db.query('UPDATE users SET discord_user_id = $2 WHERE id = $1', [user.id, discordId]);
    await assign(t, eventId, user.id, 'participant');
    await issueBadge(t, eventId, user.id);
    return { user, discordId };
  }

  /** A world (event with every role) and a bot token of its event. */
  async function botWorld(eventOpts: Partial<Event> = {}): Promise<{ world: World; token: string }> {
    const world = await createWorld(t, eventOpts);
    return { world, token: await botToken(world) };
  }

  describe('bot tokens (organisateur)', () => {
    it('creates a token shown once (prefix, 256 bits), stored only as its SHA-256', async () => {
      const res = await createToken(w.tokens.organisateur, {
        name: '  Main bot ',
        channel_ids: ['1183456789012345678'],
      });
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ['channel_ids', 'created_at', 'id', 'name', 'token']);
      assert.equal(res.body.name, 'Main bot');
      assert.deepEqual(res.body.channel_ids, ['1183456789012345678']);
      const token = res.body.token as string;
      assert.match(token, /^mpbot_[A-Za-z0-9_-]{43}$/);
      const rows: Record<string, unknown>[] = await t.db.query('SELECT * FROM discord_bot_tokens WHERE id = $1', [
        res.body.id,
      ]);
      assert.equal(rows[0]?.token_hash, createHash('sha256').update(token).digest('hex'));
      assert.ok(!JSON.stringify(rows).includes(token.slice(6)), 'the token itself is stored nowhere');
      assert.equal(rows[0]?.event_id, w.event.id);
      assert.equal(rows[0]?.created_by_id, w.users.organisateur.id);
    });

    it("lists the event's tokens without token or hash, paginated; another event's tokens are not there", async () => {
      const other = await botWorld();
      await createToken(w.tokens.organisateur, { name: 'listed' });
      const res = await t.http.get('/api/integrations/discord/?page_size=100').set(bearer(w.tokens.organisateur));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ['count', 'next', 'previous', 'results']);
      const results = res.body.results as Record<string, unknown>[];
      assert.ok(results.some((r) => r.name === 'listed'));
      for (const r of results) assert.deepEqual(Object.keys(r).sort(), LIST_KEYS);
      assert.ok(!res.text.includes('mpbot_') && !res.text.includes('hash'), res.text);
      const otherIds = await t.db.query('SELECT id FROM discord_bot_tokens WHERE event_id = $1', [
        other.world.event.id,
      ]);
      for (const { id } of otherIds as { id: string }[]) assert.ok(!results.some((r) => r.id === id));
      const page = await t.http.get('/api/integrations/discord/?page_size=1').set(bearer(w.tokens.organisateur));
      assert.equal(page.body.results.length, 1);
      assert.ok(page.body.next);
    });

    it('revokes at once: the next use is 401 TOKEN_INVALID; the list shows revoked_at', async () => {
      const res = await createToken(w.tokens.organisateur, { name: 'to revoke' });
      const status = () => t.http.get(`/api/discord/event/${w.event.id}/status/`).set(asBot(res.body.token));
      assert.equal((await status()).status, 200);
      const del = await t.http.delete(`/api/integrations/discord/${res.body.id}/`).set(bearer(w.tokens.organisateur));
      assert.equal(del.status, 204, del.text);
      expectError(await status(), 401, 'TOKEN_INVALID');
      const again = await t.http.delete(`/api/integrations/discord/${res.body.id}/`).set(bearer(w.tokens.organisateur));
      assert.equal(again.status, 204, 'revoking twice is harmless');
      const list = await t.http.get('/api/integrations/discord/?page_size=100').set(bearer(w.tokens.organisateur));
      const listed = (
        list.body.results as { id: string; revoked_at: string | null; last_used_at: string | null }[]
      ).find((r) => r.id === res.body.id);
      assert.ok(listed?.revoked_at);
      assert.ok(listed?.last_used_at, 'the use before the revocation was noted');
    });

    it("another event's token or an unknown id: 404, and the token keeps working", async () => {
      const other = await botWorld();
      const otherId = (
        await t.db.query('SELECT id FROM discord_bot_tokens WHERE event_id = $1', [other.world.event.id])
      )[0].id as string;
      for (const id of [otherId, UNKNOWN_ID]) {
        const res = await t.http.delete(`/api/integrations/discord/${id}/`).set(bearer(w.tokens.organisateur));
        expectError(res, 404, 'NOT_FOUND');
      }
      const still = await t.http.get(`/api/discord/event/${other.world.event.id}/status/`).set(asBot(other.token));
      assert.equal(still.status, 200);
      expectValidation(
        await t.http.delete('/api/integrations/discord/not-a-uuid/').set(bearer(w.tokens.organisateur)),
        'id',
      );
    });

    it('refuses bad input: empty name, malformed channel ids, unknown fields', async () => {
      const before = await countRows(t, 'discord_bot_tokens', 'event_id = $1', [w.event.id]);
      expectValidation(await createToken(w.tokens.organisateur, { name: '' }), 'name');
      expectValidation(await createToken(w.tokens.organisateur, { name: 'x', channel_ids: ['123'] }), 'channel_ids');
      expectValidation(await createToken(w.tokens.organisateur, { name: 'x', channel_ids: 'nope' }), 'channel_ids');
      expectValidation(await createToken(w.tokens.organisateur, { name: 'x', token: 'mine' }), 'token');
      assert.equal(await countRows(t, 'discord_bot_tokens', 'event_id = $1', [w.event.id]), before);
    });

    for (const role of NON_ORGANIZER_ROLES) {
      it(`${role} may not create, list or revoke tokens (403, nothing changed)`, async () => {
        const id = (await t.db.query('SELECT id FROM discord_bot_tokens WHERE event_id = $1 LIMIT 1', [w.event.id]))[0]
          .id as string;
        const before = await countRows(t, 'discord_bot_tokens', 'event_id = $1 AND revoked_at IS NULL', [w.event.id]);
        expectError(await createToken(w.tokens[role], { name: 'nope' }), 403, 'FORBIDDEN');
        expectError(await t.http.get('/api/integrations/discord/').set(bearer(w.tokens[role])), 403, 'FORBIDDEN');
        const del = await t.http.delete(`/api/integrations/discord/${id}/`).set(bearer(w.tokens[role]));
        expectError(del, 403, 'FORBIDDEN');
        assert.equal(
          await countRows(t, 'discord_bot_tokens', 'event_id = $1 AND revoked_at IS NULL', [w.event.id]),
          before,
        );
      });
    }

    it('without a bearer token: 401 AUTH_REQUIRED; a bot token opens no organisateur route', async () => {
      expectError(await t.http.get('/api/integrations/discord/'), 401, 'AUTH_REQUIRED');
      expectError(await t.http.get('/api/integrations/discord/').set(asBot(bot)), 401, 'AUTH_REQUIRED');
    });
  });

  describe('bot authentication', () => {
    /** Every `/api/discord/` route, with a well-formed request. */
    const routes = (eventId: string, discordId: string): [string, string, object?][] => [
      ['post', '/api/discord/users/register/', { name: 'A', discord_user_id: discordId, discord_username: 'a' }],
      ['post', '/api/discord/users/link/', { discord_user_id: discordId, discord_username: 'a', code: 'AAAAAAAA' }],
      ['get', `/api/discord/users/${discordId}/`],
      ['get', '/api/discord/events/active/'],
      ['get', '/api/discord/events/channel/1183456789012345678/'],
      ['post', `/api/discord/attend/${eventId}/`, { discord_user_id: discordId }],
      ['get', `/api/discord/attendance/${discordId}/`],
      ['get', `/api/discord/event/${eventId}/status/`],
      ['get', `/api/discord/event/${eventId}/attendees/`],
    ];
    const call = (method: string, path: string, body: object | undefined, headers: Record<string, string>): Test => {
      const req = (method === 'post' ? t.http.post(path) : t.http.get(path)).set(headers);
      return body ? req.send(body) : req;
    };

    it('every route: missing → AUTH_REQUIRED, wrong or revoked → TOKEN_INVALID, a user bearer → AUTH_REQUIRED', async () => {
      const revoked = await createToken(w.tokens.organisateur, { name: 'revoked' });
      await t.http.delete(`/api/integrations/discord/${revoked.body.id}/`).set(bearer(w.tokens.organisateur));
      const discordId = snowflake();
      const wrong = [
        'mpbot_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        'not-a-token',
        `${bot}x`,
        bot.toUpperCase(),
        'x'.repeat(500),
      ];
      for (const [method, path, body] of routes(w.event.id, discordId)) {
        expectError(await call(method, path, body, {}), 401, 'AUTH_REQUIRED');
        expectError(await call(method, path, body, { 'X-Bot-Token': '' }), 401, 'AUTH_REQUIRED');
        expectError(await call(method, path, body, bearer(w.tokens.organisateur)), 401, 'AUTH_REQUIRED');
        for (const token of [...wrong, revoked.body.token as string]) {
          expectError(await call(method, path, body, asBot(token)), 401, 'TOKEN_INVALID');
        }
      }
      assert.equal(await userRow(discordId), undefined, 'nothing was registered');
    });

    it("another event's id in the path: 404 NOT_FOUND, nothing written", async () => {
      const other = await botWorld();
      const { discordId } = await discordMember(w.event.id);
      const before = await countRows(t, 'attendances', 'event_id = ANY($1)', [[w.event.id, other.world.event.id]]);
      for (const [method, path, body] of routes(other.world.event.id, discordId).filter(([, p]) =>
        p.includes(other.world.event.id),
      )) {
        expectError(await call(method, path, body, asBot(bot)), 404, 'NOT_FOUND');
      }
      const after = await countRows(t, 'attendances', 'event_id = ANY($1)', [[w.event.id, other.world.event.id]]);
      assert.equal(after, before);
      // The member of `w.event` does not exist for the other event's bot either.
      expectError(await t.http.get(`/api/discord/users/${discordId}/`).set(asBot(other.token)), 404, 'NOT_FOUND');
    });

    it('malformed ids: 400 naming the parameter', async () => {
      for (const id of ['123', 'abc45678901234567', '123456789012345678901']) {
        expectValidation(await t.http.get(`/api/discord/users/${id}/`).set(asBot(bot)), 'discord_user_id');
        expectValidation(await t.http.get(`/api/discord/attendance/${id}/`).set(asBot(bot)), 'discord_user_id');
        expectValidation(await t.http.get(`/api/discord/events/channel/${id}/`).set(asBot(bot)), 'channel_id');
        expectValidation(await attend(bot, w.event.id, id), 'discord_user_id');
      }
      expectValidation(await t.http.get('/api/discord/event/nope/status/').set(asBot(bot)), 'event_id');
    });
  });

  describe('users/register/', () => {
    it('a new Discord user: a Discord-only account (no email, no password), confirmed participant with a badge', async () => {
      const id = snowflake();
      const res = await register(bot, id, '  Ada   King Lovelace ');
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.status, 'confirmed');
      assert.equal(res.body.position, null);
      assert.equal(res.body.account_created, true);
      assert.equal(res.body.user.discord_user_id, id);
      assert.equal(res.body.user.role, 'participant');
      assert.ok(res.body.user.participant);
      assert.equal(res.body.user.full_name, 'Ada King Lovelace');
      assert.ok(!('email' in res.body.user), 'the bot is not shown emails');
      const row = await userRow(id);
      assert.equal(row?.email, null);
      assert.equal(row?.password_hash, null);
      assert.deepEqual([row?.first_name, row?.last_name], ['Ada', 'King Lovelace']);
      const again = await register(bot, id);
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.status, 'confirmed');
      assert.equal(again.body.account_created, false);
      assert.equal(await countRows(t, 'users', 'discord_user_id = $1', [id]), 1);
    });

    it('an account already linked and member of the event: only linked (status member), names kept', async () => {
      const user = await createUser(t, { firstName: 'Grace', lastName: 'Hopper' });
      const id = snowflake();
      await t.db.query('UPDATE users SET discord_user_id = $2 WHERE id = $1', [user.id, id]);
      await assign(t, w.event.id, user.id, 'exposant');
      const res = await register(bot, id, 'Someone Else');
      assert.equal(res.status, 200, res.text);
      assert.deepEqual([res.body.status, res.body.account_created, res.body.user.role], ['member', false, 'exposant']);
      assert.equal(res.body.user.id, user.id);
      const row = await userRow(id);
      assert.deepEqual([row?.first_name, row?.email], ['Grace', user.email]);
      assert.equal(row?.discord_username, `user${id.slice(-6)}`, 'the Discord username is brought up to date');
      assert.equal(await countRows(t, 'event_registrations', 'user_id = $1', [user.id]), 0);
    });

    it('a Discord user of another event registers here with the same account', async () => {
      const other = await botWorld({ registrationOpen: true });
      const id = snowflake();
      assert.equal((await register(other.token, id)).status, 201);
      const res = await register(bot, id);
      assert.equal(res.status, 201, res.text);
      assert.deepEqual([res.body.status, res.body.account_created], ['confirmed', false]);
      assert.equal(await countRows(t, 'users', 'discord_user_id = $1', [id]), 1);
    });

    it('closed registration: 409 REGISTRATION_CLOSED, no account, no registration', async () => {
      const closed = await botWorld({ registrationOpen: false });
      const ended = await botWorld({
        registrationOpen: true,
        startDate: new Date(Date.now() - 5 * HOUR),
        endDate: new Date(Date.now() - HOUR),
      });
      for (const { world, token } of [closed, ended]) {
        const id = snowflake();
        expectError(await register(token, id), 409, 'REGISTRATION_CLOSED');
        assert.equal(await userRow(id), undefined);
        assert.equal(await countRows(t, 'event_registrations', 'event_id = $1', [world.event.id]), 0);
      }
      // A known Discord user meets the same rule inside the registration.
      const id = snowflake();
      await register(bot, id);
      expectError(await register(closed.token, id), 409, 'REGISTRATION_CLOSED');
      assert.equal(await countRows(t, 'event_registrations', 'event_id = $1', [closed.world.event.id]), 0);
    });

    it('capacity: seats first, then the waiting list in order; a waitlisted user cannot attend', async () => {
      const small = await botWorld({ registrationOpen: true, capacity: 1 });
      const [a, b, c] = [snowflake(), snowflake(), snowflake()];
      assert.equal((await register(small.token, a)).body.status, 'confirmed');
      const second = await register(small.token, b);
      assert.deepEqual([second.status, second.body.status, second.body.position], [201, 'waitlisted', 1]);
      assert.equal(second.body.user.role, null);
      assert.equal((await register(small.token, c)).body.position, 2);
      const seen = await t.http.get(`/api/discord/users/${b}/`).set(asBot(small.token));
      assert.equal(seen.status, 200, seen.text);
      assert.deepEqual(seen.body.registration, { status: 'waitlisted', position: 1 });
      assert.equal(seen.body.participant, null);
      expectError(await attend(small.token, small.world.event.id, b), 403, 'NOT_A_PARTICIPANT');
      assert.equal(await countRows(t, 'attendances', 'event_id = $1', [small.world.event.id]), 0);
    });

    it('20 parallel registrations of one new Discord user: one account, one registration', async () => {
      const id = snowflake();
      const responses = await Promise.all(Array.from({ length: 20 }, () => fire(register(bot, id))));
      const statuses = tally(responses);
      assert.equal((statuses[200] ?? 0) + (statuses[201] ?? 0), 20, JSON.stringify(statuses));
      assert.equal(await countRows(t, 'users', 'discord_user_id = $1', [id]), 1);
      const row = await userRow(id);
      assert.equal(await countRows(t, 'event_registrations', 'user_id = $1', [row?.id]), 1);
      assert.equal(await countRows(t, 'participants', 'user_id = $1', [row?.id]), 1);
    });

    it('refuses bad input, nothing written', async () => {
      const id = snowflake();
      const post = (body: object) => t.http.post('/api/discord/users/register/').set(asBot(bot)).send(body);
      const good = { name: 'A B', discord_user_id: id, discord_username: 'ab' };
      expectValidation(await post({ ...good, discord_user_id: '12345' }), 'discord_user_id');
      expectValidation(await post({ ...good, discord_user_id: Number.MAX_SAFE_INTEGER }), 'discord_user_id');
      expectValidation(await post({ ...good, name: '   ' }), 'name');
      expectValidation(await post({ ...good, name: 'x'.repeat(151) }), 'name');
      expectValidation(await post({ name: 'A', discord_user_id: id }), 'discord_username');
      expectValidation(await post({ ...good, email: 'a@b.c' }), 'email');
      assert.equal(await userRow(id), undefined);
    });
  });

  describe('linking an existing account (auth/discord-link/ then users/link/)', () => {
    const linkCode = (token: string): Test => t.http.post('/api/auth/discord-link/').set(bearer(token)).send();
    const link = (token: string, discordUserId: string, code: string): Test =>
      t.http
        .post('/api/discord/users/link/')
        .set(asBot(token))
        .send({ discord_user_id: discordUserId, discord_username: 'linked', code });

    it('the code links the Discord account once; register then uses that account (no Discord-only account)', async () => {
      const person = await createUser(t);
      const token = (await openSession(t, person.id, null)).access;
      const issued = await linkCode(token);
      assert.equal(issued.status, 201, issued.text);
      assert.match(issued.body.code as string, /^[A-HJ-NP-Z2-9]{8}$/);
      assert.equal(issued.headers['cache-control'], 'no-store');
      const [stored]: { discord_link_code_hash: string }[] = await t.db.query(
        'SELECT discord_link_code_hash FROM users WHERE id = $1',
        [person.id],
      );
      assert.notEqual(stored?.discord_link_code_hash, issued.body.code, 'only a hash is stored');

      const discordId = snowflake();
      const linked = await link(bot, discordId, (issued.body.code as string).toLowerCase());
      assert.equal(linked.status, 200, linked.text);
      assert.equal(linked.body.id, person.id);
      assert.equal(linked.body.role, null, 'not a member of the event yet');
      expectError(await link(bot, snowflake(), issued.body.code as string), 400, 'LINK_CODE_INVALID');

      const registered = await register(bot, discordId);
      assert.equal(registered.status, 201, registered.text);
      assert.equal(registered.body.account_created, false);
      assert.equal(registered.body.user.id, person.id);
      assert.equal(await countRows(t, 'users', 'discord_user_id = $1', [discordId]), 1);
    });

    it('refused: unknown or expired code (400), a Discord id of another account (409), no user token (401)', async () => {
      const person = await createUser(t);
      const token = (await openSession(t, person.id, null)).access;
      expectError(await link(bot, snowflake(), 'ZZZZZZZZ'), 400, 'LINK_CODE_INVALID');
      const expired = (await linkCode(token)).body.code as string;
      await t.db.query("UPDATE users SET discord_link_expires_at = now() - interval '1 second' WHERE id = $1", [
        person.id,
      ]);
      expectError(await link(bot, snowflake(), expired), 400, 'LINK_CODE_INVALID');
      // A new code replaces the old one.
      const first = (await linkCode(token)).body.code as string;
      const second = (await linkCode(token)).body.code as string;
      expectError(await link(bot, snowflake(), first), 400, 'LINK_CODE_INVALID');
      const { discordId: taken } = await discordMember(w.event.id);
      expectError(await link(bot, taken, second), 409, 'DISCORD_ALREADY_LINKED');
      const [row]: { discord_user_id: string | null }[] = await t.db.query(
        'SELECT discord_user_id FROM users WHERE id = $1',
        [person.id],
      );
      assert.equal(row?.discord_user_id, null, 'nothing linked');
      expectValidation(await link(bot, snowflake(), 'short'), 'code');
      expectError(await t.http.post('/api/auth/discord-link/'), 401, 'AUTH_REQUIRED');
    });
  });

  describe('users/{discord_user_id}/, events/active/, events/channel/{channel_id}/', () => {
    it('a registered user: role, badge, registration; unknown: 404', async () => {
      const id = snowflake();
      await register(bot, id);
      const res = await t.http.get(`/api/discord/users/${id}/`).set(asBot(bot));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), [
        'discord_user_id',
        'discord_username',
        'first_name',
        'full_name',
        'id',
        'last_name',
        'participant',
        'registration',
        'role',
      ]);
      assert.deepEqual([res.body.role, res.body.registration.status], ['participant', 'confirmed']);
      expectError(await t.http.get(`/api/discord/users/${snowflake()}/`).set(asBot(bot)), 404, 'NOT_FOUND');
    });

    it("active events: the token's event while it runs, none before", async () => {
      const res = await t.http.get('/api/discord/events/active/').set(asBot(bot));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.count, 1);
      assert.equal(res.body.results[0].id, w.event.id);
      const later = await botWorld({
        startDate: new Date(Date.now() + 2 * HOUR),
        endDate: new Date(Date.now() + 5 * HOUR),
      });
      const none = await t.http.get('/api/discord/events/active/').set(asBot(later.token));
      assert.deepEqual(none.body, { count: 0, next: null, previous: null, results: [] });
    });

    it("a channel the token is bound to gives the token's event; any other channel 404", async () => {
      const channel = snowflake();
      const token = await botToken(w, [channel]);
      const res = await t.http.get(`/api/discord/events/channel/${channel}/`).set(asBot(token));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.id, w.event.id);
      expectError(await t.http.get(`/api/discord/events/channel/${snowflake()}/`).set(asBot(token)), 404, 'NOT_FOUND');
      expectError(await t.http.get(`/api/discord/events/channel/${channel}/`).set(asBot(bot)), 404, 'NOT_FOUND');
    });
  });

  describe('attend/{event_id}/ (time window)', () => {
    it('during the event: 200, method discord; a repeat answers the same record; history and ledger show it', async () => {
      const id = snowflake();
      await register(bot, id);
      const first = await attend(bot, w.event.id, id);
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.method, 'discord');
      assert.equal(first.body.session_id, null);
      const again = await attend(bot, w.event.id, id);
      assert.deepEqual(again.body, first.body);
      assert.equal(await countRows(t, 'attendances', 'participant_id = $1', [first.body.participant_id]), 1);

      const history = await t.http.get(`/api/discord/attendance/${id}/`).set(asBot(bot));
      assert.equal(history.status, 200, history.text);
      assert.equal(history.body.count, 1);
      assert.deepEqual([history.body.results[0].id, history.body.results[0].method], [first.body.id, 'discord']);

      const ledger = await t.http.get(`/api/discord/event/${w.event.id}/attendees/?method=discord`).set(asBot(bot));
      assert.equal(ledger.status, 200, ledger.text);
      assert.ok((ledger.body.results as { id: string }[]).some((r) => r.id === first.body.id));
      for (const r of ledger.body.results as { method: string }[]) assert.equal(r.method, 'discord');
      // A bot is a third party: no positions, staff notes or markers in what it reads.
      const BOT_KEYS = ['attended_at', 'id', 'method', 'participant', 'participant_name', 'session'];
      for (const r of [...ledger.body.results, ...history.body.results] as object[]) {
        assert.deepEqual(Object.keys(r).sort(), BOT_KEYS);
      }
      // Staff see the same record in the app.
      const staff = await t.http
        .get(`/api/events/${w.event.id}/attendees/?method=discord`)
        .set(bearer(w.tokens.organisateur));
      assert.ok((staff.body.results as { id: string }[]).some((r) => r.id === first.body.id));
    });

    it('before the start: 409 EVENT_NOT_STARTED with the seconds to wait; nothing written', async () => {
      const later = await botWorld({
        registrationOpen: true,
        startDate: new Date(Date.now() + 2 * HOUR),
        endDate: new Date(Date.now() + 5 * HOUR),
      });
      const id = snowflake();
      assert.equal((await register(later.token, id)).body.status, 'confirmed');
      const res = await attend(later.token, later.world.event.id, id);
      assert.equal(res.status, 409, res.text);
      assert.equal(res.body.code, 'EVENT_NOT_STARTED');
      assert.ok(res.body.seconds_until_start > 7000 && res.body.seconds_until_start <= 7200, res.text);
      assert.equal(await countRows(t, 'attendances', 'event_id = $1', [later.world.event.id]), 0);
      const status = await t.http.get(`/api/discord/event/${later.world.event.id}/status/`).set(asBot(later.token));
      assert.equal(status.body.status, 'upcoming');
      assert.equal(status.body.can_attend, false);
      assert.ok(status.body.time_until_start > 7000, status.text);
    });

    it('after the end: 409 EVENT_ENDED with the seconds since; cancelled: EVENT_CANCELLED; nothing written', async () => {
      const past = await botWorld({ startDate: new Date(Date.now() - 5 * HOUR), endDate: new Date(Date.now() - HOUR) });
      const m = await discordMember(past.world.event.id);
      const res = await attend(past.token, past.world.event.id, m.discordId);
      assert.equal(res.status, 409, res.text);
      assert.equal(res.body.code, 'EVENT_ENDED');
      assert.ok(res.body.seconds_since_end >= 3600, res.text);
      const status = await t.http.get(`/api/discord/event/${past.world.event.id}/status/`).set(asBot(past.token));
      assert.deepEqual([status.body.status, status.body.can_attend], ['ended', false]);
      const cancelled = await botWorld({ isCancelled: true });
      const c = await discordMember(cancelled.world.event.id);
      assert.equal((await attend(cancelled.token, cancelled.world.event.id, c.discordId)).body.code, 'EVENT_CANCELLED');
      const rows = await countRows(t, 'attendances', 'event_id = ANY($1)', [
        [past.world.event.id, cancelled.world.event.id],
      ]);
      assert.equal(rows, 0);
    });

    it('a door scan came first: that record is answered (first wins)', async () => {
      const m = await discordMember(w.event.id);
      const { qr } = await issueBadge(t, w.event.id, m.user.id);
      const door = await t.http
        .post('/api/participants/scan/')
        .set(bearer(w.tokens.organisateur))
        .send({ qr_data: qr });
      assert.equal(door.body.status, 'granted', door.text);
      const res = await attend(bot, w.event.id, m.discordId);
      assert.equal(res.body.method, 'door_scan');
    });

    it('a Discord user not registered in the event: 404, nothing written', async () => {
      const other = await botWorld();
      const stranger = await discordMember(other.world.event.id);
      for (const id of [snowflake(), stranger.discordId]) {
        expectError(await attend(bot, w.event.id, id), 404, 'NOT_FOUND');
        expectError(await t.http.get(`/api/discord/attendance/${id}/`).set(asBot(bot)), 404, 'NOT_FOUND');
      }
      assert.equal(
        await countRows(t, 'attendances', 'participant_id IN (SELECT id FROM participants WHERE user_id = $1)', [
          stranger.user.id,
        ]),
        0,
      );
    });

    it('event status of the running event', async () => {
      const res = await t.http.get(`/api/discord/event/${w.event.id}/status/`).set(asBot(bot));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual([res.body.id, res.body.status, res.body.can_attend], [w.event.id, 'active', true]);
      assert.equal(res.body.time_until_start, null);
    });
  });
});
