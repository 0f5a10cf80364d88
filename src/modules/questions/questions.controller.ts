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
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../../common/auth/auth-context';
import { CurrentEvent, CurrentUser, EventRoles } from '../../common/auth/auth.decorators';
import { EVENT_ROLES } from '../../common/auth/event-role';
import { IdParam } from '../../common/http/id-param';
import { ApiPage, type Page } from '../../common/pagination/api-page';
import {
  AnswerQuestionDto,
  AskQuestionDto,
  ModerateQuestionDto,
  QuestionDto,
  QuestionListQueryDto,
} from './dto/question.dto';
import { QuestionErrors } from './questions.errors';
import { QuestionsService } from './questions.service';

const NOT_FOUND = 'NOT_FOUND: no such question (or not one you may see) in the event of the token';
const Moderators = () => EventRoles('organisateur', 'gestionnaire_des_salles');
const Audience = () => EventRoles('participant', 'exposant');

@ApiTags('questions')
@Controller()
export class QuestionsController {
  constructor(private readonly questions: QuestionsService) {}

  @Get('sessions/:id/questions')
  @EventRoles(...EVENT_ROLES)
  @ApiOperation({
    summary: "A session's questions, most upvoted first",
    description: 'Approved and answered ones, and your own pending ones; moderators see all, with every name.',
  })
  @ApiPage(QuestionDto)
  list(
    @CurrentEvent() eventId: string,
    @IdParam() sessionId: string,
    @Query() query: QuestionListQueryDto,
    @CurrentUser() caller: AuthContext,
    @Req() request: FastifyRequest,
  ): Promise<Page<QuestionDto>> {
    return this.questions.list(eventId, sessionId, query, caller, request);
  }

  @Post('sessions/:id/questions')
  @Audience()
  @ApiOperation({
    summary: 'Ask a question (approved at once, or pending when the event has settings.qa_moderation)',
    description: 'Plain text; anonymity hides the name from the audience, not from moderators.',
  })
  @ApiCreatedResponse({ type: QuestionDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: question_text empty or too long' })
  @ApiConflictResponse({ description: `${QuestionErrors.SESSION_CLOSED}: the session is cancelled or completed` })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED: at most 5 questions a minute (Retry-After)' })
  ask(
    @CurrentEvent() eventId: string,
    @IdParam() sessionId: string,
    @Body() dto: AskQuestionDto,
    @CurrentUser() caller: AuthContext,
  ): Promise<QuestionDto> {
    return this.questions.ask(eventId, sessionId, dto, caller);
  }

  @Post('questions/:id/upvote')
  @Audience()
  @HttpCode(200)
  @ApiOperation({ summary: 'Upvote (once per person; repeating it changes nothing)' })
  @ApiOkResponse({ type: QuestionDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  upvote(@CurrentEvent() eventId: string, @IdParam() id: string, @CurrentUser() caller: AuthContext) {
    return this.questions.vote(eventId, id, caller, true);
  }

  @Delete('questions/:id/upvote')
  @Audience()
  @HttpCode(200)
  @ApiOperation({ summary: 'Take back your upvote' })
  @ApiOkResponse({ type: QuestionDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  unvote(@CurrentEvent() eventId: string, @IdParam() id: string, @CurrentUser() caller: AuthContext) {
    return this.questions.vote(eventId, id, caller, false);
  }

  @Patch('questions/:id')
  @Moderators()
  @ApiOperation({ summary: 'Moderate: pending, approved or hidden (hidden ones never reach the audience)' })
  @ApiOkResponse({ type: QuestionDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  moderate(
    @CurrentEvent() eventId: string,
    @IdParam() id: string,
    @Body() dto: ModerateQuestionDto,
    @CurrentUser() caller: AuthContext,
  ): Promise<QuestionDto> {
    return this.questions.moderate(eventId, id, dto.status, caller);
  }

  @Patch('questions/:id/answer')
  @Moderators()
  @ApiOperation({ summary: 'Answer a question (it becomes answered)' })
  @ApiOkResponse({ type: QuestionDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  answer(
    @CurrentEvent() eventId: string,
    @IdParam() id: string,
    @Body() dto: AnswerQuestionDto,
    @CurrentUser() caller: AuthContext,
  ): Promise<QuestionDto> {
    return this.questions.answer(eventId, id, dto, caller);
  }

  @Delete('questions/:id')
  @EventRoles(...EVENT_ROLES)
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a question: its author or a moderator' })
  @ApiNoContentResponse()
  @ApiForbiddenResponse({ description: 'FORBIDDEN: neither the author nor a moderator' })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  remove(@CurrentEvent() eventId: string, @IdParam() id: string, @CurrentUser() caller: AuthContext): Promise<void> {
    return this.questions.remove(eventId, id, caller);
  }
}
