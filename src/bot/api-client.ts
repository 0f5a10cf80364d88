/**
 * A small typed client of the `/api/discord/` routes (API.md, "Discord"), with the bot token in `X-Bot-Token`. The
 * command handler depends on the `MakePlusApi` interface only, so its tests use a fake.
 */

export interface RegistrationAnswer {
  status: 'confirmed' | 'waitlisted' | 'member';
  position: number | null;
  account_created: boolean;
  user: DiscordUser;
}

export interface DiscordUser {
  id: string;
  full_name: string;
  discord_user_id: string;
  discord_username: string | null;
  role: string | null;
  participant: string | null;
  registration: { status: 'confirmed' | 'waitlisted'; position: number | null } | null;
}

export interface EventSummary {
  id: string;
  name: string;
  start_date: string;
  end_date: string;
  location: string;
  status: string;
}

export interface EventStatus {
  id: string;
  name: string;
  status: 'upcoming' | 'active' | 'ended' | 'cancelled';
  start_date: string;
  end_date: string;
  can_attend: boolean;
  time_until_start: number | null;
  time_until_end: number | null;
}

export interface AttendanceRecord {
  id: string;
  session_id: string | null;
  participant_id: string;
  method: string;
  attended_at: string;
}

export interface AttendanceEntry {
  id: string;
  session: string | null;
  method: string;
  attended_at: string;
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface MakePlusApi {
  register(input: { name: string; discord_user_id: string; discord_username: string }): Promise<RegistrationAnswer>;
  link(input: { discord_user_id: string; discord_username: string; code: string }): Promise<DiscordUser>;
  user(discordUserId: string): Promise<DiscordUser>;
  activeEvents(): Promise<Page<EventSummary>>;
  eventOfChannel(channelId: string): Promise<EventSummary>;
  attend(eventId: string, discordUserId: string): Promise<AttendanceRecord>;
  attendance(discordUserId: string): Promise<Page<AttendanceEntry>>;
  status(eventId: string): Promise<EventStatus>;
}

/** An error answer of the API: its status and the `code` of API.md, with the body's figures. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

const TIMEOUT_MS = 10_000;

/** The client over `fetch`. `baseUrl` is the server's root (`https://api.example.com`), without `/api`. */
export class HttpMakePlusApi implements MakePlusApi {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly botToken: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.base = `${baseUrl.replace(/\/+$/, '')}/api/discord`;
  }

  register(input: { name: string; discord_user_id: string; discord_username: string }): Promise<RegistrationAnswer> {
    return this.call('POST', '/users/register/', input);
  }

  link(input: { discord_user_id: string; discord_username: string; code: string }): Promise<DiscordUser> {
    return this.call('POST', '/users/link/', input);
  }

  user(discordUserId: string): Promise<DiscordUser> {
    return this.call('GET', `/users/${encodeURIComponent(discordUserId)}/`);
  }

  activeEvents(): Promise<Page<EventSummary>> {
    return this.call('GET', '/events/active/');
  }

  eventOfChannel(channelId: string): Promise<EventSummary> {
    return this.call('GET', `/events/channel/${encodeURIComponent(channelId)}/`);
  }

  attend(eventId: string, discordUserId: string): Promise<AttendanceRecord> {
    return this.call('POST', `/attend/${encodeURIComponent(eventId)}/`, { discord_user_id: discordUserId });
  }

  attendance(discordUserId: string): Promise<Page<AttendanceEntry>> {
    return this.call('GET', `/attendance/${encodeURIComponent(discordUserId)}/`);
  }

  status(eventId: string): Promise<EventStatus> {
    return this.call('GET', `/event/${encodeURIComponent(eventId)}/status/`);
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: object): Promise<T> {
    const res = await this.fetchImpl(`${this.base}${path}`, {
      method,
      headers: {
        'X-Bot-Token': this.botToken,
        Accept: 'application/json',
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (a proxy's error page): reported by status below.
    }
    if (!res.ok) {
      const error = (parsed ?? {}) as Record<string, unknown>;
      const code = typeof error.code === 'string' ? error.code : `HTTP_${res.status}`;
      const detail = typeof error.detail === 'string' ? error.detail : res.statusText;
      throw new ApiError(res.status, code, detail, error);
    }
    return parsed as T;
  }
}
