import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import { DataSource, In, type Repository, type SelectQueryBuilder } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { AuthContext } from '../../common/auth/auth-context';
import { assertTokenEvent } from '../../common/auth/event-scope';
import type { EventRole } from '../../common/auth/event-role';
import { conflict, notFound, validationFailed } from '../../common/errors/app.exception';
import { constraintViolation } from '../../common/errors/database-errors';
import { DomainEvents } from '../../common/events/domain-events';
import { escapeLike, orderingOf, type Page, pageOf } from '../../common/pagination/pagination';
import { AssignmentsService } from '../assignments/assignments.service';
import { FilesService } from '../files/files.service';
import { RegistrationsService } from '../registrations/registrations.service';
import { RoomsService } from '../rooms/rooms.service';
import { UserEventAssignment } from '../assignments/entities/user-event-assignment.entity';
import type {
  CreateEventDto,
  EventDto,
  EventListQueryDto,
  EventStatusDto,
  EventWithRoleDto,
  UpdateEventDto,
} from './dto/event.dto';
import { Event, eventStatus, type EventStatus } from './entities/event.entity';
import { eventFileUrl } from './event-file-kind';
import { EventErrors } from './events.errors';

const ORDER_COLUMNS = { start_date: 'e.startDate', end_date: 'e.endDate', name: 'e.name', created_at: 'e.createdAt' };

const STATUS_SQL: Record<EventStatus, string> = {
  cancelled: 'e.is_cancelled',
  upcoming: 'NOT e.is_cancelled AND e.start_date > now()',
  active: 'NOT e.is_cancelled AND e.start_date <= now() AND e.end_date >= now()',
  completed: 'NOT e.is_cancelled AND e.end_date < now()',
};

@Injectable()
export class EventsService {
  constructor(
    @InjectRepository(Event) private readonly events: Repository<Event>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly assignments: AssignmentsService,
    private readonly rooms: RoomsService,
    private readonly files: FilesService,
    private readonly registrations: RegistrationsService,
    private readonly domainEvents: DomainEvents,
  ) {}

  /** Events the caller belongs to (staff: every event), paginated. */
  async list(
    auth: AuthContext,
    query: EventListQueryDto,
    request: FastifyRequest,
    only?: EventStatus,
  ): Promise<Page<EventDto>> {
    const qb = this.visibleTo(auth);
    const status = only ?? query.status;
    if (status) qb.andWhere(STATUS_SQL[status]);
    this.searched(qb, query);
    return pageOf(qb, orderingOf(query.ordering, ORDER_COLUMNS, ['e.startDate', 'ASC']), query, request, (rows) =>
      this.toDtos(rows),
    );
  }

  /**
   * `GET /api/events/open/`: the catalogue of events the caller may join by registering: open to registration, not
   * cancelled, not over, and the caller holds no role in them yet (any event, not only the token's).
   */
  async open(auth: AuthContext, query: EventListQueryDto, request: FastifyRequest): Promise<Page<EventDto>> {
    const qb = this.events
      .createQueryBuilder('e')
      .where('e.registration_open AND NOT e.is_cancelled AND e.end_date > now()')
      .andWhere('NOT EXISTS (SELECT 1 FROM user_event_assignments m WHERE m.event_id = e.id AND m.user_id = :userId)', {
        userId: auth.userId,
      });
    if (query.status) qb.andWhere(STATUS_SQL[query.status]);
    this.searched(qb, query);
    return pageOf(qb, orderingOf(query.ordering, ORDER_COLUMNS, ['e.startDate', 'ASC']), query, request, (rows) =>
      this.toDtos(rows),
    );
  }

  /** The events a user holds an active role in, with that role: the login choice and `my-events/`. */
  async withRoles(userId: string): Promise<EventWithRoleDto[]> {
    const memberships = await this.assignments.activeMemberships(userId);
    if (memberships.length === 0) return [];
    const events = await this.events.find({
      where: { id: In(memberships.map((m) => m.eventId)) },
      order: { startDate: 'ASC' },
    });
    const roles = new Map(memberships.map((m) => [m.eventId, m.role]));
    const dtos = await this.toDtos(events);
    return dtos.map((dto) => ({ ...dto, role: roles.get(dto.id) as EventRole }));
  }

