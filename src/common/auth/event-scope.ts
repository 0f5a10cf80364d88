import { notFound, validationFailed } from '../errors/app.exception';

/**
 * `?event=` filters are accepted for the earlier clients but must name the token's event (API.md "Scope"); naming
 * another is a 400 rather than a silently empty list, so a client bug shows. UUIDs compare case-insensitively.
 */
export function assertEventFilter(filter: string | undefined, eventId: string): void {
  if (filter !== undefined && filter.toLowerCase() !== eventId.toLowerCase()) {
    throw validationFailed({ event: ['Must be the event of your access token (switch event to see another)'] });
  }
}

/**
 * Routes under `/api/events/{id}/` act on the token's event only: any other id is a 404, as if it did not exist.
 * UUIDs compare case-insensitively.
 */
export function assertTokenEvent(id: string, eventId: string): void {
  if (id.toLowerCase() !== eventId.toLowerCase()) throw notFound('Event');
}
