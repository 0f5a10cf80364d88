import { Body, Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiServiceUnavailableResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BotToken, CurrentBot } from '../../common/auth/auth.decorators';
import type { BotContext } from '../../common/auth/bot-auth';
import { IdParam } from '../../common/http/id-param';
import { ApiPage, type Page } from '../../common/pagination/api-page';
import { ListQueryDto } from '../../common/pagination/pagination';
import type { AttendanceRecord } from '../attendance/attendance.service';
import { AttendanceRecordDto, AttendeesQueryDto } from '../attendance/dto/attend.dto';
import { EventDto, EventStatusDto } from '../events/dto/event.dto';
import { SnowflakeParam } from './discord-ids';
import { DiscordService } from './discord.service';
import {
  BotAttendeeDto,
  DiscordAttendDto,
  DiscordLinkDto,
  DiscordRegisterDto,
  DiscordRegisterResultDto,
  DiscordUserDto,
} from './dto/discord.dto';

const OTHER_EVENT = "NOT_FOUND: the path names another event than the bot token's";
const UNKNOWN_USER = "NOT_FOUND: this Discord user is not registered in the bot token's event";

/** The Discord bot's routes: `X-Bot-Token`, acting for the token's event only (API.md, "Discord"). */
@ApiTags('discord')
@Controller('discord')
@BotToken()
export class DiscordController {
  constructor(private readonly discord: DiscordService) {}

  @Post('users/register')
  @ApiOperation({
    summary: "Link a Discord user to an account and register it in the token's event",
    description:
      'Creates a Discord-only account (no email, no password) when the Discord id is linked to none. Then the ' +
      'registration rules apply: a seat (participant with a badge) or the waiting list. Someone who already has a ' +
      'role in the event is only linked (status member). 201 when an account or a registration was created, else 200.',
  })
  @ApiCreatedResponse({ type: DiscordRegisterResultDto })
  @ApiOkResponse({ type: DiscordRegisterResultDto, description: 'Already registered or a member: the same answer' })
  @ApiConflictResponse({ description: 'REGISTRATION_CLOSED' })
  @ApiForbiddenResponse({ description: 'ACCOUNT_INACTIVE' })
  @ApiServiceUnavailableResponse({
    description:
      'UNAVAILABLE with Retry-After: too many registrations of the event at once; no registration was made (a new ' +
      'Discord account may have been created: the retry links it)',
  })
  async register(
    @CurrentBot() bot: BotContext,
    @Body() dto: DiscordRegisterDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DiscordRegisterResultDto> {
    const { created, result } = await this.discord.register(bot, dto);
    reply.status(created ? 201 : 200);
    return result;
  }

  @Post('users/link')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Link a Discord account to an existing MakePlus account with the one-time code the person made in the app',
    description:
      'The code comes from POST /api/auth/discord-link/ (10 minutes, single use). Afterwards users/register/ ' +
      'registers that account instead of creating a Discord-only one.',
  })
  @ApiOkResponse({ type: DiscordUserDto })
  @ApiBadRequestResponse({ description: 'LINK_CODE_INVALID: unknown, used or expired code' })
  @ApiConflictResponse({ description: 'DISCORD_ALREADY_LINKED: the Discord account belongs to another account' })
  link(@CurrentBot() bot: BotContext, @Body() dto: DiscordLinkDto): Promise<DiscordUserDto> {
    return this.discord.link(bot, dto);
  }

  @Get('users/:discord_user_id')
  @ApiOperation({ summary: "A Discord user in the token's event: role, badge, registration" })
  @ApiOkResponse({ type: DiscordUserDto })
  @ApiNotFoundResponse({ description: UNKNOWN_USER })
  user(
    @CurrentBot() bot: BotContext,
    @SnowflakeParam('discord_user_id') discordUserId: string,
  ): Promise<DiscordUserDto> {
    return this.discord.user(bot, discordUserId);
  }

  @Get('events/active')
  @ApiOperation({ summary: "The token's event if it runs now (a list of one or none)" })
  @ApiPage(EventDto)
  activeEvents(@CurrentBot() bot: BotContext, @Req() request: FastifyRequest): Promise<Page<EventDto>> {
    return this.discord.activeEvents(bot, request);
  }

  @Get('events/channel/:channel_id')
  @ApiOperation({ summary: "The token's event if the token is bound to this Discord channel" })
  @ApiOkResponse({ type: EventDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: the token is not bound to this channel' })
  channelEvent(@CurrentBot() bot: BotContext, @SnowflakeParam('channel_id') channelId: string): Promise<EventDto> {
    return this.discord.channelEvent(bot, channelId);
  }

  @Post('attend/:event_id')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Mark a Discord user present at the event (method discord) while it runs; a repeat answers the record',
    description:
      'Refusals carry figures: EVENT_NOT_STARTED with seconds_until_start, EVENT_ENDED with seconds_since_end.',
  })
  @ApiOkResponse({ type: AttendanceRecordDto })
  @ApiForbiddenResponse({ description: 'NOT_A_PARTICIPANT: waitlisted, or no badge in the event' })
  @ApiConflictResponse({ description: 'EVENT_NOT_STARTED, EVENT_ENDED, EVENT_CANCELLED' })
  @ApiNotFoundResponse({ description: `${OTHER_EVENT}; ${UNKNOWN_USER}` })
  attend(
    @CurrentBot() bot: BotContext,
    @IdParam('event_id') eventId: string,
    @Body() dto: DiscordAttendDto,
  ): Promise<AttendanceRecord> {
    return this.discord.attend(bot, eventId, dto.discord_user_id);
  }

  @Get('attendance/:discord_user_id')
  @ApiOperation({ summary: "A Discord user's attendance records in the token's event, newest first" })
  @ApiPage(BotAttendeeDto)
  @ApiNotFoundResponse({ description: UNKNOWN_USER })
  attendance(
    @CurrentBot() bot: BotContext,
    @SnowflakeParam('discord_user_id') discordUserId: string,
    @Query() query: ListQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<BotAttendeeDto>> {
    return this.discord.attendanceOf(bot, discordUserId, query, request);
  }

  @Get('event/:event_id/status')
  @ApiOperation({ summary: 'Time window of the event: upcoming, active, ended or cancelled, with seconds' })
  @ApiOkResponse({ type: EventStatusDto })
  @ApiNotFoundResponse({ description: OTHER_EVENT })
  status(@CurrentBot() bot: BotContext, @IdParam('event_id') eventId: string): Promise<EventStatusDto> {
    return this.discord.status(bot, eventId);
  }

  @Get('event/:event_id/attendees')
  @ApiOperation({ summary: 'The attendance ledger of the event, newest first; filters method, session' })
  @ApiPage(BotAttendeeDto)
  @ApiNotFoundResponse({ description: OTHER_EVENT })
  attendees(
    @CurrentBot() bot: BotContext,
    @IdParam('event_id') eventId: string,
    @Query() query: AttendeesQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<BotAttendeeDto>> {
    return this.discord.attendees(bot, eventId, query, request);
  }
}
