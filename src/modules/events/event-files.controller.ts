import { Controller, Get, Put, Req, StreamableFile } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import {
  ApiBody,
  ApiConsumes,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentEvent, EventMember, EventRoles } from '../../common/auth/auth.decorators';
import { IdParam } from '../../common/http/id-param';
import { MULTIPART_ROUTE } from '../files/multipart';
import { EventDto } from './dto/event.dto';
import { EVENT_FILE_KINDS, KindParam, type EventFileKind } from './event-file-kind';
import { EventFilesService } from './event-files.service';

@ApiTags('events')
@ApiParam({ name: 'kind', enum: EVENT_FILE_KINDS })
@Controller('events/:id/files/:kind')
export class EventFilesController {
  constructor(private readonly eventFiles: EventFilesService) {}

  @Put()
  @EventRoles('organisateur')
  @RouteConfig(MULTIPART_ROUTE)
  @ApiOperation({
    summary: "Upload or replace a file of the token's event",
    description:
      'programme and guide take a PDF, logo and banner a PNG, JPEG or WebP image (checked by content, not by name or ' +
      'declared type; SVG is refused). Larger than MAX_UPLOAD_MB → 413. The previous file is deleted.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } },
  })
  @ApiOkResponse({ type: EventDto })
  @ApiPayloadTooLargeResponse({ description: 'PAYLOAD_TOO_LARGE' })
  upload(
    @IdParam() id: string,
    @KindParam() kind: EventFileKind,
    @CurrentEvent() eventId: string,
    @Req() request: FastifyRequest,
  ): Promise<EventDto> {
    return this.eventFiles.upload(id, eventId, kind, request);
  }

  @Get()
  @EventMember()
  @ApiOperation({ summary: "Download a file of the token's event (as an attachment)" })
  @ApiProduces('application/pdf', 'image/png', 'image/jpeg', 'image/webp')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such file' })
  async download(
    @IdParam() id: string,
    @KindParam() kind: EventFileKind,
    @CurrentEvent() eventId: string,
  ): Promise<StreamableFile> {
    const file = await this.eventFiles.open(id, eventId, kind);
    return new StreamableFile(file.stream, {
      type: file.type.mime,
      length: file.size,
      disposition: `attachment; filename="${kind}.${file.type.ext}"`,
    });
  }
}
