import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Patch,
  Post,
  Put,
  Query,
  Req,
  StreamableFile,
} from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import {
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../../common/auth/auth-context';
import { CurrentEvent, CurrentUser, EventMember, EventRoles } from '../../common/auth/auth.decorators';
import { IdParam } from '../../common/http/id-param';
import { ApiPage, type Page } from '../../common/pagination/api-page';
import { MULTIPART_ROUTE } from '../files/multipart';
import {
  CreateParticipantDto,
  ImportResultDto,
  ParticipantDto,
  ParticipantListQueryDto,
  UpdateOwnBadgeDto,
  UpdateParticipantDto,
} from './dto/participant.dto';
import { MAX_IMPORT_LINES, ParticipantsImportService } from './participants-import.service';
import { ParticipantErrors } from './participants.errors';
import { ParticipantsService, type BadgeFormat } from './participants.service';

const NOT_FOUND = 'NOT_FOUND: no such badge in the event of the token';
/** Responses that carry a QR text must not be kept by any cache. */
const NO_STORE = () => Header('Cache-Control', 'no-store');
const UPLOAD_BODY = {
  schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } },
};

@ApiTags('participants')
@Controller('participants')
export class ParticipantsController {
  constructor(
    private readonly participants: ParticipantsService,
    private readonly importer: ParticipantsImportService,
  ) {}

