import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, type Repository } from 'typeorm';
import { notFound } from '../../common/errors/app.exception';
import { Room } from './entities/room.entity';

@Injectable()
export class RoomsService {
  constructor(@InjectRepository(Room) private readonly rooms: Repository<Room>) {}

  /** A room of this event, or 404: rooms of other events do not exist for the caller. */
  async getInEvent(eventId: string, id: string): Promise<Room> {
    const room = await this.rooms.findOneBy({ id, eventId });
    if (!room) throw notFound('Room');
    return room;
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
}
