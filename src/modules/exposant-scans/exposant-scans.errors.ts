export const ExposantScanErrors = {
  /** 404: no badge of the event has this QR. */
  BADGE_UNKNOWN: 'BADGE_UNKNOWN',
  /** 409: the QR was replaced by a rotation, or its holder was deactivated or removed from the event. */
  BADGE_REVOKED: 'BADGE_REVOKED',
  /** 409: exhibitors do not collect themselves as a lead. */
  OWN_BADGE: 'OWN_BADGE',
} as const;