  @Get()
  @EventRoles('organisateur', 'gestionnaire_des_salles')
  @ApiOperation({
    summary: "Badges of the token's event; filters is_checked_in, role, search (name, email, badge_id)",
    description: 'Lists never include qr_code_data.',
  })
  @ApiPage(ParticipantDto)
  list(
    @CurrentEvent() eventId: string,
    @Query() query: ParticipantListQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<ParticipantDto>> {
    return this.participants.list(eventId, query, request);
  }

  @Get('me')
  @EventRoles('participant', 'exposant')
  @NO_STORE()
  @ApiOperation({ summary: "The caller's own badge, with qr_code_data" })
  @ApiOkResponse({ type: ParticipantDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: the caller has no badge in this event' })
  mine(@CurrentEvent() eventId: string, @CurrentUser() caller: AuthContext): Promise<ParticipantDto> {
    return this.participants.mine(eventId, caller.userId);
  }

  @Patch('me')
  @EventRoles('participant', 'exposant')
  @NO_STORE()
  @ApiOperation({
    summary: "The caller's own settings on their badge: share_contact_with_exhibitors",
    description: 'Only the holder decides whether exhibitors who scan the badge see their email.',
  })
  @ApiOkResponse({ type: ParticipantDto })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: the caller has no badge in this event' })
  updateMine(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @Body() dto: UpdateOwnBadgeDto,
  ): Promise<ParticipantDto> {
    return this.participants.updateMine(eventId, caller.userId, dto);
  }

  @Post()
  @EventRoles('organisateur')
  @NO_STORE()
  @ApiOperation({
    summary: 'Give a user a badge (user_id, or email to find or create a password-less account)',
    description:
      'A user without a role in the event is added with `role` (default participant). Returns the badge with its qr_code_data.',
  })
  @ApiCreatedResponse({ type: ParticipantDto })
  @ApiConflictResponse({
    description: `${ParticipantErrors.PARTICIPANT_EXISTS} (already has a badge), ${ParticipantErrors.ROLE_MISMATCH} (already has another role)`,
  })
  create(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @Body() dto: CreateParticipantDto,
  ): Promise<ParticipantDto> {
    return this.participants.create(eventId, dto, caller);
  }

  @Post('import')
  @EventRoles('organisateur')
  @RouteConfig(MULTIPART_ROUTE)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Import people from a CSV (header email,first_name,last_name,role; role optional)',
    description:
      `At most ${MAX_IMPORT_LINES} lines. Bad lines are reported (line 1 is the header) and good lines kept; ` +
      'importing the same file again creates nothing. Existing organisateurs and your own role are not changed.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody(UPLOAD_BODY)
  @ApiOkResponse({ type: ImportResultDto })
  @ApiPayloadTooLargeResponse({ description: 'PAYLOAD_TOO_LARGE: larger than MAX_UPLOAD_MB' })
  import(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @Req() request: FastifyRequest,
  ): Promise<ImportResultDto> {
    return this.importer.import(eventId, request, caller);
  }

  @Get(':id')
  @EventRoles('organisateur', 'gestionnaire_des_salles')
  @NO_STORE()
  @ApiOperation({ summary: 'One badge (qr_code_data for organisateurs only)' })
  @ApiOkResponse({ type: ParticipantDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  get(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @IdParam() id: string,
  ): Promise<ParticipantDto> {
    return this.participants.get(eventId, id, caller);
  }

  @Patch(':id')
  @EventRoles('organisateur')
  @NO_STORE()
  @ApiOperation({ summary: "Change allowed_rooms or the holder's role (never is_checked_in)" })
  @ApiOkResponse({ type: ParticipantDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  update(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @IdParam() id: string,
    @Body() dto: UpdateParticipantDto,
  ): Promise<ParticipantDto> {
    return this.participants.update(eventId, id, dto, caller);
  }

  @Put(':id')
  @EventRoles('organisateur')
  @NO_STORE()
  @ApiOperation({ summary: 'Same as PATCH (the writable fields are all optional)' })
  @ApiOkResponse({ type: ParticipantDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  replace(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @IdParam() id: string,
    @Body() dto: UpdateParticipantDto,
  ): Promise<ParticipantDto> {
    return this.participants.update(eventId, id, dto, caller);
  }

  @Delete(':id')
  @EventRoles('organisateur')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Remove a badge',
    description: 'A participant or exposant leaves the event with it; a staff member keeps their role.',
  })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: NOT_FOUND })
  async remove(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @IdParam() id: string,
  ): Promise<void> {
    await this.participants.remove(eventId, id, caller);
  }

  @Post(':id/rotate-qr')
  @EventRoles('organisateur')
  @HttpCode(200)
  @NO_STORE()
  @ApiOperation({ summary: 'Revoke the QR of a badge and issue a new one (doors answer BADGE_REVOKED for the old)' })
  @ApiOkResponse({ type: ParticipantDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  rotate(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @IdParam() id: string,
  ): Promise<ParticipantDto> {
    return this.participants.rotate(eventId, id, caller);
  }

  @Get(':id/badge.png')
  @EventMember()
  @NO_STORE()
  @ApiOperation({ summary: 'QR image of a badge (PNG), for its owner and organisateurs' })
  @ApiProduces('image/png')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  png(@CurrentEvent() eventId: string, @CurrentUser() caller: AuthContext, @IdParam() id: string) {
    return this.image(eventId, caller, id, 'png');
  }

  @Get(':id/badge.svg')
  @EventMember()
  @NO_STORE()
  @ApiOperation({ summary: 'QR image of a badge (SVG), for its owner and organisateurs' })
  @ApiProduces('image/svg+xml')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  svg(@CurrentEvent() eventId: string, @CurrentUser() caller: AuthContext, @IdParam() id: string) {
    return this.image(eventId, caller, id, 'svg');
  }

  @Put(':id/plan')
  @EventRoles('organisateur')
  @RouteConfig(MULTIPART_ROUTE)
  @ApiOperation({ summary: 'Upload or replace the exhibitor plan of a badge (PDF, checked by content)' })
  @ApiConsumes('multipart/form-data')
  @ApiBody(UPLOAD_BODY)
  @ApiOkResponse({ type: ParticipantDto })
  @ApiPayloadTooLargeResponse({ description: 'PAYLOAD_TOO_LARGE: larger than MAX_UPLOAD_MB' })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  uploadPlan(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @IdParam() id: string,
    @Req() request: FastifyRequest,
  ): Promise<ParticipantDto> {
    return this.participants.uploadPlan(eventId, id, request, caller);
  }

  @Get(':id/plan')
  @EventMember()
  @ApiOperation({ summary: 'Download the exhibitor plan: its owner, organisateurs and room managers' })
  @ApiProduces('application/pdf')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such badge or no plan' })
  async downloadPlan(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @IdParam() id: string,
  ): Promise<StreamableFile> {
    const file = await this.participants.openPlan(eventId, id, caller);
    return new StreamableFile(file.stream, {
      type: file.type.mime,
      length: file.size,
      disposition: 'attachment; filename="plan.pdf"',
    });
  }

  private async image(eventId: string, caller: AuthContext, id: string, format: BadgeFormat): Promise<StreamableFile> {
    const image = await this.participants.badgeImage(eventId, id, caller, format);
    const body = typeof image === 'string' ? Buffer.from(image, 'utf8') : image;
    return new StreamableFile(body, {
      type: format === 'png' ? 'image/png' : 'image/svg+xml',
      length: body.length,
      disposition: `inline; filename="badge.${format}"`,
    });
  }
}
