import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HttpMakePlusApi } from '../src/bot/api-client';
import { type BotMessage, handleMessage } from '../src/bot/commands';
import { bearer, countRows, createWorld, type World } from './helpers/factories';
import { bootTestApp, type TestApp } from './helpers/test-app';

/*
 * The bot's real API client (fetch) against the running app, driven by fake Discord messages: proves that the client
 * and the `/api/discord/` routes agree. No Discord connection is made.
 */

const HOUR = 3_600_000;
const MAIN = join(__dirname, '..', 'src', 'bot', 'main.js');

let ids = 0;
const snowflake = (): string => `${Date.now()}${String(process.pid % 1000).padStart(3, '0')}${++ids % 1000}`;

describe('discord bot against the API', () => {
  let t: TestApp;
  let base: string;

  before(async () => {
    t = await bootTestApp();
    base = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  after(() => t.close());

  async function botFor(world: World): Promise<HttpMakePlusApi> {
    const res = await t.http
      .post('/api/integrations/discord/')
      .set(bearer(world.tokens.organisateur))
      .send({ name: 'bot' });
    assert.equal(res.status, 201, res.text);
    return new HttpMakePlusApi(`${base}/`, res.body.token as string);
  }

  /** Sends one command as `author` and returns the bot's reply. */
  async function say(api: HttpMakePlusApi, content: string, authorId: string): Promise<string> {
    const replies: string[] = [];
    const message: BotMessage = {
      content,
      channelId: '1283456789012345678',
      guildId: '1383456789012345678',
      author: { id: authorId, username: `u${authorId.slice(-5)}`, displayName: 'Ada Lovelace', bot: false },
      reply: async (text) => replies.push(text),
    };
    assert.equal(await handleMessage(message, api), true);
    return replies[0] as string;
  }

  it('!register, !events, !attend, !status through HTTP: one Discord attendance in the ledger', async () => {
    const w = await createWorld(t, { registrationOpen: true });
    const api = await botFor(w);
    const me = snowflake();
    assert.match(await say(api, '!status', me), /not registered yet/);
    assert.match(await say(api, '!register', me), /Ada Lovelace, you are registered: your seat is confirmed/);
    assert.match(await say(api, '!events', me), new RegExp(`id \`${w.event.id}\``));
    assert.match(await say(api, `!attend ${w.event.id}`, me), /attendance is recorded/);
    assert.match(await say(api, '!status', me), /confirmed \(role: participant\)\nAttendance: 1 record\(s\)/);
    const rows: { method: string }[] = await t.db.query('SELECT method FROM attendances WHERE event_id = $1', [
      w.event.id,
    ]);
    assert.deepEqual(rows, [{ method: 'discord' }]);
  });

  it('before the start: the 409 EVENT_NOT_STARTED of the API becomes the friendly message', async () => {
    const w = await createWorld(t, {
      registrationOpen: true,
      startDate: new Date(Date.now() + 2 * HOUR),
      endDate: new Date(Date.now() + 5 * HOUR),
    });
    const api = await botFor(w);
    const me = snowflake();
    await say(api, '!register', me);
    assert.match(await say(api, `!attend ${w.event.id}`, me), /has not started yet: it starts in (1 h 59 min|2 h)/);
    assert.equal(await say(api, '!events', me), 'No event is running right now.');
    assert.equal(await countRows(t, 'attendances', 'event_id = $1', [w.event.id]), 0);
  });

  it('a revoked token: the bot says its credentials were refused', async () => {
    const w = await createWorld(t);
    const res = await t.http.post('/api/integrations/discord/').set(bearer(w.tokens.organisateur)).send({ name: 'b' });
    await t.http.delete(`/api/integrations/discord/${res.body.id}/`).set(bearer(w.tokens.organisateur)).expect(204);
    const api = new HttpMakePlusApi(base, res.body.token as string);
    assert.match(await say(api, '!events', snowflake()), /refused my credentials/);
  });

  it('npm run bot without its environment: a clear message and exit code 1, no stack trace', () => {
    const env = { PATH: process.env.PATH ?? '' };
    const run = spawnSync(process.execPath, [MAIN], { env, encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 1, run.stderr);
    assert.match(
      run.stderr,
      /DISCORD_BOT_TOKEN is not set; MAKEPLUS_API_URL is not set; MAKEPLUS_BOT_TOKEN is not set/,
    );
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(run.stdout, '');
  });
});
