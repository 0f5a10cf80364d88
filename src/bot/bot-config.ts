/** The bot's environment: `DISCORD_BOT_TOKEN`, `MAKEPLUS_API_URL`, `MAKEPLUS_BOT_TOKEN` (README, "Discord bot"). */
export interface BotConfig {
  /** The Discord application's bot token (Discord developer portal). */
  discordToken: string;
  /** Root of the MakePlus server, e.g. `https://api.example.com` (without `/api`). */
  apiUrl: string;
  /** An event's bot token from `POST /api/integrations/discord/`. */
  botToken: string;
  logLevel: string;
}

export class BotConfigError extends Error {}

const REQUIRED = ['DISCORD_BOT_TOKEN', 'MAKEPLUS_API_URL', 'MAKEPLUS_BOT_TOKEN'] as const;

/** Reads and checks the environment; every problem is named in one BotConfigError. */
export function loadBotConfig(env: NodeJS.ProcessEnv): BotConfig {
  const problems: string[] = REQUIRED.filter((name) => !env[name]?.trim()).map((name) => `${name} is not set`);
  const apiUrl = env.MAKEPLUS_API_URL?.trim() ?? '';
  if (apiUrl && !/^https?:\/\/[^\s/]+/.test(apiUrl)) {
    problems.push(`MAKEPLUS_API_URL must be an http(s) URL, got "${apiUrl}"`);
  }
  const botToken = env.MAKEPLUS_BOT_TOKEN?.trim() ?? '';
  if (botToken && !botToken.startsWith('mpbot_')) {
    problems.push('MAKEPLUS_BOT_TOKEN must be a MakePlus bot token (mpbot_...), not the Discord token');
  }
  if (problems.length > 0) {
    throw new BotConfigError(`Discord bot configuration: ${problems.join('; ')}. See README.md, "Discord bot".`);
  }
  return {
    discordToken: (env.DISCORD_BOT_TOKEN as string).trim(),
    apiUrl,
    botToken,
    logLevel: env.LOG_LEVEL?.trim() || 'info',
  };
}
