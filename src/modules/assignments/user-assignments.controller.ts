import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { IdParam } from '../../common/http/id-param';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../../common/auth/auth-context';
import { CurrentEvent, CurrentUser, EventRoles } from '../../common/auth/auth.decorators';
import { ApiPage, type Page } from '../../common/pagination/api-page';
import { AssignmentsService } from './assignments.service';
import {
  AssignmentDto,
  AssignmentListQueryDto,
  CreateAssignmentDto,
  ReplaceAssignmentDto,
  UpdateAssignmentDto,
} from './dto/assignment.dto';

@ApiTags('staff')
@Controller('user-assignments')
@EventRoles('organisateur')
export class UserAssignmentsController {
  constructor(private readonly assignments: AssignmentsService) {}

  @Get()
  @ApiOperation({ summary: "List the roles of the token's event" })
  @ApiPage(AssignmentDto)
  list(
    @CurrentEvent() eventId: string,
    @Query() query: AssignmentListQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<Page<AssignmentDto>> {
    return this.assignments.list(eventId, query, request);
  }

  @Get(':id')
  @ApiOkResponse({ type: AssignmentDto })
  get(@CurrentEvent() eventId: string, @IdParam() id: string): Promise<AssignmentDto> {
    return this.assignments.get(eventId, id);
  }

  @Post()
  @ApiOperation({ summary: 'Give a user a role; by email, a password-less account is created when the email is new' })
  @ApiCreatedResponse({ type: AssignmentDto })
  @ApiConflictResponse({ description: 'ASSIGNMENT_EXISTS' })
  create(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @Body() dto: CreateAssignmentDto,
  ): Promise<AssignmentDto> {
    return this.assignments.create(eventId, dto, caller);
  }

  @Patch(':id')
  @ApiOkResponse({ type: AssignmentDto })
  @ApiConflictResponse({ description: 'LAST_ORGANIZER' })
  update(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @IdParam() id: string,
    @Body() dto: UpdateAssignmentDto,
  ): Promise<AssignmentDto> {
    return this.assignments.update(eventId, id, dto, caller);
  }

  @Put(':id')
  @ApiOkResponse({ type: AssignmentDto })
  @ApiConflictResponse({ description: 'LAST_ORGANIZER' })
  replace(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @IdParam() id: string,
    @Body() dto: ReplaceAssignmentDto,
  ): Promise<AssignmentDto> {
    return this.assignments.update(eventId, id, dto, caller);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiConflictResponse({ description: 'LAST_ORGANIZER' })
  async remove(
    @CurrentEvent() eventId: string,
    @CurrentUser() caller: AuthContext,
    @IdParam() id: string,
  ): Promise<void> {
    await this.assignments.remove(eventId, id, caller);
  }
}
