export const SessionAccessErrors = {
  /** Every seat of the atelier is held. */
  ATELIER_FULL: 'ATELIER_FULL',
  /** This participant already has an access row for this session. */
  ACCESS_EXISTS: 'SESSION_ACCESS_EXISTS',
} as const;
