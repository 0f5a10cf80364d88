import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BotConfigError, loadBotConfig } from './bot-config';

const GOOD = {
  DISCORD_BOT_TOKEN: 'discord-token',
  MAKEPLUS_API_URL: 'https://api.example.com/',
  MAKEPLUS_BOT_TOKEN: 'mpbot_abc',
};

describe('bot configuration', () => {
  it('reads the three variables', () => {
    assert.deepEqual(loadBotConfig(GOOD), {
      discordToken: 'discord-token',
      apiUrl: 'https://api.example.com/',
      botToken: 'mpbot_abc',
      logLevel: 'info',
    });
  });

  it('names every missing or wrong variable in one error', () => {
    assert.throws(
      () => loadBotConfig({}),
      (error: unknown) =>
        error instanceof BotConfigError &&
        ['DISCORD_BOT_TOKEN', 'MAKEPLUS_API_URL', 'MAKEPLUS_BOT_TOKEN'].every((v) => error.message.includes(v)),
    );
    assert.throws(() => loadBotConfig({ ...GOOD, MAKEPLUS_API_URL: 'localhost:3000' }), /http\(s\) URL/);
    assert.throws(() => loadBotConfig({ ...GOOD, MAKEPLUS_BOT_TOKEN: 'discord-token' }), /mpbot_/);
    assert.throws(() => loadBotConfig({ ...GOOD, DISCORD_BOT_TOKEN: '  ' }), /DISCORD_BOT_TOKEN is not set/);
  });
});