  async create(auth: AuthContext, dto: CreateEventDto): Promise<EventDto> {
    // Who may create is the route's policy (@EventCreator), checked by the guard before validation.
    assertDates(dto.start_date, dto.end_date);
    assertArea(dto);
    const event = await this.dataSource.transaction(async (manager) => {
      const created = await manager.getRepository(Event).save(
        manager.getRepository(Event).create({
          name: dto.name.trim(),
          description: dto.description ?? '',
          startDate: dto.start_date,
          endDate: dto.end_date,
          location: dto.location ?? '',
          locationDetails: dto.location_details ?? '',
          latitude: dto.latitude?.toString() ?? null,
          longitude: dto.longitude?.toString() ?? null,
          attendanceRadius: dto.attendance_radius ?? null,
          organizerContact: dto.organizer_contact ?? '',
          capacity: dto.capacity ?? null,
          registrationOpen: dto.registration_open ?? false,
          currency: dto.currency ?? 'DZD',
          settings: dto.settings ?? {},
          themes: dto.themes ?? [],
          metadata: dto.metadata ?? {},
          createdById: auth.userId,
        }),
      );
      await this.assignments.assign(created.id, auth.userId, 'organisateur', auth.userId, manager);
      return created;
    });
    return this.toDto(event);
  }

  /** One event for a member of it (staff: any). Others get 404: for them it does not exist. */
  async getVisible(id: string, auth: AuthContext): Promise<EventDto> {
    const event = await this.visibleTo(auth).andWhere('e.id = :id', { id }).getOne();
    if (!event) throw notFound('Event');
    return this.toDto(event);
  }

  async status(id: string, auth: AuthContext, now = new Date()): Promise<EventStatusDto> {
    const event = await this.visibleTo(auth).andWhere('e.id = :id', { id }).getOne();
    if (!event) throw notFound('Event');
    return statusOf(event, now);
  }

  /** The status of an event the caller is already scoped to (a bot token's event). */
  async statusOfEvent(eventId: string, now = new Date()): Promise<EventStatusDto> {
    return statusOf(await this.scoped(eventId), now);
  }

  /** One event, for a caller already scoped to it (a bot token's event). */
  async getScoped(eventId: string): Promise<EventDto> {
    return this.toDto(await this.scoped(eventId));
  }

  private async scoped(eventId: string): Promise<Event> {
    const event = await this.events.findOneBy({ id: eventId });
    if (!event) throw notFound('Event');
    return event;
  }

  /** Changes to the event of the token only: any other id is 404. */
  async update(id: string, eventId: string, dto: UpdateEventDto): Promise<EventDto> {
    assertTokenEvent(id, eventId);
    if (!(await this.events.existsBy({ id: eventId }))) throw notFound('Event');
    if (
      dto.president !== undefined &&
      dto.president !== null &&
      !(await this.assignments.isMember(eventId, dto.president))
    ) {
      throw validationFailed({ president: ['Must be a user of this event'] });
    }
    const patch: Partial<Event> = {
      name: dto.name?.trim(),
      description: dto.description,
      startDate: dto.start_date,
      endDate: dto.end_date,
      location: dto.location,
      locationDetails: dto.location_details,
      latitude: dto.latitude === undefined ? undefined : (dto.latitude?.toString() ?? null),
      longitude: dto.longitude === undefined ? undefined : (dto.longitude?.toString() ?? null),
      attendanceRadius: dto.attendance_radius,
      organizerContact: dto.organizer_contact,
      capacity: dto.capacity,
      registrationOpen: dto.registration_open,
      currency: dto.currency,
      settings: dto.settings,
      themes: dto.themes,
      metadata: dto.metadata,
      presidentId: dto.president,
      isCancelled: dto.is_cancelled,
    };
    const changes = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<Event>;
    try {
      const saved = await this.dataSource.transaction(async (manager) => {
        // Locked, then only the fields sent are written: two PATCHes of different fields each see the other's
        // result in the rules, and neither writes back the other's old values (save() of a copy read before did).
        const event = await manager.findOne(Event, { where: { id: eventId }, lock: { mode: 'pessimistic_write' } });
        if (!event) throw notFound('Event');
        assertDates(changes.startDate ?? event.startDate, changes.endDate ?? event.endDate);
        assertArea({
          latitude: 'latitude' in changes ? changes.latitude : event.latitude,
          longitude: 'longitude' in changes ? changes.longitude : event.longitude,
          attendance_radius: 'attendanceRadius' in changes ? changes.attendanceRadius : event.attendanceRadius,
        });
        if (Object.keys(changes).length > 0) {
          await manager.update(Event, { id: eventId }, changes as QueryDeepPartialEntity<Event>);
        }
        // More seats (or no limit any more): the waiting list moves up in the same transaction.
        if (changes.capacity !== undefined) await this.registrations.fillFreeSeats(manager, eventId);
        return manager.findOneByOrFail(Event, { id: eventId });
      });
      return this.toDto(saved);
    } catch (error) {
      const violation = constraintViolation(error);
      if (violation?.kind === 'check' && violation.constraint === 'chk_events_registered_count') {
        throw conflict(
          EventErrors.CAPACITY_BELOW_REGISTRATIONS,
          'The capacity cannot be lower than the confirmed registrations',
        );
      }
      throw error;
    }
  }

