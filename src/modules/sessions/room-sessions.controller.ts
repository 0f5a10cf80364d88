import { Controller, Get, Query, Req } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentEvent, EventMember } from '../../common/auth/auth.decorators';
import { IdParam } from '../../common/http/id-param';
import { ApiPage, type Page } from '../../common/pagination/api-page';
import { RoomSessionListQueryDto, SessionDto } from './dto/session.dto';
import { SessionsService } from './sessions.service';

/** `GET /api/rooms/{id}/sessions/`: lives with sessions, whose service it uses; the rooms module stays below it. */
@ApiTags('sessions')
@Controller('rooms')
export class RoomSessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get(':id/sessions')
  @EventMember()
  @ApiOperation({ summary: 'Sessions of one room, by start time' })
  @ApiPage(SessionDto)
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such room in the event of the token' })
  list(
    @CurrentEvent() eventId: string,
    @IdParam() id: string,
    @Query() query: RoomSessionListQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<SessionDto>> {
    return this.sessions.listForRoom(eventId, id, query, request);
  }
}
