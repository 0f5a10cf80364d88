import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ApiError,
  type AttendanceEntry,
  type DiscordUser,
  type EventSummary,
  type MakePlusApi,
  type Page,
} from './api-client';
import { type BotMessage, duration, handleMessage, HELP } from './commands';

const NOW = new Date('2026-06-20T10:00:00.000Z');
const EVENT_ID = '6f1c1c2e-1111-4111-8111-111111111111';
const AUTHOR = { id: '1183456789012345678', username: 'ada', displayName: 'Ada Lovelace', bot: false };

/** A message that records the bot's replies. */
function message(
  content: string,
  author: Partial<BotMessage['author']> = {},
  guildId: string | null = '1383456789012345678',
): BotMessage & { replies: string[] } {
  const replies: string[] = [];
  return {
    content,
    channelId: '1283456789012345678',
    guildId,
    author: { ...AUTHOR, ...author },
    replies,
    reply: async (text: string) => {
      replies.push(text);
    },
  };
}

const user: DiscordUser = {
  id: 'u1',
  full_name: 'Ada Lovelace',
  discord_user_id: AUTHOR.id,
  discord_username: 'ada',
  role: 'participant',
  participant: 'p1',
  registration: { status: 'confirmed', position: null },
};
const event: EventSummary = {
  id: EVENT_ID,
  name: 'DevFest',
  start_date: '2026-06-20T08:00:00.000Z',
  end_date: '2026-06-20T18:00:00.000Z',
  location: 'Alger',
  status: 'active',
};
const page = <T>(results: T[]): Page<T> => ({ count: results.length, next: null, previous: null, results });
const unexpected = (name: string) => async (): Promise<never> => assert.fail(`unexpected API call ${name}`);

/** An API whose every method fails the test unless the case gives it; records the calls it gets. */
function fakeApi(overrides: Partial<MakePlusApi> = {}): MakePlusApi & { calls: string[] } {
  const calls: string[] = [];
  const base: MakePlusApi = {
    register: unexpected('register'),
    link: unexpected('link'),
    user: unexpected('user'),
    activeEvents: unexpected('activeEvents'),
    eventOfChannel: unexpected('eventOfChannel'),
    attend: unexpected('attend'),
    attendance: unexpected('attendance'),
    status: unexpected('status'),
  };
  const api = { ...base, ...overrides } as MakePlusApi;
  const recorded = { calls } as MakePlusApi & { calls: string[] };
  for (const key of Object.keys(base) as (keyof MakePlusApi)[]) {
    const fn = api[key] as (...args: unknown[]) => Promise<unknown>;
    (recorded as unknown as Record<string, unknown>)[key] = (...args: unknown[]) => {
      calls.push(`${key}(${args.map((a) => JSON.stringify(a)).join(', ')})`);
      return fn(...args);
    };
  }
  return recorded;
}

async function answer(
  content: string,
  api: MakePlusApi,
  author: Partial<BotMessage['author']> = {},
  guildId: string | null = '1383456789012345678',
): Promise<string> {
  const m = message(content, author, guildId);
  assert.equal(await handleMessage(m, api, { now: () => NOW }), true);
  assert.equal(m.replies.length, 1, 'one reply per command');
  return m.replies[0] as string;
}

const refused =
  (status: number, code: string, body: Record<string, unknown> = {}) =>
  async (): Promise<never> => {
    throw new ApiError(status, code, `${code} detail`, { status_code: status, code, ...body });
  };

