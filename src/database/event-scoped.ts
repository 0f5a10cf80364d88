import { In, type FindOptionsWhere, type Repository } from 'typeorm';

/** A row that belongs to one event. */
export interface EventScopedRow {
  id: string;
  eventId: string;
}

/**
 * Which of these ids are not rows of the event in `repository` (body fields naming rooms or sessions are checked
 * with it). Ids compare case-insensitively, as PostgreSQL's uuid type does.
 */
export async function idsNotInEvent<T extends EventScopedRow>(
  repository: Repository<T>,
  eventId: string,
  ids: string[],
): Promise<string[]> {
  if (ids.length === 0) return [];
  const where = { eventId, id: In(ids) } as FindOptionsWhere<T>;
  const found = await repository.find({ select: { id: true } as never, where });
  const known = new Set(found.map((row) => row.id.toLowerCase()));
  return ids.filter((id) => !known.has(id.toLowerCase()));
}
