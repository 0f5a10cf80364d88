import type { MultipartFile } from '@fastify/multipart';
import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';
import { AppException, ErrorCode, notFound, validationFailed } from '../../common/errors/app.exception';
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
    if (id.toLowerCase() !== eventId.toLowerCase()) throw notFound('Event');
    if (!request.isMultipart()) {
      throw new AppException(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        'Send the file as multipart/form-data',
      );
    }
    const part = await request.file();
    if (!part || part.fieldname !== 'file') {
      if (part) await discard(part);
      throw validationFailed({ file: ['Required: one file in the multipart field "file"'] });
    }
    const slot = EVENT_FILE_SLOTS[kind];
    const stored = await this.files.save(eventId, kind, slot.category, part.file, () => part.file.truncated);
    let previous: string | null;
    try {
      previous = await this.swap(eventId, slot.column, stored.name);
    } catch (error) {
      await this.files.remove(eventId, stored.name);
      throw error;
    }
    // The old file goes only once the new one is saved and recorded.
    if (previous !== stored.name) await this.files.remove(eventId, previous);
    const event = await this.dataSource.getRepository(Event).findOneByOrFail({ id: eventId });
    return this.events.toDto(event);
  }

  async open(id: string, eventId: string, kind: EventFileKind): Promise<OpenedFile> {
    if (id.toLowerCase() !== eventId.toLowerCase()) throw notFound('Event');
    const event = await this.dataSource.getRepository(Event).findOneBy({ id: eventId });
    if (!event) throw notFound('Event');
    const file = await this.files.open(eventId, event[EVENT_FILE_SLOTS[kind].property]);
    if (!file) throw notFound('File');
    return file;
  }

  /**
   * Records the new name and returns the one it replaced, in one statement: two concurrent uploads each get the
   * name they actually replaced, so no file is orphaned or deleted while still referenced.
   */
  private async swap(eventId: string, column: string, name: string): Promise<string | null> {
    const rows: { previous: string | null }[] = await this.dataSource.query(
      // A SELECT around the UPDATE so the driver returns plain rows.
      `WITH old AS (SELECT id, ${column} AS previous FROM events WHERE id = $1 FOR UPDATE),
            changed AS (UPDATE events e SET ${column} = $2, updated_at = now() FROM old WHERE e.id = old.id
                        RETURNING old.previous)
       SELECT previous FROM changed`,
      [eventId, name],
    );
    if (rows.length === 0) throw notFound('Event');
    return rows[0]?.previous ?? null;
  }
}

/** A part that is not accepted is still read to its end, so the request completes normally. */
async function discard(part: MultipartFile): Promise<void> {
  part.file.resume();
  await new Promise<void>((resolve) => {
    part.file.once('end', resolve).once('error', () => resolve());
  });
}
