import { Controller, Get } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentEvent, EventRoles } from '../../common/auth/auth.decorators';
import { STAFF_ROLES } from '../../common/auth/event-role';
import { IdParam } from '../../common/http/id-param';
import { RoomsService } from '../rooms/rooms.service';
import { RoomAssignmentDto } from './dto/room-assignment.dto';
import { RoomAssignmentsService } from './room-assignments.service';

/** `GET /api/rooms/{id}/current-staff/`: lives with room assignments, whose service it uses; rooms stay below it. */
@ApiTags('rooms')
@Controller('rooms/:id/current-staff')
export class RoomCurrentStaffController {
  constructor(
    private readonly rooms: RoomsService,
    private readonly shifts: RoomAssignmentsService,
  ) {}

  @Get()
  @EventRoles(...STAFF_ROLES)
  @ApiOperation({ summary: 'Active shifts of the room covering now (not paginated)' })
  @ApiOkResponse({ type: RoomAssignmentDto, isArray: true })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such room in the event of the token' })
  async list(@CurrentEvent() eventId: string, @IdParam() id: string): Promise<RoomAssignmentDto[]> {
    const room = await this.rooms.getInEvent(eventId, id);
    return this.shifts.activeStaff(eventId, room.id, new Date());
  }
}
