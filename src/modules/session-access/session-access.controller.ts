import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
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
import {
  CreateSessionAccessDto,
  MyAtelierDto,
  MyAteliersQueryDto,
  SessionAccessDto,
  SessionAccessListQueryDto,
  UpdateSessionAccessDto,
} from './dto/session-access.dto';
import { SessionAccessErrors } from './session-access.errors';
import { SessionAccessService } from './session-access.service';

const NOT_FOUND = 'NOT_FOUND: no such session access in the event of the token';

@ApiTags('paid ateliers')
@Controller()
export class SessionAccessController {
  constructor(private readonly access: SessionAccessService) {}

  @Get('session-access')
  @EventRoles('organisateur')
  @ApiOperation({ summary: 'Atelier rights of the event; filters session, participant, payment_status, has_access' })
  @ApiPage(SessionAccessDto)
  list(
    @CurrentEvent() eventId: string,
    @Query() query: SessionAccessListQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<SessionAccessDto>> {
    return this.access.list(eventId, query, request);
  }

  @Get('session-access/:id')
  @EventRoles('organisateur')
  @ApiOkResponse({ type: SessionAccessDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  get(@CurrentEvent() eventId: string, @IdParam() id: string): Promise<SessionAccessDto> {
    return this.access.get(eventId, id);
  }

  @Post('session-access')
  @EventRoles('organisateur')
  @ApiOperation({
    summary: 'Grant a participant access to an atelier',
    description: "pending, paid and free hold one of the atelier's seats (its capacity, else its room's).",
  })
  @ApiCreatedResponse({ type: SessionAccessDto })
  @ApiBadRequestResponse({
    description: 'VALIDATION_FAILED: participant_id or session_id not of this event, not an atelier',
  })
  @ApiConflictResponse({
    description: `${SessionAccessErrors.ACCESS_EXISTS} (already granted), ${SessionAccessErrors.ATELIER_FULL} (no seat left)`,
  })
  create(@CurrentEvent() eventId: string, @Body() dto: CreateSessionAccessDto): Promise<SessionAccessDto> {
    return this.access.create(eventId, dto);
  }

  @Patch('session-access/:id')
  @EventRoles('organisateur')
  @ApiOperation({ summary: 'Change payment_status or amount_paid (refunded frees the seat)' })
  @ApiOkResponse({ type: SessionAccessDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiConflictResponse({ description: `${SessionAccessErrors.ATELIER_FULL}: no seat left to return to` })
  update(
    @CurrentEvent() eventId: string,
    @IdParam() id: string,
    @Body() dto: UpdateSessionAccessDto,
  ): Promise<SessionAccessDto> {
    return this.access.update(eventId, id, dto);
  }

  @Delete('session-access/:id')
  @EventRoles('organisateur')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove an atelier right (its seat is freed)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: NOT_FOUND })
  async remove(@CurrentEvent() eventId: string, @IdParam() id: string): Promise<void> {
    await this.access.remove(eventId, id);
  }

  @Get('my-ateliers')
  @EventRoles('participant')
  @ApiOperation({ summary: 'The ateliers the caller may enter (paid or free), by start time' })
  @ApiPage(MyAtelierDto)
  mine(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @Query() query: MyAteliersQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<MyAtelierDto>> {
    return this.access.mine(eventId, caller.userId, query, request);
  }
}
