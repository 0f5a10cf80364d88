import { Controller, Get, Query, Req } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../../common/auth/auth-context';
import { CurrentEvent, CurrentUser } from '../../common/auth/auth.decorators';
import { IdParam } from '../../common/http/id-param';
import { ApiPage, type Page } from '../../common/pagination/api-page';
import { DoorStatsService } from './door-stats.service';
import { ControllerStatsDto, RoomPeopleQueryDto, RoomPersonDto, RoomStatsDto } from './dto/door-stats.dto';
import { Scanners } from './door.controller';

@ApiTags('doors')
@Controller()
export class DoorStatsController {
  constructor(private readonly stats: DoorStatsService) {}

  @Get('controller/room-stats')
  @Scanners()
  @ApiOperation({ summary: "The caller's own scans today (UTC): granted, denied, by room, and the last ten" })
  @ApiOkResponse({ type: ControllerStatsDto })
  controller(@CurrentEvent() eventId: string, @CurrentUser() caller: AuthContext): Promise<ControllerStatsDto> {
    return this.stats.controller(eventId, caller);
  }

  @Get('my-room/statistics')
  @Scanners()
  @ApiOperation({ summary: 'Alias of GET /api/controller/room-stats/' })
  @ApiOkResponse({ type: ControllerStatsDto })
  myRoom(@CurrentEvent() eventId: string, @CurrentUser() caller: AuthContext): Promise<ControllerStatsDto> {
    return this.stats.controller(eventId, caller);
  }

  @Get('rooms/:id/statistics')
  @Scanners()
  @ApiOperation({ summary: 'Occupancy and door figures of a room today (UTC)' })
  @ApiOkResponse({ type: RoomStatsDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such room in the event of the token' })
  room(@CurrentEvent() eventId: string, @IdParam() id: string): Promise<RoomStatsDto> {
    return this.stats.room(eventId, id);
  }

  @Get('rooms/:id/participants')
  @Scanners()
  @ApiOperation({ summary: 'Who is inside the room now (by the door scans); search by name or badge' })
  @ApiPage(RoomPersonDto)
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such room in the event of the token' })
  inside(
    @CurrentEvent() eventId: string,
    @IdParam() id: string,
    @Query() query: RoomPeopleQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<RoomPersonDto>> {
    return this.stats.inside(eventId, id, query, request);
  }
}
