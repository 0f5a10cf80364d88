import { HttpStatus, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { BotContext } from '../../common/auth/bot-auth';
import { assertTokenEvent } from '../../common/auth/event-scope';
import { AppException, conflict, ErrorCode, notFound } from '../../common/errors/app.exception';
import { type ListQueryDto, type Page, pageWindow, toPage } from '../../common/pagination/pagination';
import { AssignmentsService } from '../assignments/assignments.service';
import { AttendanceService, notAParticipant, type AttendanceRecord } from '../attendance/attendance.service';
import type { AttendeeDto, AttendeesQueryDto } from '../attendance/dto/attend.dto';
import type { EventDto, EventStatusDto } from '../events/dto/event.dto';
import { EventsService } from '../events/events.service';
import { ParticipantsService } from '../participants/participants.service';
import type { RegistrationStateDto } from '../registrations/dto/registration.dto';
import { RegistrationErrors } from '../registrations/registrations.errors';
import { RegistrationsService } from '../registrations/registrations.service';
import type { User } from '../users/entities/user.entity';
import { fullName, UsersService } from '../users/users.service';
import { DiscordErrors } from './discord.errors';
import {
  BotAttendeeDto,
  type DiscordLinkDto,
  type DiscordRegisterDto,
  type DiscordRegisterResultDto,
  type DiscordUserDto,
} from './dto/discord.dto';

const forBot = (page: Page<AttendeeDto>): Page<BotAttendeeDto> => ({
  ...page,
  results: page.results.map((a) => BotAttendeeDto.from(a)),
});

/** A registration state shown to the bot is never `cancelled` (`own` and `register` leave those out). */
const asAnswer = (status: RegistrationStateDto['status']): 'confirmed' | 'waitlisted' =>
  status === 'waitlisted' ? 'waitlisted' : 'confirmed';
const registrationClosed = () =>
  conflict(RegistrationErrors.REGISTRATION_CLOSED, 'This event does not take registrations');

/**
 * What the Discord bot may do for its token's event: register Discord users (through the registration rules), show
 * the event, mark attendance (through the time window) and read the ledger. Users of other events do not exist here.
 */
@Injectable()
export class DiscordService {
  constructor(
    private readonly users: UsersService,
    private readonly assignments: AssignmentsService,
    private readonly registrations: RegistrationsService,
    private readonly participants: ParticipantsService,
    private readonly attendance: AttendanceService,
    private readonly events: EventsService,
  ) {}

  /**
   * Links the Discord user to their account (a Discord-only one is created when there is none) and registers it:
   * a seat (participant with a badge) or the waiting list, when the event takes registrations. Someone who already
   * has a role in the event is only linked. `created` says whether anything new was made.
   */
  async register(
    bot: BotContext,
    dto: DiscordRegisterDto,
  ): Promise<{ created: boolean; result: DiscordRegisterResultDto }> {
    // A new Discord user is refused before an account is made for them when the event plainly takes no registrations
    // (the registration itself decides again, under its lock).
    const known = await this.users.findByDiscordId(dto.discord_user_id);
    if (!known && !(await this.takesRegistrations(bot.eventId))) throw registrationClosed();
    const { user, created: accountCreated } = await this.users.findOrCreateByDiscord({
      discordUserId: dto.discord_user_id,
      discordUsername: dto.discord_username,
      name: dto.name,
    });
    if (!user.isActive) {
      throw new AppException(HttpStatus.FORBIDDEN, DiscordErrors.ACCOUNT_INACTIVE, 'This account is deactivated');
    }
    let outcome: { created: boolean; status: DiscordRegisterResultDto['status']; position: number | null };
    if (await this.assignments.membership(bot.eventId, user.id)) {
      // Registered before (confirmed, so a member): the same answer again; a role given otherwise: only linked.
      const state = await this.registrationOf(bot.eventId, user.id);
      outcome = {
        created: false,
        status: state ? asAnswer(state.status) : 'member',
        position: state?.position ?? null,
      };
    } else {
      try {
        const { created, state } = await this.registrations.register(bot.eventId, user.id);
        outcome = { created, status: asAnswer(state.status), position: state.position };
      } catch (error) {
        // An organisateur gave them a role between the two reads.
        if (!(error instanceof AppException && error.code === RegistrationErrors.ALREADY_MEMBER)) throw error;
        outcome = { created: false, status: 'member', position: null };
      }
    }
    // Only now, the request accepted: a refused one (closed registration, deactivated account) changes nothing.
    await this.users.refreshDiscordUsername(user, dto.discord_username);
    return {
      created: accountCreated || outcome.created,
      result: {
        status: outcome.status,
        position: outcome.position,
        account_created: accountCreated,
        user: await this.describe(bot.eventId, user),
      },
    };
  }

  /**
   * Links the Discord account to the MakePlus account whose one-time code this is (the person made it in the app,
   * which proves they own that account). Not scoped to the bot's event: `register` then registers that account.
   */
  async link(bot: BotContext, dto: DiscordLinkDto): Promise<DiscordUserDto> {
    const outcome = await this.users.linkDiscord(dto.code, dto.discord_user_id, dto.discord_username);
    if (outcome.result === 'linked') return this.describe(bot.eventId, outcome.user);
    if (outcome.result === 'invalid') {
      throw new AppException(
        HttpStatus.BAD_REQUEST,
        DiscordErrors.LINK_CODE_INVALID,
        'This code is unknown, used or expired: make a new one in the app',
      );
    }
    throw conflict(DiscordErrors.DISCORD_ALREADY_LINKED, 'This Discord account is linked to another account');
  }

  /**
   * The Discord user as seen from the token's event: 404 unless they are a member or registered there (and their
   * account is active). A bot sees nothing of other events.
   */
  async user(bot: BotContext, discordUserId: string): Promise<DiscordUserDto> {
    const user = await this.users.findByDiscordId(discordUserId);
    const dto = user?.isActive ? await this.describe(bot.eventId, user) : null;
    if (!dto || (dto.role === null && dto.registration === null && dto.participant === null)) {
      throw notFound('Discord user (register first)');
    }
    return dto;
  }

  /** The token's event when it runs now: a list of one, or of none. */
  async activeEvents(bot: BotContext, request: FastifyRequest): Promise<Page<EventDto>> {
    const event = await this.events.getScoped(bot.eventId);
    const results = event.status === 'active' ? [event] : [];
    return toPage(request, pageWindow({}), results.length, results);
  }

  /** The token's event if the organizer bound the token to this channel, else 404. */
  async channelEvent(bot: BotContext, channelId: string): Promise<EventDto> {
    if (!bot.channelIds.includes(channelId)) throw notFound('Event for this channel');
    return this.events.getScoped(bot.eventId);
  }

  /** Marks the Discord user present at the event, method `discord`, while the event runs; a repeat answers it. */
  async attend(bot: BotContext, eventId: string, discordUserId: string): Promise<AttendanceRecord> {
    assertTokenEvent(eventId, bot.eventId);
    const user = await this.user(bot, discordUserId);
    // Waitlisted, or a membership an organisateur deactivated: no attendance, as for a revoked token in the app.
    if (user.role === null) throw notAParticipant();
    return this.attendance.attendEvent(bot.eventId, user.id, {}, new Date(), 'discord');
  }

  /** The Discord user's attendance records in the event (the event and its sessions). */
  async attendanceOf(
    bot: BotContext,
    discordUserId: string,
    query: ListQueryDto,
    request: FastifyRequest,
  ): Promise<Page<BotAttendeeDto>> {
    const user = await this.user(bot, discordUserId);
    return forBot(await this.attendance.attendeesOfUser(bot.eventId, user.id, query, request));
  }

  status(bot: BotContext, eventId: string): Promise<EventStatusDto> {
    assertTokenEvent(eventId, bot.eventId);
    return this.events.statusOfEvent(bot.eventId);
  }

  async attendees(
    bot: BotContext,
    eventId: string,
    query: AttendeesQueryDto,
    request: FastifyRequest,
  ): Promise<Page<BotAttendeeDto>> {
    assertTokenEvent(eventId, bot.eventId);
    return forBot(await this.attendance.attendees(bot.eventId, query, request));
  }

  private registrationOf(eventId: string, userId: string): Promise<RegistrationStateDto | null> {
    return this.registrations.own(eventId, userId).catch((error: unknown) => {
      if (error instanceof AppException && error.code === ErrorCode.NOT_FOUND) return null;
      throw error;
    });
  }

  private async takesRegistrations(eventId: string): Promise<boolean> {
    const event = await this.events.getScoped(eventId);
    return event.registration_open && (event.status === 'upcoming' || event.status === 'active');
  }

  private async describe(eventId: string, user: User): Promise<DiscordUserDto> {
    const [role, participant, registration] = await Promise.all([
      this.assignments.activeRole(user.id, eventId),
      this.participants.idOfUser(eventId, user.id),
      this.registrationOf(eventId, user.id),
    ]);
    return {
      id: user.id,
      first_name: user.firstName,
      last_name: user.lastName,
      full_name: fullName(user),
      discord_user_id: user.discordUserId as string,
      discord_username: user.discordUsername,
      role,
      participant,
      registration,
    };
  }
}
