import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../../common/auth/auth-context';
import { CurrentEvent, CurrentUser, EventRoles } from '../../common/auth/auth.decorators';
import { EVENT_ROLES } from '../../common/auth/event-role';
import { IdParam } from '../../common/http/id-param';
import { ApiPage, type Page } from '../../common/pagination/api-page';
import { AnnonceErrors } from './annonces.errors';
import { AnnoncesService } from './annonces.service';
import { AnnonceDto, AnnonceListQueryDto, CreateAnnonceDto, UpdateAnnonceDto } from './dto/annonce.dto';

const NOT_FOUND = 'NOT_FOUND: no such annonce for you in the event of the token';
const Writers = () => EventRoles('organisateur', 'gestionnaire_des_salles');
const Members = () => EventRoles(...EVENT_ROLES);

@ApiTags('annonces')
@Controller('annonces')
export class AnnoncesController {
  constructor(private readonly annonces: AnnoncesService) {}

  @Get()
  @Members()
  @ApiOperation({
    summary: 'The annonces that target the caller, published, newest first',
    description: 'Organisateurs and gestionnaires, who write them, see every annonce of the event, scheduled ones too.',
  })
  @ApiPage(AnnonceDto)
  list(
    @CurrentEvent() eventId: string,
    @Query() query: AnnonceListQueryDto,
    @CurrentUser() caller: AuthContext,
    @Req() request: FastifyRequest,
  ): Promise<Page<AnnonceDto>> {
    return this.annonces.list(eventId, query, caller, request);
  }

  @Get(':id')
  @Members()
  @ApiOkResponse({ type: AnnonceDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  get(@CurrentEvent() eventId: string, @IdParam() id: string, @CurrentUser() caller: AuthContext) {
    return this.annonces.get(eventId, id, caller);
  }

  @Post()
  @Writers()
  @ApiOperation({
    summary: 'Write an annonce; published now, or at publish_at (once, pushed as `annonce` to the targeted sockets)',
    description:
      'target: a role or all; target_rooms / target_sessions narrow it to the people inside those rooms or with ' +
      'access to those sessions when it is published. Plain text.',
  })
  @ApiCreatedResponse({ type: AnnonceDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: lengths, target, rooms or sessions not of this event' })
  create(@CurrentEvent() eventId: string, @Body() dto: CreateAnnonceDto, @CurrentUser() caller: AuthContext) {
    return this.annonces.create(eventId, dto, caller);
  }

  @Patch(':id')
  @Writers()
  @ApiOperation({ summary: 'Change an annonce (gestionnaires: their own); the audience only before publication' })
  @ApiOkResponse({ type: AnnonceDto })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: a gestionnaire and an annonce of someone else' })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiConflictResponse({ description: `${AnnonceErrors.ALREADY_PUBLISHED}: target or publish_at after publication` })
  update(
    @CurrentEvent() eventId: string,
    @IdParam() id: string,
    @Body() dto: UpdateAnnonceDto,
    @CurrentUser() caller: AuthContext,
  ): Promise<AnnonceDto> {
    return this.annonces.update(eventId, id, dto, caller);
  }

  @Delete(':id')
  @Writers()
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an annonce (gestionnaires: their own)' })
  @ApiNoContentResponse()
  @ApiForbiddenResponse({ description: 'FORBIDDEN: a gestionnaire and an annonce of someone else' })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  remove(@CurrentEvent() eventId: string, @IdParam() id: string, @CurrentUser() caller: AuthContext): Promise<void> {
    return this.annonces.remove(eventId, id, caller);
  }

  @Post(':id/read')
  @Members()
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark a published annonce read (a read receipt; repeating it changes nothing)' })
  @ApiOkResponse({ type: AnnonceDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  markRead(@CurrentEvent() eventId: string, @IdParam() id: string, @CurrentUser() caller: AuthContext) {
    return this.annonces.markRead(eventId, id, caller);
  }
}
