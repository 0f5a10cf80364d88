import { Param, type PipeTransform } from '@nestjs/common';
import { validationFailed } from '../../common/errors/app.exception';
import type { FileCategory } from '../files/file-types';
import type { Event } from './entities/event.entity';

export const EVENT_FILE_KINDS = ['programme', 'guide', 'logo', 'banner'] as const;
export type EventFileKind = (typeof EVENT_FILE_KINDS)[number];

/** Per kind: the entity column holding the stored name and what content is accepted. */
export const EVENT_FILE_SLOTS: Record<
  EventFileKind,
  { property: 'programmeFile' | 'guideFile' | 'logoFile' | 'bannerFile'; column: string; category: FileCategory }
> = {
  programme: { property: 'programmeFile', column: 'programme_file', category: 'pdf' },
  guide: { property: 'guideFile', column: 'guide_file', category: 'pdf' },
  logo: { property: 'logoFile', column: 'logo_file', category: 'image' },
  banner: { property: 'bannerFile', column: 'banner_file', category: 'image' },
};

/** The download route of an event file: what the event object shows instead of a disk name. */
export function eventFileUrl(event: Pick<Event, 'id'>, kind: EventFileKind, stored: string | null): string | null {
  return stored ? `/api/events/${event.id}/files/${kind}/` : null;
}

const kindPipe: PipeTransform<string, EventFileKind> = {
  transform(value: string): EventFileKind {
    if (!(EVENT_FILE_KINDS as readonly string[]).includes(value)) {
      throw validationFailed({ kind: [`Must be one of ${EVENT_FILE_KINDS.join(', ')}`] }, 'Unknown file kind');
    }
    return value as EventFileKind;
  },
};

/** The `{kind}` path parameter; anything else is a 400 VALIDATION_FAILED naming it. */
export const KindParam = () => Param('kind', kindPipe);
