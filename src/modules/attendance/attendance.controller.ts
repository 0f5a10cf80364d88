import { Body, Controller, Delete, Get, Header, HttpCode, Post, Query, Req, Res, StreamableFile } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthContext } from '../../common/auth/auth-context';
import { CurrentEvent, CurrentUser, EventRoles } from '../../common/auth/auth.decorators';
import { EVENT_ROLES } from '../../common/auth/event-role';
import { assertTokenEvent } from '../../common/auth/event-scope';
import { IdParam } from '../../common/http/id-param';
import { ApiPage, type Page } from '../../common/pagination/api-page';
import { AttendanceService, type AttendanceRecord } from './attendance.service';
import {
  CurrentCodeDto,
  OpenCodeDto,
  AttendanceCsvQueryDto,
  AttendanceRecordDto,
  AttendeeDto,
  AttendeesQueryDto,
  AttendEventDto,
  AttendSessionDto,
  CheckAttendanceDto,
  ManualAttendanceDto,
  RemoveAttendanceDto,
} from './dto/attend.dto';

const NO_BADGE = 'NOT_A_PARTICIPANT: the caller has no badge in this event';
const AREA_RULE =
  'When the event has an attendance radius, latitude and longitude are required (400 LOCATION_REQUIRED) and must ' +
  'lie within it (409 OUT_OF_AREA with distance_m and radius_m).';

/** Self attendance within the time windows (PRODUCT.md, "Attendance"). Codes, manual marking, exports: issue 7. */
@ApiTags('attendance')
@Controller()
export class AttendanceController {
  constructor(private readonly attendance: AttendanceService) {}

