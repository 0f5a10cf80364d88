/** The five roles a user can hold in one event (names kept from the earlier MakePlus clients). */
export const EVENT_ROLES = [
  'organisateur',
  'gestionnaire_des_salles',
  'controlleur_des_badges',
  'exposant',
  'participant',
] as const;

export type EventRole = (typeof EVENT_ROLES)[number];

/** People who run the venue: they see occupancy, scans and attendance. */
export const STAFF_ROLES: readonly EventRole[] = ['organisateur', 'gestionnaire_des_salles', 'controlleur_des_badges'];

export function isEventRole(value: unknown): value is EventRole {
  return typeof value === 'string' && (EVENT_ROLES as readonly string[]).includes(value);
}

/** SQL list for CHECK constraints, kept beside the type so both change together. */
export const EVENT_ROLES_SQL = EVENT_ROLES.map((r) => `'${r}'`).join(', ');
