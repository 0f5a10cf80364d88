import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Put, Query, Req } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentEvent, EventMember, EventRoles } from '../../common/auth/auth.decorators';
import { IdParam } from '../../common/http/id-param';
import { ApiPage, type Page } from '../../common/pagination/api-page';
import { CreateRoomDto, RoomDto, RoomListQueryDto, UpdateRoomDto } from './dto/room.dto';
import { RoomErrors } from './rooms.errors';
import { RoomsService } from './rooms.service';

const NOT_FOUND = 'NOT_FOUND: no such room in the event of the token';
const WRITE_CONFLICTS = `${RoomErrors.NAME_TAKEN} (name used by another room of the event), ${RoomErrors.CAPACITY_BELOW_OCCUPANCY} (capacity lower than current_participants)`;

@ApiTags('rooms')
@Controller('rooms')
export class RoomsController {
  constructor(private readonly rooms: RoomsService) {}

  @Get()
  @EventMember()
  @ApiOperation({ summary: "Rooms of the token's event; filters is_active, search (name, location, description)" })
  @ApiPage(RoomDto)
  list(
    @CurrentEvent() eventId: string,
    @Query() query: RoomListQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<RoomDto>> {
    return this.rooms.list(eventId, query, request);
  }

  @Get(':id')
  @EventMember()
  @ApiOperation({ summary: 'One room' })
  @ApiOkResponse({ type: RoomDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  get(@CurrentEvent() eventId: string, @IdParam() id: string): Promise<RoomDto> {
    return this.rooms.get(eventId, id);
  }

  @Post()
  @EventRoles('organisateur')
  @ApiOperation({ summary: 'Create a room; its name is unique in the event' })
  @ApiCreatedResponse({ type: RoomDto })
  @ApiConflictResponse({ description: `${RoomErrors.NAME_TAKEN}: another room of the event has this name` })
  create(@CurrentEvent() eventId: string, @Body() dto: CreateRoomDto): Promise<RoomDto> {
    return this.rooms.create(eventId, dto);
  }

  @Patch(':id')
  @EventRoles('organisateur')
  @ApiOperation({ summary: 'Change some fields of a room' })
  @ApiOkResponse({ type: RoomDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiConflictResponse({ description: WRITE_CONFLICTS })
  update(@CurrentEvent() eventId: string, @IdParam() id: string, @Body() dto: UpdateRoomDto): Promise<RoomDto> {
    return this.rooms.update(eventId, id, dto);
  }

  @Put(':id')
  @EventRoles('organisateur')
  @ApiOperation({
    summary: 'PUT: name and capacity required; optional fields not sent keep their values (as in PATCH)',
  })
  @ApiOkResponse({ type: RoomDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiConflictResponse({ description: WRITE_CONFLICTS })
  replace(@CurrentEvent() eventId: string, @IdParam() id: string, @Body() dto: CreateRoomDto): Promise<RoomDto> {
    return this.rooms.update(eventId, id, dto);
  }

  @Delete(':id')
  @EventRoles('organisateur')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a room that has no sessions and no scans (deactivate it otherwise)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiConflictResponse({ description: `${RoomErrors.HAS_SESSIONS}, ${RoomErrors.HAS_SCANS}` })
  async remove(@CurrentEvent() eventId: string, @IdParam() id: string): Promise<void> {
    await this.rooms.remove(eventId, id);
  }
}
