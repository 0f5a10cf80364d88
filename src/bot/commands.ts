import { ApiError, type MakePlusApi } from './api-client';

/** What the handler needs of a Discord message (a discord.js `Message` has all of it). */
export interface BotMessage {
  content: string;
  channelId: string;
  /** The server (guild) of the channel; null in a direct message. */
  guildId: string | null;
  author: { id: string; username: string; displayName: string; bot: boolean };
  reply(text: string): Promise<unknown>;
}

export interface BotLogger {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface HandlerOptions {
  now?: () => Date;
  logger?: BotLogger;
}

export const PREFIX = '!';

export const HELP = [
  '**MakePlus bot**',
  '`!register`: register for the event with your Discord account',
  '`!link <code>`: in a direct message to me, link your Discord account to your MakePlus account (code from the app)',
  '`!events`: the event running now',
  '`!attend <event_id>`: mark yourself present (in the event’s own channel the id can be left out)',
  '`!status`: your registration and attendance',
  '`!help`: this message',
].join('\n');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ATTEND_USAGE = 'Usage: `!attend <event_id>` (the id is shown by `!events`).';
const NOT_REGISTERED = 'You are not registered yet: type `!register`.';
const LINK_IN_PRIVATE =
  '🔒 Send me `!link <code>` in a direct message, never in a channel: anyone who reads the code could use it. ' +
  'Make a new code in the app if you posted this one.';
const LINK_USAGE = 'Usage: `!link <code>` with the 8-character code from the MakePlus app (profile, "Link Discord").';

const silent: BotLogger = { warn: () => undefined, error: () => undefined };

const UNITS: [string, number][] = [
  ['d', 86_400],
  ['h', 3_600],
  ['min', 60],
  ['s', 1],
];

/** `2 h 5 min`, `45 s`, `3 d`: the largest unit and the next one. */
export function duration(totalSeconds: number): string {
  let rest = Math.max(0, Math.round(totalSeconds));
  const values = UNITS.map(([name, size]): [number, string] => {
    const n = Math.floor(rest / size);
    rest -= n * size;
    return [n, name];
  });
  const first = values.findIndex(([n]) => n > 0);
  if (first === -1) return '0 s';
  return values
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, name]) => `${n} ${name}`)
    .join(' ');
}

/** A Discord timestamp: each reader sees it in their own time zone. */
const when = (date: Date | string): string => `<t:${Math.floor(new Date(date).getTime() / 1000)}:f>`;

/**
 * Answers one message when it is a command (`!register`, `!events`, `!attend <event_id>`, `!status`, `!help`; any
 * other `!word` gets the help). Returns whether it answered. Errors of the API become plain sentences; nothing
 * here throws for an API refusal.
 */
export async function handleMessage(
  message: BotMessage,
  api: MakePlusApi,
  options: HandlerOptions = {},
): Promise<boolean> {
  if (message.author.bot || !message.content.startsWith(PREFIX)) return false;
  const [word = '', ...args] = message.content.slice(PREFIX.length).trim().split(/\s+/);
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? silent;
  let answer: string;
  try {
    answer = await run(word.toLowerCase(), args, message, api);
  } catch (error) {
    answer = explain(error, now, logger);
  }
  await message.reply(answer);
  return true;
}

async function run(word: string, args: string[], message: BotMessage, api: MakePlusApi): Promise<string> {
  switch (word) {
    case 'register':
      return register(message, api);
    case 'link':
      return link(args[0], message, api);
    case 'events':
      return events(api);
    case 'attend':
      return attend(args[0], message, api);
    case 'status':
      return status(message, api);
    default:
      return HELP;
  }
}

async function register(message: BotMessage, api: MakePlusApi): Promise<string> {
  const answer = await api.register({
    name: message.author.displayName || message.author.username,
    discord_user_id: message.author.id,
    discord_username: message.author.username,
  });
  switch (answer.status) {
    case 'confirmed':
      return `✅ ${answer.user.full_name}, you are registered: your seat is confirmed.`;
    case 'waitlisted':
      return (
        `🕒 The event is full: you are on the waiting list (position ${answer.position ?? '?'}). ` +
        'You will get a seat automatically when one frees up.'
      );
    case 'member':
      return `You already take part in this event${answer.user.role ? ` (role: ${answer.user.role})` : ''}; your Discord account is linked.`;
  }
}

async function link(code: string | undefined, message: BotMessage, api: MakePlusApi): Promise<string> {
  // A code posted in a channel can be used by anyone who reads it first: links happen in direct messages only.
  if (message.guildId !== null) return LINK_IN_PRIVATE;
  if (!code || !/^[A-Za-z0-9]{8}$/.test(code)) return LINK_USAGE;
  const user = await api.link({ discord_user_id: message.author.id, discord_username: message.author.username, code });
  return `🔗 Your Discord account is now linked to the MakePlus account of ${user.full_name}. \`!register\` uses it.`;
}

