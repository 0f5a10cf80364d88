import type { FieldErrors } from '../../common/errors/app.exception';
import type { SessionType } from './entities/event-session.entity';

/** The fields of a session that rules across several fields look at, after a create or a merged update. */
export interface SessionShape {
  startTime: Date;
  endTime: Date;
  sessionType: SessionType;
  isPaid: boolean;
  price: string | null;
  capacity: number | null;
}

/**
 * The fields whose change a rule, a constraint or the seats check must see with the rest of the row (`SessionShape`,
 * the room and its times for the overlap constraint). An update that touches none of them needs no read first.
 */
export const FIELDS_WITH_RULES: ReadonlySet<string> = new Set<keyof SessionShape | 'roomId'>([
  'startTime',
  'endTime',
  'sessionType',
  'isPaid',
  'price',
  'capacity',
  'roomId',
]);

/**
 * Rules spanning fields, which a single-field validator cannot see: end after start; only ateliers are paid or have
 * their own seats; a paid atelier has a price, a free session none. Empty when the shape is valid.
 */
export function sessionRuleErrors(s: SessionShape): FieldErrors {
  const errors: FieldErrors = {};
  const add = (field: string, message: string) => (errors[field] ??= []).push(message);
  if (s.endTime.getTime() <= s.startTime.getTime()) add('end_time', 'Must be after start_time');
  if (s.isPaid && s.sessionType !== 'atelier') add('is_paid', 'Only an atelier can be paid');
  if (s.isPaid && s.price === null) add('price', 'Required when is_paid is true');
  if (!s.isPaid && s.price !== null) add('price', 'Must be null when is_paid is false');
  if (s.capacity !== null && s.sessionType !== 'atelier') add('capacity', 'Only an atelier has its own capacity');
  return errors;
}
