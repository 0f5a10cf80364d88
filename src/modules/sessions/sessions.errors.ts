export const SessionErrors = {
  SESSION_OVERLAP: 'SESSION_OVERLAP',
  INVALID_TRANSITION: 'INVALID_TRANSITION',
  /** An atelier's capacity cannot go below the seats already granted. */
  CAPACITY_BELOW_SEATS: 'ATELIER_CAPACITY_BELOW_SEATS',
} as const;
