import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Put, Query, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../../common/auth/auth-context';
import { CurrentEvent, CurrentUser, EventMember, EventRoles } from '../../common/auth/auth.decorators';
import { IdParam } from '../../common/http/id-param';
import { ApiPage, type Page } from '../../common/pagination/api-page';
import {
  CreateSessionDto,
  ReplaceSessionDto,
  SessionDto,
  SessionListQueryDto,
  UpdateSessionDto,
} from './dto/session.dto';
import { SessionsService } from './sessions.service';

/**
 * Who may change a session's status: API.md says "organisateur, gestionnaire of the room". The decorator admits both
 * roles; SessionsService.transition narrows a gestionnaire_des_salles to the rooms of their current shifts (one
 * without any shift in the event may act in every room, as at the door), and refuses others with 403.
 */
const StatusChangers = () => EventRoles('organisateur', 'gestionnaire_des_salles');

@ApiTags('sessions')
@Controller('sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  @EventMember()
  @ApiOperation({ summary: "Sessions of the token's event" })
  @ApiPage(SessionDto)
  list(
    @CurrentEvent() eventId: string,
    @Query() query: SessionListQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<SessionDto>> {
    return this.sessions.list(eventId, query, request);
  }

  @Get(':id')
  @EventMember()
  @ApiOkResponse({ type: SessionDto })
  get(@CurrentEvent() eventId: string, @IdParam() id: string): Promise<SessionDto> {
    return this.sessions.get(eventId, id);
  }

  @Post()
  @EventRoles('organisateur')
  @ApiOperation({ summary: 'Schedule a session in a room of the event' })
  @ApiCreatedResponse({ type: SessionDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED (e.g. room_id of another event, end_time before start)' })
  @ApiConflictResponse({ description: 'SESSION_OVERLAP: another non-cancelled session of the room overlaps' })
  create(@CurrentEvent() eventId: string, @Body() dto: CreateSessionDto): Promise<SessionDto> {
    return this.sessions.create(eventId, dto);
  }

  @Patch(':id')
  @EventRoles('organisateur')
  @ApiOperation({ summary: 'Change a session; status changes only through mark_live/, mark_completed/, cancel/' })
  @ApiOkResponse({ type: SessionDto })
  @ApiConflictResponse({ description: 'SESSION_OVERLAP' })
  update(@CurrentEvent() eventId: string, @IdParam() id: string, @Body() dto: UpdateSessionDto): Promise<SessionDto> {
    return this.sessions.update(eventId, id, dto);
  }

  @Put(':id')
  @EventRoles('organisateur')
  @ApiOperation({
    summary: 'PUT: room, title and times required; optional fields not sent keep their values (as in PATCH)',
  })
  @ApiOkResponse({ type: SessionDto })
  @ApiConflictResponse({ description: 'SESSION_OVERLAP' })
  replace(@CurrentEvent() eventId: string, @IdParam() id: string, @Body() dto: ReplaceSessionDto): Promise<SessionDto> {
    return this.sessions.update(eventId, id, dto);
  }

  @Delete(':id')
  @EventRoles('organisateur')
  @HttpCode(204)
  @ApiNoContentResponse({
    description: "Its attendance records go with it, each kept in the attendance audit log ('Session deleted')",
  })
  async remove(
    @CurrentEvent() eventId: string,
    @IdParam() id: string,
    @CurrentUser() caller: AuthContext,
  ): Promise<void> {
    await this.sessions.remove(eventId, id, caller);
  }

  @Post(':id/mark_live')
  @StatusChangers()
  @HttpCode(200)
  @ApiOperation({ summary: 'scheduled → live' })
  @ApiOkResponse({ type: SessionDto })
  @ApiConflictResponse({ description: 'INVALID_TRANSITION' })
  markLive(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @IdParam() id: string,
  ): Promise<SessionDto> {
    return this.sessions.transition(eventId, id, 'mark_live', caller);
  }

  @Post(':id/mark_completed')
  @StatusChangers()
  @HttpCode(200)
  @ApiOperation({ summary: 'live → completed' })
  @ApiOkResponse({ type: SessionDto })
  @ApiConflictResponse({ description: 'INVALID_TRANSITION' })
  markCompleted(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @IdParam() id: string,
  ): Promise<SessionDto> {
    return this.sessions.transition(eventId, id, 'mark_completed', caller);
  }

  @Post(':id/cancel')
  @StatusChangers()
  @HttpCode(200)
  @ApiOperation({ summary: 'scheduled or live → cancelled (final: a cancelled session is not reinstated)' })
  @ApiOkResponse({ type: SessionDto })
  @ApiConflictResponse({ description: 'INVALID_TRANSITION' })
  cancel(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @IdParam() id: string,
  ): Promise<SessionDto> {
    return this.sessions.transition(eventId, id, 'cancel', caller);
  }
}
