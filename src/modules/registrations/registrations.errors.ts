export const RegistrationErrors = {
  /** The event does not take registrations (closed by its organisateurs, cancelled or over). */
  REGISTRATION_CLOSED: 'REGISTRATION_CLOSED',
  /** The caller already has a role in the event (given by an organisateur), so there is nothing to register for. */
  ALREADY_MEMBER: 'ALREADY_MEMBER',
} as const;
