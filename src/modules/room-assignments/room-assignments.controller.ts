import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Put, Query, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
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
  CreateRoomAssignmentDto,
  MyRoomAssignmentsQueryDto,
  ReplaceRoomAssignmentDto,
  RoomAssignmentDto,
  RoomAssignmentListQueryDto,
  UpdateRoomAssignmentDto,
} from './dto/room-assignment.dto';
import { RoomAssignmentsService } from './room-assignments.service';

const NOT_FOUND = 'NOT_FOUND: no such room assignment in the event of the token';
const INVALID =
  "VALIDATION_FAILED: room_id of another event, user_id without an active role in the event, role other than the user's role, end_time not after start_time";

@ApiTags('staff')
@Controller('room-assignments')
export class RoomAssignmentsController {
  constructor(private readonly shifts: RoomAssignmentsService) {}

  @Get()
  @EventRoles('organisateur')
  @ApiOperation({
    summary: "Staff shifts of the token's event; filters room, user, role, is_active, active_at, search",
  })
  @ApiPage(RoomAssignmentDto)
  list(
    @CurrentEvent() eventId: string,
    @Query() query: RoomAssignmentListQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<RoomAssignmentDto>> {
    return this.shifts.list(eventId, query, request);
  }

  @Get('mine')
  @EventRoles('organisateur', 'gestionnaire_des_salles', 'controlleur_des_badges')
  @ApiOperation({ summary: "The caller's own shifts in the token's event, by start time" })
  @ApiPage(RoomAssignmentDto)
  mine(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @Query() query: MyRoomAssignmentsQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<RoomAssignmentDto>> {
    return this.shifts.mine(eventId, caller, query, request);
  }

  @Get(':id')
  @EventRoles('organisateur')
  @ApiOkResponse({ type: RoomAssignmentDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  get(@CurrentEvent() eventId: string, @IdParam() id: string): Promise<RoomAssignmentDto> {
    return this.shifts.get(eventId, id);
  }

  @Post()
  @EventRoles('organisateur')
  @ApiOperation({ summary: 'Assign a room manager or badge controller of the event to a room for a time slot' })
  @ApiCreatedResponse({ type: RoomAssignmentDto })
  @ApiBadRequestResponse({ description: INVALID })
  create(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @Body() dto: CreateRoomAssignmentDto,
  ): Promise<RoomAssignmentDto> {
    return this.shifts.create(eventId, dto, caller);
  }

  @Patch(':id')
  @EventRoles('organisateur')
  @ApiOperation({ summary: 'Change some fields of a shift' })
  @ApiOkResponse({ type: RoomAssignmentDto })
  @ApiBadRequestResponse({ description: INVALID })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  update(
    @CurrentEvent() eventId: string,
    @IdParam() id: string,
    @Body() dto: UpdateRoomAssignmentDto,
  ): Promise<RoomAssignmentDto> {
    return this.shifts.update(eventId, id, dto);
  }

  @Put(':id')
  @EventRoles('organisateur')
  @ApiOperation({
    summary: 'PUT: user, room, role and times required; optional fields not sent keep their values (as in PATCH)',
  })
  @ApiOkResponse({ type: RoomAssignmentDto })
  @ApiBadRequestResponse({ description: INVALID })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  replace(
    @CurrentEvent() eventId: string,
    @IdParam() id: string,
    @Body() dto: ReplaceRoomAssignmentDto,
  ): Promise<RoomAssignmentDto> {
    return this.shifts.update(eventId, id, dto);
  }

  @Delete(':id')
  @EventRoles('organisateur')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: NOT_FOUND })
  async remove(@CurrentEvent() eventId: string, @IdParam() id: string): Promise<void> {
    await this.shifts.remove(eventId, id);
  }
}
