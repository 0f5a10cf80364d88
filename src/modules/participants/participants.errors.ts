export const ParticipantErrors = {
  /** The user already has a badge in this event. */
  PARTICIPANT_EXISTS: 'PARTICIPANT_EXISTS',
  /** The user already has another role in this event than the one asked for. */
  ROLE_MISMATCH: 'ROLE_MISMATCH',
} as const;
