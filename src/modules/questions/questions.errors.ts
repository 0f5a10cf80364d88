export const QuestionErrors = {
  /** The session is cancelled or over: no more questions. */
  SESSION_CLOSED: 'SESSION_CLOSED',
} as const;
