import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import { In, type Repository } from 'typeorm';
import { idsNotInEvent } from '../../database/event-scoped';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { assertEventFilter } from '../../common/auth/event-scope';
import { conflict, notFound } from '../../common/errors/app.exception';
import { constraintViolation } from '../../common/errors/database-errors';
import { escapeLike, orderingOf, type Page, pageOf } from '../../common/pagination/pagination';
import { RoomDto, type CreateRoomDto, type RoomListQueryDto, type UpdateRoomDto } from './dto/room.dto';
import { Room } from './entities/room.entity';
import { RoomErrors } from './rooms.errors';

const ORDER_COLUMNS = {
  name: 'r.name',
  capacity: 'r.capacity',
  created_at: 'r.createdAt',
};

@Injectable()
export class RoomsService {
  constructor(@InjectRepository(Room) private readonly rooms: Repository<Room>) {}

  /** A room of this event, or 404: rooms of other events do not exist for the caller. */
  async getInEvent(eventId: string, id: string): Promise<Room> {
    const room = await this.rooms.findOneBy({ id, eventId });
    if (!room) throw notFound('Room');
    return room;
  }

  /** Which of these ids are not rooms of the event (body fields naming rooms are checked with it). */
  notInEvent(eventId: string, ids: string[]): Promise<string[]> {
    return idsNotInEvent(this.rooms, eventId, ids);
  }

  /** Number of rooms per event, for the event objects' `total_rooms`. */
  async countByEvent(eventIds: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>(eventIds.map((id) => [id, 0]));
    if (eventIds.length === 0) return counts;
    const rows: { event_id: string; n: string }[] = await this.rooms
      .createQueryBuilder('r')
      .select('r.event_id', 'event_id')
      .addSelect('count(*)', 'n')
      .where({ eventId: In(eventIds) })
      .groupBy('r.event_id')
      .getRawMany();
    for (const row of rows) counts.set(row.event_id, Number(row.n));
    return counts;
  }

  // ---- /api/rooms/ ------------------------------------------------------------------------------------------------

  async list(eventId: string, query: RoomListQueryDto, request: FastifyRequest): Promise<Page<RoomDto>> {
    assertEventFilter(query.event, eventId);
    const qb = this.rooms.createQueryBuilder('r').where('r.event_id = :eventId', { eventId });
    if (query.is_active !== undefined) qb.andWhere('r.is_active = :active', { active: query.is_active });
    if (query.search) {
      qb.andWhere('(r.name ILIKE :s OR r.location ILIKE :s OR r.description ILIKE :s)', {
        s: `%${escapeLike(query.search)}%`,
      });
    }
    return pageOf(qb, orderingOf(query.ordering, ORDER_COLUMNS, ['r.name', 'ASC']), query, request, (rows) =>
      rows.map(RoomDto.from),
    );
  }

  async get(eventId: string, id: string): Promise<RoomDto> {
    return RoomDto.from(await this.getInEvent(eventId, id));
  }

  async create(eventId: string, dto: CreateRoomDto): Promise<RoomDto> {
    const result = await this.withNameCheck(() =>
      this.rooms.insert({
        eventId,
        name: dto.name,
        description: dto.description,
        capacity: dto.capacity,
        location: dto.location,
        isActive: dto.is_active,
      }),
    );
    return this.get(eventId, result.identifiers[0]?.id as string);
  }

  /**
   * PATCH and PUT. One conditional UPDATE: a new capacity only applies while it still holds everyone inside, checked
   * against the row as it is at that moment (a door admitting someone concurrently is re-evaluated by PostgreSQL),
   * never against an earlier read.
   */
  async update(eventId: string, id: string, dto: UpdateRoomDto): Promise<RoomDto> {
    const changes: QueryDeepPartialEntity<Room> = {};
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.description !== undefined) changes.description = dto.description;
    if (dto.capacity !== undefined) changes.capacity = dto.capacity;
    if (dto.location !== undefined) changes.location = dto.location;
    if (dto.is_active !== undefined) changes.isActive = dto.is_active;
    if (Object.keys(changes).length === 0) return this.get(eventId, id);

    const qb = this.rooms
      .createQueryBuilder()
      .update(Room)
      .set({ ...changes, updatedAt: () => 'now()' })
      .where('id = :id AND event_id = :eventId', { id, eventId });
    if (dto.capacity !== undefined) qb.andWhere('current_participants <= :capacity', { capacity: dto.capacity });
    const result = await this.withNameCheck(() => qb.execute());
    if (!result.affected) {
      // Nothing matched: either no such room here (404) or the occupancy did not fit the new capacity (409).
      await this.getInEvent(eventId, id);
      throw this.capacityBelowOccupancy();
    }
    return this.get(eventId, id);
  }

  /** The sessions' foreign key decides: a room that still has sessions is a 409, even if one is added meanwhile. */
  /**
   * Refused while sessions, scans or badges' `allowed_rooms` name the room: removing it from a badge's list could
   * leave the list empty, which means every room. Deactivating the room is the way to close it.
   */
  async remove(eventId: string, id: string): Promise<void> {
    try {
      const [, deleted]: [unknown, number] = await this.rooms.query(
        `DELETE FROM rooms WHERE id = $1 AND event_id = $2
            AND NOT EXISTS (SELECT 1 FROM participants WHERE event_id = $2 AND $1 = ANY (allowed_rooms))`,
        [id, eventId],
      );
      if (deleted === 0) {
        if (!(await this.rooms.existsBy({ id, eventId }))) throw notFound('Room');
        throw conflict(
          RoomErrors.IN_ALLOWED_ROOMS,
          'Badges list this room in their allowed_rooms: change them first, or deactivate the room',
        );
      }
    } catch (error) {
      const violation = constraintViolation(error);
      if (violation?.kind === 'foreign_key' && violation.constraint === 'fk_sessions_room_id') {
        throw conflict(RoomErrors.HAS_SESSIONS, 'This room still has sessions: move or delete them first');
      }
      if (violation?.kind === 'foreign_key' && violation.constraint === 'fk_room_access_logs_room_id') {
        // The access log is kept for good; a room that has seen scans can be deactivated instead.
        throw conflict(RoomErrors.HAS_SCANS, 'Doors of this room have been scanned: deactivate it instead');
      }
      throw error;
    }
  }

  /** The unique (event, name) index decides, so two concurrent creations of one name cannot both succeed. */
  private async withNameCheck<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      const violation = constraintViolation(error);
      if (violation?.kind === 'unique' && violation.constraint === 'uq_rooms_event_name') {
        throw conflict(RoomErrors.NAME_TAKEN, 'Another room of this event already has this name');
      }
      // The CHECK is the last line behind the conditional update (e.g. a capacity change racing a door).
      if (violation?.kind === 'check' && violation.constraint === 'chk_rooms_occupancy') {
        throw this.capacityBelowOccupancy();
      }
      throw error;
    }
  }

  private capacityBelowOccupancy() {
    return conflict(
      RoomErrors.CAPACITY_BELOW_OCCUPANCY,
      'The capacity cannot be lower than the number of people currently in the room',
    );
  }
}