  async remove(id: string, eventId: string): Promise<void> {
    assertTokenEvent(id, eventId);
    const result = await this.events.delete({ id: eventId });
    if (!result.affected) throw notFound('Event');
    await this.domainEvents.publish('event.deleted', { eventId });
    await this.files.removeEvent(eventId);
  }

  async toDto(event: Event): Promise<EventDto> {
    return (await this.toDtos([event]))[0] as EventDto;
  }

  async toDtos(events: Event[]): Promise<EventDto[]> {
    const ids = events.map((e) => e.id);
    const [counts, rooms] = await Promise.all([this.assignments.countsByEvent(ids), this.rooms.countByEvent(ids)]);
    return events.map((e) => {
      const c = counts.get(e.id) ?? { participants: 0, exhibitors: 0 };
      return {
        id: e.id,
        name: e.name,
        description: e.description,
        start_date: e.startDate,
        end_date: e.endDate,
        location: e.location,
        location_details: e.locationDetails,
        latitude: e.latitude === null ? null : Number(e.latitude),
        longitude: e.longitude === null ? null : Number(e.longitude),
        attendance_radius: e.attendanceRadius,
        logo_url: eventFileUrl(e, 'logo', e.logoFile),
        banner_url: eventFileUrl(e, 'banner', e.bannerFile),
        programme_file: eventFileUrl(e, 'programme', e.programmeFile),
        guide_file: eventFileUrl(e, 'guide', e.guideFile),
        president: e.presidentId,
        status: eventStatus(e),
        settings: e.settings,
        themes: e.themes,
        capacity: e.capacity,
        registration_open: e.registrationOpen,
        currency: e.currency,
        total_participants: c.participants,
        total_exhibitors: c.exhibitors,
        total_rooms: rooms.get(e.id) ?? 0,
        organizer_contact: e.organizerContact,
        metadata: e.metadata,
        created_by: e.createdById,
        created_at: e.createdAt,
        updated_at: e.updatedAt,
      };
    });
  }

  private searched(qb: SelectQueryBuilder<Event>, query: EventListQueryDto): void {
    if (!query.search) return;
    qb.andWhere('(e.name ILIKE :s OR e.location ILIKE :s OR e.description ILIKE :s)', {
      s: `%${escapeLike(query.search)}%`,
    });
  }

  private visibleTo(auth: AuthContext): SelectQueryBuilder<Event> {
    const qb = this.events.createQueryBuilder('e');
    if (!auth.isStaff) {
      qb.innerJoin(UserEventAssignment, 'm', 'm.event_id = e.id AND m.user_id = :userId AND m.is_active', {
        userId: auth.userId,
      });
    }
    return qb;
  }
}

/** Coordinates come in pairs, and a radius needs them (the CHECKs of the table, answered as a 400 first). */
function assertArea(area: {
  latitude?: number | string | null;
  longitude?: number | string | null;
  attendance_radius?: number | null;
}): void {
  const hasLat = area.latitude !== undefined && area.latitude !== null;
  const hasLon = area.longitude !== undefined && area.longitude !== null;
  if (hasLat !== hasLon)
    throw validationFailed({ [hasLat ? 'longitude' : 'latitude']: ['latitude and longitude go together'] });
  if (area.attendance_radius != null && !hasLat) {
    throw validationFailed({ attendance_radius: ['Needs the latitude and longitude of the event'] });
  }
}

function statusOf(event: Event, now: Date): EventStatusDto {
  const s = eventStatus(event, now);
  const seconds = (d: Date) => Math.max(0, Math.ceil((d.getTime() - now.getTime()) / 1000));
  return {
    id: event.id,
    name: event.name,
    status: s === 'completed' ? 'ended' : s,
    start_date: event.startDate,
    end_date: event.endDate,
    can_attend: s === 'active',
    time_until_start: s === 'upcoming' ? seconds(event.startDate) : null,
    time_until_end: s === 'upcoming' || s === 'active' ? seconds(event.endDate) : null,
  };
}

function assertDates(start: Date, end: Date): void {
  if (end.getTime() <= start.getTime()) throw validationFailed({ end_date: ['Must be after start_date'] });
}
