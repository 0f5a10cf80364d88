import { Controller, Delete, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiServiceUnavailableResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthContext } from '../../common/auth/auth-context';
import { Authenticated, CurrentEvent, CurrentUser, EventRoles } from '../../common/auth/auth.decorators';
import { assertTokenEvent } from '../../common/auth/event-scope';
import { IdParam } from '../../common/http/id-param';
import { ApiPage, type Page } from '../../common/pagination/api-page';
import { RegistrationDto, RegistrationListQueryDto, RegistrationStateDto } from './dto/registration.dto';
import { RegistrationErrors } from './registrations.errors';
import { RegistrationsService } from './registrations.service';

const MALFORMED = 'VALIDATION_FAILED: id is not a UUID';

const QUEUE_FULL =
  'UNAVAILABLE with Retry-After: too many registrations and cancellations of this event waiting at once ' +
  '(REGISTRATION_QUEUE_MAX per instance); nothing changed';

/** Self-registration: any logged-in user, whatever the event of their token (this is how one joins an event). */
@ApiTags('registrations')
@Controller('events/:id')
export class RegistrationsController {
  constructor(private readonly registrations: RegistrationsService) {}

  @Post('register')
  @Authenticated()
  @ApiOperation({
    summary: 'Register for the event: a seat if one is free, else a place in the waiting list',
    description:
      '201 when registered now, 200 with the same answer when already registered (confirmed or waitlisted). ' +
      'A confirmed seat makes the caller a participant of the event, with a badge. Capacity null is unlimited.',
  })
  @ApiCreatedResponse({ type: RegistrationStateDto })
  @ApiOkResponse({ type: RegistrationStateDto, description: 'Already registered: the current state' })
  @ApiBadRequestResponse({ description: MALFORMED })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such event' })
  @ApiConflictResponse({
    description: `${RegistrationErrors.REGISTRATION_CLOSED} (closed, cancelled or over), ${RegistrationErrors.ALREADY_MEMBER} (the caller already has a role in the event)`,
  })
  @ApiServiceUnavailableResponse({ description: QUEUE_FULL })
  async register(
    @IdParam() id: string,
    @CurrentUser() caller: AuthContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RegistrationStateDto> {
    const { created, state } = await this.registrations.register(id, caller.userId);
    reply.status(created ? 201 : 200);
    return state;
  }

  @Delete('register')
  @Authenticated()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Cancel the own registration',
    description:
      'A confirmed seat goes to the first of the waiting list (who becomes a participant with a badge); the ' +
      "caller's participant role and badge are removed (a role changed since by an organisateur is kept).",
  })
  @ApiNoContentResponse()
  @ApiBadRequestResponse({ description: MALFORMED })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such event, or not registered' })
  @ApiServiceUnavailableResponse({ description: QUEUE_FULL })
  async cancel(@IdParam() id: string, @CurrentUser() caller: AuthContext): Promise<void> {
    await this.registrations.cancel(id, caller.userId);
  }

  @Get('registration')
  @Authenticated()
  @ApiOperation({ summary: 'The own registration: status and place in the waiting list' })
  @ApiOkResponse({ type: RegistrationStateDto })
  @ApiBadRequestResponse({ description: MALFORMED })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: not registered (or cancelled)' })
  own(@IdParam() id: string, @CurrentUser() caller: AuthContext): Promise<RegistrationStateDto> {
    return this.registrations.own(id, caller.userId);
  }

  @Get('registrations')
  @EventRoles('organisateur')
  @ApiOperation({
    summary: "The event's registrations; filter status, search, ordering",
    description: 'Default order: confirmed, then the waiting list in order, then cancelled. The token event only.',
  })
  @ApiPage(RegistrationDto)
  @ApiNotFoundResponse({ description: "NOT_FOUND: not the token's event" })
  list(
    @IdParam() id: string,
    @CurrentEvent() eventId: string,
    @Query() query: RegistrationListQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<RegistrationDto>> {
    assertTokenEvent(id, eventId);
    return this.registrations.list(eventId, query, request);
  }
}
