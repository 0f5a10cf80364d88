import { Client, Events, GatewayIntentBits, Partials } from 'discord.js';
import pino from 'pino';
import { HttpMakePlusApi } from './api-client';
import { BotConfigError, loadBotConfig, type BotConfig } from './bot-config';
import { handleMessage } from './commands';

/** `npm run bot`: the Discord bot, answering commands by calling the MakePlus API with an event's bot token. */
async function main(): Promise<void> {
  let config: BotConfig;
  try {
    config = loadBotConfig(process.env);
  } catch (error) {
    if (!(error instanceof BotConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
    return;
  }
  const logger = pino({ name: 'discord-bot', level: config.logLevel });
  const api = new HttpMakePlusApi(config.apiUrl, config.botToken);
  const client = new Client({
    // MessageContent is a privileged intent: enable it for the bot in the Discord developer portal.
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.MessageContent,
      GatewayIntentBits.DirectMessages,
    ],
    partials: [Partials.Channel],
  });
  client.once(Events.ClientReady, (ready) => logger.info({ user: ready.user.tag }, 'Discord bot ready'));
  client.on(Events.MessageCreate, (message) => {
    handleMessage(message, api, { logger }).catch((error: unknown) =>
      logger.error({ err: error }, 'Could not answer a message'),
    );
  });
  const stop = () => void client.destroy().finally(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await client.login(config.discordToken);
  } catch (error) {
    logger.error({ err: error }, 'Discord login failed: check DISCORD_BOT_TOKEN');
    await client.destroy();
    process.exitCode = 1;
  }
}

void main();
