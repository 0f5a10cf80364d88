import { Body, Controller, Get, Post, Query, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../../common/auth/auth-context';
import { CurrentEvent, CurrentUser, EventRoles } from '../../common/auth/auth.decorators';
import { IdParam } from '../../common/http/id-param';
import { ApiPage, type Page } from '../../common/pagination/api-page';
import { AccessLogService } from './access-log.service';
import { AccessLogDto, AccessLogQueryDto, ConflictDto, ConflictQueryDto, ManualAccessDto } from './dto/access-log.dto';
import { Scanners } from './door.controller';

const Supervisors = () => EventRoles('organisateur', 'gestionnaire_des_salles');

@ApiTags('doors')
@Controller('room-access')
export class RoomAccessController {
  constructor(private readonly logs: AccessLogService) {}

  @Get()
  @Scanners()
  @ApiOperation({
    summary: 'Access log of the event (controllers: their own scans)',
    description: 'Filters room, participant, status, reason_code, direction, source, from, to, search (badge, name).',
  })
  @ApiPage(AccessLogDto)
  list(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @Query() query: AccessLogQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<AccessLogDto>> {
    return this.logs.list(eventId, caller, query, request);
  }

  @Get('conflicts')
  @Supervisors()
  @ApiOperation({ summary: 'Scans flagged by offline sync: double entries and entries the server refuses' })
  @ApiPage(ConflictDto)
  conflicts(
    @CurrentEvent() eventId: string,
    @Query() query: ConflictQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<ConflictDto>> {
    return this.logs.conflicts(eventId, query, request);
  }

  @Get(':id')
  @Scanners()
  @ApiOkResponse({ type: AccessLogDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND (controllers: also scans of others)' })
  get(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @IdParam() id: string,
  ): Promise<AccessLogDto> {
    return this.logs.get(eventId, caller, id);
  }

  @Post()
  @Supervisors()
  @ApiOperation({
    summary: 'Record a decision taken by staff at a door, with its reason (denial_reason is required)',
    description: 'granted applies to occupancy like a scan (never over capacity: the row then says ROOM_FULL).',
  })
  @ApiCreatedResponse({ type: AccessLogDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: room_id or participant_id not of this event, no reason' })
  @ApiConflictResponse({ description: 'never: the decision is logged whatever it is' })
  manual(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @Body() dto: ManualAccessDto,
  ): Promise<AccessLogDto> {
    return this.logs.manual(eventId, caller, dto);
  }
}
