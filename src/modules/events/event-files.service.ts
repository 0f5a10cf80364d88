import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';
import { assertTokenEvent } from '../../common/auth/event-scope';
import { notFound } from '../../common/errors/app.exception';
import { FilesService, type OpenedFile } from '../files/files.service';
import type { EventDto } from './dto/event.dto';
import { Event } from './entities/event.entity';
import { EVENT_FILE_SLOTS, type EventFileKind } from './event-file-kind';
import { EventsService } from './events.service';

/** The programme, guide, logo and banner of an event: uploads replace, downloads stream. */
@Injectable()
export class EventFilesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: EventsService,
    private readonly files: FilesService,
  ) {}

  async upload(id: string, eventId: string, kind: EventFileKind, request: FastifyRequest): Promise<EventDto> {
    assertTokenEvent(id, eventId);
    const slot = EVENT_FILE_SLOTS[kind];
    const stored = await this.files.saveUpload(eventId, kind, slot.category, request);
    await this.files.replaceIn(
      { table: 'events', column: slot.column, where: 'id = $1', params: [eventId], what: 'Event' },
      eventId,
      stored,
    );
    const event = await this.dataSource.getRepository(Event).findOneByOrFail({ id: eventId });
    return this.events.toDto(event);
  }

  async open(id: string, eventId: string, kind: EventFileKind): Promise<OpenedFile> {
    assertTokenEvent(id, eventId);
    const event = await this.dataSource.getRepository(Event).findOneBy({ id: eventId });
    if (!event) throw notFound('Event');
    const file = await this.files.open(eventId, event[EVENT_FILE_SLOTS[kind].property]);
    if (!file) throw notFound('File');
    return file;
  }
}