  @Post('events/:id/attend')
  @EventRoles('participant')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Mark yourself present at the event while it runs; a repeat answers the first record',
    description:
      'Refusals carry figures: EVENT_NOT_STARTED with seconds_until_start, EVENT_ENDED with seconds_since_end. ' +
      AREA_RULE,
  })
  @ApiOkResponse({ type: AttendanceRecordDto })
  @ApiBody({ type: AttendEventDto, required: false })
  @ApiBadRequestResponse({ description: 'LOCATION_REQUIRED' })
  @ApiForbiddenResponse({ description: NO_BADGE })
  @ApiConflictResponse({ description: 'EVENT_NOT_STARTED, EVENT_ENDED, EVENT_CANCELLED, OUT_OF_AREA' })
  attendEvent(
    @CurrentEvent() eventId: string,
    @IdParam() id: string,
    // The class itself, not `AttendEventDto | undefined`: a union is emitted as Object, which the validation pipe
    // skips (an absent body is validated as {}).
    @Body() dto: AttendEventDto,
    @CurrentUser() caller: AuthContext,
  ): Promise<AttendanceRecord> {
    assertTokenEvent(id, eventId);
    return this.attendance.attendEvent(eventId, caller.userId, dto);
  }

  @Get('events/:id/check-attendance')
  @EventRoles(...EVENT_ROLES)
  @ApiOperation({ summary: 'Your own attendance at the event' })
  @ApiOkResponse({ type: CheckAttendanceDto })
  checkEvent(@CurrentEvent() eventId: string, @IdParam() id: string, @CurrentUser() caller: AuthContext) {
    assertTokenEvent(id, eventId);
    return this.attendance.checkEvent(eventId, caller.userId);
  }

  @Post('sessions/:id/attend')
  @EventRoles('participant')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Mark yourself present in a session while it runs (paid ateliers: with a right); a repeat answers it',
    description:
      'Refusals: SESSION_NOT_STARTED (seconds_until_start), SESSION_ENDED (seconds_since_end), SESSION_CANCELLED, ' +
      'PAYMENT_REQUIRED, and CODE_NOT_OPEN for a code while no code attendance is open. ' +
      AREA_RULE,
  })
  @ApiOkResponse({ type: AttendanceRecordDto })
  @ApiBadRequestResponse({ description: 'LOCATION_REQUIRED, CODE_REQUIRED, CODE_INVALID' })
  @ApiForbiddenResponse({ description: `${NO_BADGE}; PAYMENT_REQUIRED` })
  @ApiConflictResponse({
    description: 'SESSION_NOT_STARTED, SESSION_ENDED, SESSION_CANCELLED, CODE_NOT_OPEN, OUT_OF_AREA',
  })
  async attendSession(
    @CurrentEvent() eventId: string,
    @IdParam() sessionId: string,
    @Body() dto: AttendSessionDto,
    @CurrentUser() caller: AuthContext,
  ): Promise<AttendanceRecord> {
    const { attendance } = await this.attendance.markSelf(eventId, caller.userId, { sessionId, ...dto });
    return attendance;
  }

  @Get('events/:id/attendees')
  @EventRoles('organisateur', 'gestionnaire_des_salles')
  @ApiOperation({ summary: 'The attendance ledger of the event, newest first; filters method, session' })
  @ApiPage(AttendeeDto)
  attendees(
    @CurrentEvent() eventId: string,
    @IdParam() id: string,
    @Query() query: AttendeesQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<AttendeeDto>> {
    assertTokenEvent(id, eventId);
    return this.attendance.attendees(eventId, query, request);
  }

  @Post('events/:id/attendees')
  @EventRoles('organisateur', 'gestionnaire_des_salles')
  @ApiOperation({ summary: 'Mark someone present (method manual, marked_by you); already present → 200 that record' })
  @ApiCreatedResponse({ type: AttendeeDto })
  @ApiOkResponse({ type: AttendeeDto, description: 'Already present: the existing record' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: participant_id or session_id not of this event' })
  async markManual(
    @CurrentEvent() eventId: string,
    @IdParam() id: string,
    @Body() dto: ManualAttendanceDto,
    @CurrentUser() caller: AuthContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AttendeeDto> {
    assertTokenEvent(id, eventId);
    const { attendee, created } = await this.attendance.markManual(eventId, dto, caller);
    reply.status(created ? 201 : 200);
    return attendee;
  }

  @Delete('events/:id/attendees/:attendanceId')
  @EventRoles('organisateur')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove an attendance record; the reason and the record go to the audit log' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such record in the event of the token' })
  remove(
    @CurrentEvent() eventId: string,
    @IdParam() id: string,
    @IdParam('attendanceId') attendanceId: string,
    @Body() dto: RemoveAttendanceDto,
    @CurrentUser() caller: AuthContext,
  ): Promise<void> {
    assertTokenEvent(id, eventId);
    return this.attendance.remove(eventId, attendanceId, dto.reason, caller);
  }

  @Get('sessions/:id/attendees')
  @EventRoles('organisateur', 'gestionnaire_des_salles', 'controlleur_des_badges')
  @ApiOperation({ summary: 'The attendance of a session; filter method' })
  @ApiPage(AttendeeDto)
  async sessionAttendees(
    @CurrentEvent() eventId: string,
    @IdParam() sessionId: string,
    @Query() query: AttendeesQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<AttendeeDto>> {
    await this.attendance.assertSession(eventId, sessionId);
    return this.attendance.attendees(eventId, query, request, sessionId);
  }

  @Get('events/:id/attendance.csv')
  @EventRoles('organisateur')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'The attendance ledger as CSV, streamed; filters session and method; bom=true for Excel',
    description:
      'Columns badge_id, full_name, email, session_id, session_title, method, attended_at, marked_by, latitude, ' +
      'longitude, note. Cells a spreadsheet would read as a formula start with a single quote.',
  })
  @ApiProduces('text/csv')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  async csv(
    @CurrentEvent() eventId: string,
    @IdParam() id: string,
    @Query() query: AttendanceCsvQueryDto,
  ): Promise<StreamableFile> {
    assertTokenEvent(id, eventId);
    return new StreamableFile(await this.attendance.exportCsv(eventId, query), {
      type: 'text/csv; charset=utf-8',
      disposition: 'attachment; filename="attendance.csv"',
    });
  }

  @Post('sessions/:id/attendance-code')
  @EventRoles('organisateur', 'gestionnaire_des_salles')
  @ApiOperation({
    summary:
      'Open code attendance for a session: a 6-character code rotating every 30-60 s (the previous one is still accepted)',
    description: 'Opening again starts a new series of codes. Participants then attend with the current code.',
  })
  @ApiCreatedResponse({ type: CurrentCodeDto })
  openCode(
    @CurrentEvent() eventId: string,
    @IdParam() sessionId: string,
    @Body() dto: OpenCodeDto,
    @CurrentUser() caller: AuthContext,
  ): Promise<CurrentCodeDto> {
    return this.attendance.openCode(eventId, sessionId, dto.rotates_every ?? 45, caller);
  }

  @Get('sessions/:id/attendance-code')
  @EventRoles('organisateur', 'gestionnaire_des_salles', 'controlleur_des_badges')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'The code to show now (staff)' })
  @ApiOkResponse({ type: CurrentCodeDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no code attendance open for this session' })
  currentCode(@CurrentEvent() eventId: string, @IdParam() sessionId: string): Promise<CurrentCodeDto> {
    return this.attendance.currentCode(eventId, sessionId);
  }

  @Delete('sessions/:id/attendance-code')
  @EventRoles('organisateur', 'gestionnaire_des_salles')
  @HttpCode(204)
  @ApiOperation({ summary: 'Close code attendance' })
  @ApiNoContentResponse()
  closeCode(@CurrentEvent() eventId: string, @IdParam() sessionId: string): Promise<void> {
    return this.attendance.closeCode(eventId, sessionId);
  }
}
