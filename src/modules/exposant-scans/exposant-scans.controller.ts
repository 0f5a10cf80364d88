import {
  applyDecorators,
  Body,
  Controller,
  Get,
  Header,
  Patch,
  Post,
  Query,
  Req,
  Res,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthContext } from '../../common/auth/auth-context';
import { CurrentEvent, CurrentUser, EventRoles } from '../../common/auth/auth.decorators';
import { IdParam } from '../../common/http/id-param';
import { RateLimit } from '../../common/rate-limit/rate-limit.decorator';
import { ApiPage, type Page } from '../../common/pagination/api-page';
import { LeadDto, LeadListQueryDto, LeadStatsDto, ScanLeadDto, UpdateLeadDto } from './dto/exposant-scan.dto';
import { ExposantScanErrors } from './exposant-scans.errors';
import { ExposantScansService } from './exposant-scans.service';

/** Leads carry visitors' personal data: no cache keeps them. */
const NO_STORE = () => Header('Cache-Control', 'no-store');

/** A scan route (the route and its alias of the earlier app share everything but the path). */
const ScanRoute = (path: string, summary: string) =>
  applyDecorators(
    Post(path),
    EventRoles('exposant'),
    RateLimit('api_token', 'leads'),
    ApiTooManyRequestsResponse({ description: 'RATE_LIMITED (lead scans per exhibitor session), with Retry-After' }),
    ApiOperation({
      summary,
      description:
        'notes and rating, when given, replace those of the lead. A lead scan never opens a door and is not a check-in.',
    }),
    ApiCreatedResponse({ type: LeadDto, description: 'A new lead' }),
    ApiOkResponse({ type: LeadDto, description: 'A repeat scan of the same visitor: scan_count + 1' }),
    ApiNotFoundResponse({ description: `${ExposantScanErrors.BADGE_UNKNOWN}: no badge of this event has this QR` }),
    ApiConflictResponse({
      description: `${ExposantScanErrors.BADGE_REVOKED} (the QR was replaced, or its holder deactivated), ${ExposantScanErrors.OWN_BADGE} (your own badge)`,
    }),
  );

/** A statistics route (and its alias). */
const StatisticsRoute = (path: string, summary: string) =>
  applyDecorators(
    Get(path),
    EventRoles('exposant'),
    ApiOperation({
      summary,
      description:
        'total_visits counts repeats (the sum of scan_count); today_visits and by_hour count from 00:00 UTC.',
    }),
    ApiOkResponse({ type: LeadStatsDto }),
  );

@ApiTags('exhibitor leads')
@Controller()
export class ExposantScansController {
  constructor(private readonly leads: ExposantScansService) {}

  @ScanRoute('exposant/scan', "Scan a visitor's badge: 201 with a new lead, 200 with the lead of a repeat scan")
  scan(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @Body() dto: ScanLeadDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LeadDto> {
    return this.scanned(eventId, caller, dto, reply);
  }

  @ScanRoute('exposant-scans/scan_participant', 'Alias of POST /api/exposant/scan/')
  scanParticipant(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @Body() dto: ScanLeadDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LeadDto> {
    return this.scanned(eventId, caller, dto, reply);
  }

  @Get('exposant/scans')
  @EventRoles('exposant')
  @NO_STORE()
  @ApiOperation({
    summary: "The caller's own leads; search (visitor's name or badge_id), ordering",
    description: 'participant.email is present only when the visitor shares their contact with exhibitors.',
  })
  @ApiPage(LeadDto)
  list(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @Query() query: LeadListQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<LeadDto>> {
    return this.leads.list(eventId, caller.userId, query, request);
  }

  @Get('exposant/scans.csv')
  @EventRoles('exposant')
  @NO_STORE()
  @ApiOperation({
    summary: "The caller's leads as CSV (UTF-8 with BOM, header row), streamed",
    description:
      'Columns badge_id, full_name, email (only when shared), scan_count, first_scanned_at, last_scanned_at, rating, ' +
      'notes. Cells that a spreadsheet would read as a formula start with a single quote.',
  })
  @ApiProduces('text/csv')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  async csv(@CurrentEvent() eventId: string, @CurrentUser() caller: AuthContext): Promise<StreamableFile> {
    return new StreamableFile(await this.leads.exportCsv(eventId, caller.userId), {
      type: 'text/csv; charset=utf-8',
      disposition: 'attachment; filename="leads.csv"',
    });
  }

  @Patch('exposant/scans/:id')
  @EventRoles('exposant')
  @NO_STORE()
  @ApiOperation({ summary: 'Notes and rating of an own lead (null clears, absent keeps)' })
  @ApiOkResponse({ type: LeadDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such lead of the caller in the event of the token' })
  update(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @IdParam() id: string,
    @Body() dto: UpdateLeadDto,
  ): Promise<LeadDto> {
    return this.leads.update(eventId, caller.userId, id, dto);
  }

  @StatisticsRoute(
    'exposant/statistics',
    "The caller's visit figures: every scan, distinct visitors, today's scans and by UTC hour",
  )
  statistics(@CurrentEvent() eventId: string, @CurrentUser() caller: AuthContext): Promise<LeadStatsDto> {
    return this.leads.statistics(eventId, caller.userId);
  }

  @StatisticsRoute('exposant-scans/my_scans', 'Alias of GET /api/exposant/statistics/')
  myScans(@CurrentEvent() eventId: string, @CurrentUser() caller: AuthContext): Promise<LeadStatsDto> {
    return this.leads.statistics(eventId, caller.userId);
  }

  private async scanned(eventId: string, caller: AuthContext, dto: ScanLeadDto, reply: FastifyReply): Promise<LeadDto> {
    const { lead, created } = await this.leads.scan(eventId, caller.userId, dto);
    reply.status(created ? 201 : 200);
    return lead;
  }
}
