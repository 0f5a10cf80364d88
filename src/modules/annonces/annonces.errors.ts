export const AnnonceErrors = {
  /** Its publication time or audience can no longer change: it has been published. */
  ALREADY_PUBLISHED: 'ANNONCE_ALREADY_PUBLISHED',
} as const;
