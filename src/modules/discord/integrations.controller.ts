import { Body, Controller, Delete, Get, HttpCode, Post, Query, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../../common/auth/auth-context';
import { CurrentEvent, CurrentUser, EventRoles } from '../../common/auth/auth.decorators';
import { IdParam } from '../../common/http/id-param';
import { ApiPage, type Page } from '../../common/pagination/api-page';
import { ListQueryDto } from '../../common/pagination/pagination';
import { BotTokensService } from './bot-tokens.service';
import { BotTokenDto, CreateBotTokenDto, CreatedBotTokenDto } from './dto/bot-token.dto';

/** Organisateurs manage the Discord bot tokens of their event (API.md, "Discord"). */
@ApiTags('discord')
@Controller('integrations/discord')
export class IntegrationsController {
  constructor(private readonly tokens: BotTokensService) {}

  @Post()
  @EventRoles('organisateur')
  @ApiOperation({
    summary: 'Create a bot token for the event of your access token',
    description: 'The token is shown only in this answer and stored hashed: copy it into the bot configuration now.',
  })
  @ApiCreatedResponse({ type: CreatedBotTokenDto })
  create(
    @CurrentEvent() eventId: string,
    @Body() dto: CreateBotTokenDto,
    @CurrentUser() caller: AuthContext,
  ): Promise<CreatedBotTokenDto> {
    return this.tokens.create(eventId, dto, caller);
  }

  @Get()
  @EventRoles('organisateur')
  @ApiOperation({ summary: "The event's bot tokens, newest first (never the tokens themselves)" })
  @ApiPage(BotTokenDto)
  list(
    @CurrentEvent() eventId: string,
    @Query() query: ListQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<BotTokenDto>> {
    return this.tokens.list(eventId, query, request);
  }

  @Delete(':id')
  @EventRoles('organisateur')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a bot token: refused from the next request on' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such token in the event of your access token' })
  revoke(@CurrentEvent() eventId: string, @IdParam() id: string): Promise<void> {
    return this.tokens.revoke(eventId, id);
  }
}
