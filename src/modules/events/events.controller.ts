import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../../common/auth/auth-context';
import { Authenticated, CurrentEvent, CurrentUser, EventCreator, EventRoles } from '../../common/auth/auth.decorators';
import { IdParam } from '../../common/http/id-param';
import { ApiPage, type Page } from '../../common/pagination/api-page';
import {
  CreateEventDto,
  EventDto,
  EventListQueryDto,
  EventStatusDto,
  ReplaceEventDto,
  UpdateEventDto,
} from './dto/event.dto';
import { EventsService } from './events.service';

@ApiTags('events')
@Controller('events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @Authenticated()
  @ApiOperation({ summary: 'Events the caller belongs to (staff: all)' })
  @ApiPage(EventDto)
  list(
    @CurrentUser() auth: AuthContext,
    @Query() query: EventListQueryDto,
    @Req() req: FastifyRequest,
  ): Promise<Page<EventDto>> {
    return this.events.list(auth, query, req);
  }

  @Get('active')
  @Authenticated()
  @ApiOperation({ summary: "The caller's events running now" })
  @ApiPage(EventDto)
  active(
    @CurrentUser() auth: AuthContext,
    @Query() query: EventListQueryDto,
    @Req() req: FastifyRequest,
  ): Promise<Page<EventDto>> {
    return this.events.list(auth, query, req, 'active');
  }

  @Get('upcoming')
  @Authenticated()
  @ApiOperation({ summary: "The caller's events not started yet" })
  @ApiPage(EventDto)
  upcoming(
    @CurrentUser() auth: AuthContext,
    @Query() query: EventListQueryDto,
    @Req() req: FastifyRequest,
  ): Promise<Page<EventDto>> {
    return this.events.list(auth, query, req, 'upcoming');
  }

  @Get('open')
  @Authenticated()
  @ApiOperation({
    summary: 'Events open to registration that the caller may join (any event; not cancelled, not over, no role yet)',
  })
  @ApiPage(EventDto)
  open(
    @CurrentUser() auth: AuthContext,
    @Query() query: EventListQueryDto,
    @Req() req: FastifyRequest,
  ): Promise<Page<EventDto>> {
    return this.events.open(auth, query, req);
  }

  @Post()
  @EventCreator()
  @ApiOperation({
    summary: 'Create an event (platform staff or an organisateur of any event); the creator becomes its organisateur',
  })
  @ApiCreatedResponse({ type: EventDto })
  create(@CurrentUser() auth: AuthContext, @Body() dto: CreateEventDto): Promise<EventDto> {
    return this.events.create(auth, dto);
  }

  @Get(':id')
  @Authenticated()
  @ApiOperation({ summary: 'One event the caller is a member of' })
  @ApiOkResponse({ type: EventDto })
  get(@IdParam() id: string, @CurrentUser() auth: AuthContext): Promise<EventDto> {
    return this.events.getVisible(id, auth);
  }

  @Get(':id/status')
  @Authenticated()
  @ApiOperation({ summary: 'Time window of an event the caller is a member of' })
  @ApiOkResponse({ type: EventStatusDto })
  status(@IdParam() id: string, @CurrentUser() auth: AuthContext): Promise<EventStatusDto> {
    return this.events.status(id, auth);
  }

  @Patch(':id')
  @EventRoles('organisateur')
  @ApiOperation({ summary: "Change the token's event" })
  @ApiOkResponse({ type: EventDto })
  update(@IdParam() id: string, @CurrentEvent() eventId: string, @Body() dto: UpdateEventDto): Promise<EventDto> {
    return this.events.update(id, eventId, dto);
  }

  @Put(':id')
  @EventRoles('organisateur')
  @ApiOperation({
    summary:
      "PUT of the token's event: name and dates required; optional fields not sent keep their values (as in PATCH)",
  })
  @ApiOkResponse({ type: EventDto })
  replace(@IdParam() id: string, @CurrentEvent() eventId: string, @Body() dto: ReplaceEventDto): Promise<EventDto> {
    return this.events.update(id, eventId, dto);
  }

  @Delete(':id')
  @EventRoles('organisateur')
  @HttpCode(204)
  @ApiOperation({ summary: "Delete the token's event and everything in it" })
  @ApiNoContentResponse()
  async remove(@IdParam() id: string, @CurrentEvent() eventId: string): Promise<void> {
    await this.events.remove(id, eventId);
  }
}
