import { Controller, Get } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthContext } from '../../common/auth/auth-context';
import { CurrentEvent, CurrentUser, EventMember, EventRoles } from '../../common/auth/auth.decorators';
import { IdParam } from '../../common/http/id-param';
import { DashboardDto, EventStatisticsDto } from './dto/stats.dto';
import { StatsService } from './stats.service';

@ApiTags('statistics')
@Controller()
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get('events/:id/statistics')
  @EventRoles('organisateur', 'gestionnaire_des_salles')
  @ApiOperation({ summary: "Figures of the token's event (rooms, sessions, check-ins, occupancy, today's scans)" })
  @ApiOkResponse({ type: EventStatisticsDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: not the event of the token' })
  eventStatistics(@IdParam() id: string, @CurrentEvent() eventId: string): Promise<EventStatisticsDto> {
    return this.stats.eventStatistics(id, eventId);
  }

  @Get('dashboard/stats')
  @EventMember()
  @ApiOperation({ summary: "The caller's home-screen summary; its sections depend on the caller's role" })
  @ApiOkResponse({ type: DashboardDto })
  dashboard(@CurrentEvent() eventId: string, @CurrentUser() caller: AuthContext): Promise<DashboardDto> {
    return this.stats.dashboard(eventId, caller);
  }
}