describe('bot command handler', () => {
  it('ignores messages that are not commands, and other bots', async () => {
    const api = fakeApi();
    for (const [content, author] of [
      ['hello', {}],
      ['register', {}],
      ['!help', { bot: true }],
    ] as const) {
      const m = message(content, author);
      assert.equal(await handleMessage(m, api), false);
      assert.deepEqual(m.replies, []);
    }
    assert.deepEqual(api.calls, []);
  });

  it('!help and any unknown command answer the help, without calling the API', async () => {
    const api = fakeApi();
    for (const content of ['!help', '!HELP', '!frobnicate now', '!']) assert.equal(await answer(content, api), HELP);
    assert.deepEqual(api.calls, []);
    for (const command of ['!register', '!link <code>', '!events', '!attend <event_id>', '!status', '!help']) {
      assert.ok(HELP.includes(`\`${command}\``), command);
    }
  });

  it('!register sends the Discord identity and tells confirmed, waitlisted and member apart', async () => {
    const cases: [Awaited<ReturnType<MakePlusApi['register']>>, RegExp][] = [
      [{ status: 'confirmed', position: null, account_created: true, user }, /Ada Lovelace, you are registered/],
      [{ status: 'waitlisted', position: 3, account_created: true, user: { ...user, role: null } }, /position 3/],
      [{ status: 'member', position: null, account_created: false, user: { ...user, role: 'exposant' } }, /exposant/],
    ];
    for (const [result, expected] of cases) {
      const api = fakeApi({ register: async () => result });
      assert.match(await answer('!register', api), expected);
      assert.deepEqual(api.calls, [
        `register({"name":"Ada Lovelace","discord_user_id":"${AUTHOR.id}","discord_username":"ada"})`,
      ]);
    }
    const noDisplayName = fakeApi({ register: async () => cases[0]![0] });
    await answer('!register', noDisplayName, { displayName: '' });
    assert.match(noDisplayName.calls[0] as string, /"name":"ada"/);
  });

  it('!register when registration is closed: a plain sentence', async () => {
    const api = fakeApi({ register: refused(409, 'REGISTRATION_CLOSED') });
    assert.equal(await answer('!register', api), 'Registration is closed for this event.');
  });

  it('!events lists the running event with its id, or says there is none', async () => {
    assert.match(await answer('!events', fakeApi({ activeEvents: async () => page([event]) })), /DevFest.*6f1c1c2e/);
    assert.equal(
      await answer('!events', fakeApi({ activeEvents: async () => page([]) })),
      'No event is running right now.',
    );
  });

  it('!attend <event_id> records attendance with the Discord user id', async () => {
    const api = fakeApi({
      attend: async () => ({
        id: 'a1',
        session_id: null,
        participant_id: 'p1',
        method: 'discord',
        attended_at: '2026-06-20T10:00:00.000Z',
      }),
    });
    const reply = await answer(`!attend ${EVENT_ID}`, api);
    assert.match(reply, /attendance is recorded/);
    assert.match(reply, /<t:1781949600:f>/, 'a Discord timestamp, shown in each reader’s time zone');
    assert.deepEqual(api.calls, [`attend("${EVENT_ID}", "${AUTHOR.id}")`]);
  });

  it('!attend before the start: 409 EVENT_NOT_STARTED becomes a friendly message with the wait and the time', async () => {
    const api = fakeApi({ attend: refused(409, 'EVENT_NOT_STARTED', { seconds_until_start: 2 * 3600 + 5 * 60 }) });
    const reply = await answer(`!attend ${EVENT_ID}`, api);
    const start = Math.floor(NOW.getTime() / 1000) + 7500;
    assert.equal(reply, `⏳ The event has not started yet: it starts in 2 h 5 min (<t:${start}:f>).`);
  });

  it('!attend after the end, when cancelled, on the waiting list, or unknown: plain sentences', async () => {
    const cases: [() => Promise<never>, RegExp][] = [
      [refused(409, 'EVENT_ENDED', { seconds_since_end: 90 }), /ended 1 min 30 s ago/],
      [refused(409, 'EVENT_CANCELLED'), /cancelled/],
      [refused(403, 'NOT_A_PARTICIPANT'), /no seat/],
      [refused(404, 'NOT_FOUND'), /could not find you in that event/],
    ];
    for (const [attend, expected] of cases) {
      assert.match(await answer(`!attend ${EVENT_ID}`, fakeApi({ attend })), expected);
    }
  });

  it('!attend without an id: the event bound to the channel, else the usage; a malformed id: the usage', async () => {
    const bound = fakeApi({
      eventOfChannel: async () => event,
      attend: async () => ({ id: 'a', session_id: null, participant_id: 'p', method: 'discord', attended_at: '' }),
    });
    await answer('!attend', bound);
    assert.deepEqual(bound.calls, ['eventOfChannel("1283456789012345678")', `attend("${EVENT_ID}", "${AUTHOR.id}")`]);
    const unbound = fakeApi({ eventOfChannel: refused(404, 'NOT_FOUND') });
    assert.match(await answer('!attend', unbound), /Usage: `!attend <event_id>`/);
    const api = fakeApi();
    assert.match(await answer('!attend not-an-id', api), /Usage/);
    assert.deepEqual(api.calls, []);
  });

  it('!status shows the registration and the attendance; not registered: how to register', async () => {
    const entries: AttendanceEntry[] = [
      { id: 'a', session: null, method: 'discord', attended_at: '2026-06-20T09:00:00.000Z' },
    ];
    const reply = await answer('!status', fakeApi({ user: async () => user, attendance: async () => page(entries) }));
    assert.match(reply, /confirmed \(role: participant\)/);
    assert.match(reply, /1 record\(s\), last <t:\d+:f> \(discord\)/);
    const waiting = await answer(
      '!status',
      fakeApi({
        user: async () => ({ ...user, role: null, registration: { status: 'waitlisted', position: 2 } }),
        attendance: async () => page([]),
      }),
    );
    assert.match(waiting, /waiting list, position 2/);
    assert.match(waiting, /none yet/);
    assert.equal(
      await answer('!status', fakeApi({ user: refused(404, 'NOT_FOUND') })),
      'You are not registered yet: type `!register`.',
    );
  });

  it('a refused bot token, an unknown error or an unreachable API: a sentence, logged, never a throw', async () => {
    const logged: string[] = [];
    const logger = { warn: (_: object, m: string) => logged.push(m), error: (_: object, m: string) => logged.push(m) };
    const run = async (events: MakePlusApi['activeEvents']) => {
      const m = message('!events');
      await handleMessage(m, fakeApi({ activeEvents: events }), { logger });
      return m.replies[0];
    };
    assert.match((await run(refused(401, 'TOKEN_INVALID'))) as string, /refused my credentials/);
    assert.match((await run(refused(500, 'INTERNAL_ERROR'))) as string, /went wrong/);
    assert.match(
      (await run(async () => {
        throw new TypeError('fetch failed');
      })) as string,
      /cannot reach MakePlus/,
    );
    assert.equal(logged.length, 3);
  });

  it('duration: the largest unit and the next one', () => {
    assert.deepEqual([0, 45, 90, 3600, 7500, 7205, 90_061].map(duration), [
      '0 s',
      '45 s',
      '1 min 30 s',
      '1 h',
      '2 h 5 min',
      '2 h',
      '1 d 1 h',
    ]);
  });

  it('!link <code> in a direct message links the author; in a channel it is refused without calling the API', async () => {
    const dm = (content: string, api: MakePlusApi) => answer(content, api, {}, null);
    const api = fakeApi({ link: async () => user });
    assert.match(await dm('!link k7qx2mpa', api), /linked to the MakePlus account of Ada Lovelace/);
    assert.deepEqual(api.calls, [
      `link(${JSON.stringify({ discord_user_id: AUTHOR.id, discord_username: 'ada', code: 'k7qx2mpa' })})`,
    ]);
    const none = fakeApi();
    assert.match(await answer('!link k7qx2mpa', none), /direct message/);
    for (const content of ['!link', '!link 123', '!link toolongcode9']) {
      assert.match(await dm(content, none), /Usage: `!link <code>`/);
    }
    assert.deepEqual(none.calls, [], 'a code in a channel, or a malformed one, never reaches the API');
    assert.match(await dm('!link AAAAAAAA', fakeApi({ link: refused(400, 'LINK_CODE_INVALID') })), /already used/);
    assert.match(
      await dm('!link AAAAAAAA', fakeApi({ link: refused(409, 'DISCORD_ALREADY_LINKED') })),
      /already linked/,
    );
  });
});
