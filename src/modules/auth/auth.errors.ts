export const AuthErrors = {
  EMAIL_TAKEN: 'EMAIL_TAKEN',
} as const;