async function events(api: MakePlusApi): Promise<string> {
  const page = await api.activeEvents();
  if (page.results.length === 0) return 'No event is running right now.';
  return page.results.map((e) => `**${e.name}**: until ${when(e.end_date)} · id \`${e.id}\``).join('\n');
}

async function attend(eventId: string | undefined, message: BotMessage, api: MakePlusApi): Promise<string> {
  let id = eventId;
  if (id === undefined) {
    // In a channel the organisers bound to the event, the event is known.
    const bound = await api.eventOfChannel(message.channelId).catch((error: unknown) => {
      if (error instanceof ApiError && (error.status === 404 || error.status === 400)) return null;
      throw error;
    });
    if (!bound) return ATTEND_USAGE;
    id = bound.id;
  }
  if (!UUID.test(id)) return ATTEND_USAGE;
  try {
    const record = await api.attend(id, message.author.id);
    return `✅ Your attendance is recorded (${when(record.attended_at)}).`;
  } catch (error) {
    if (error instanceof ApiError && error.code === 'NOT_FOUND') {
      return 'I could not find you in that event: check the id with `!events`, and register with `!register`.';
    }
    throw error;
  }
}

async function status(message: BotMessage, api: MakePlusApi): Promise<string> {
  let user;
  try {
    user = await api.user(message.author.id);
  } catch (error) {
    if (error instanceof ApiError && error.code === 'NOT_FOUND') return NOT_REGISTERED;
    throw error;
  }
  const lines = [`**${user.full_name}**`];
  if (user.registration?.status === 'waitlisted') {
    lines.push(`Registration: waiting list, position ${user.registration.position ?? '?'}`);
  } else if (user.role) {
    lines.push(`Registration: ${user.registration ? 'confirmed' : 'member'} (role: ${user.role})`);
  }
  const attendance = await api.attendance(message.author.id);
  const last = attendance.results[0];
  lines.push(
    last
      ? `Attendance: ${attendance.count} record(s), last ${when(last.attended_at)} (${last.method})`
      : 'Attendance: none yet (`!attend <event_id>` while the event runs)',
  );
  return lines.join('\n');
}

/** An API refusal or a failure, in words for the person who typed the command. */
function explain(error: unknown, now: () => Date, logger: BotLogger): string {
  if (!(error instanceof ApiError)) {
    logger.error({ err: error }, 'MakePlus API unreachable');
    return 'I cannot reach MakePlus right now: try again in a moment.';
  }
  const seconds = (key: string) => (typeof error.body[key] === 'number' ? (error.body[key] as number) : 0);
  switch (error.code) {
    case 'EVENT_NOT_STARTED': {
      const wait = seconds('seconds_until_start');
      const start = new Date(now().getTime() + wait * 1000);
      return `⏳ The event has not started yet: it starts in ${duration(wait)} (${when(start)}).`;
    }
    case 'EVENT_ENDED':
      return `This event is over: it ended ${duration(seconds('seconds_since_end'))} ago.`;
    case 'EVENT_CANCELLED':
      return 'This event was cancelled.';
    case 'REGISTRATION_CLOSED':
      return 'Registration is closed for this event.';
    case 'NOT_A_PARTICIPANT':
      return 'You have no seat in this event yet (waiting list?), so you cannot attend.';
    case 'LINK_CODE_INVALID':
      return 'That code is unknown, already used or expired: make a new one in the app (it lasts 10 minutes).';
    case 'DISCORD_ALREADY_LINKED':
      return 'This Discord account is already linked to another MakePlus account: please contact the organisers.';
    case 'ACCOUNT_INACTIVE':
      return 'Your MakePlus account is deactivated: please contact the organisers.';
    case 'NOT_FOUND':
      return NOT_REGISTERED;
    case 'VALIDATION_FAILED':
      return `That does not look right: ${error.message}. Type \`!help\`.`;
    case 'RATE_LIMITED':
      return 'Too many requests: try again in a moment.';
    case 'AUTH_REQUIRED':
    case 'TOKEN_INVALID':
      logger.error({ code: error.code }, 'MakePlus refused the bot token (MAKEPLUS_BOT_TOKEN): revoked or wrong?');
      return 'MakePlus refused my credentials: please tell the organisers.';
    default:
      logger.warn({ status: error.status, code: error.code }, 'Unexpected answer of the MakePlus API');
      return 'Something went wrong on my side: try again later.';
  }
}
