import type { EventRole } from './event-role';

/** Who is calling, resolved by the global guard from the token and the database, attached to the request. */
export interface AuthContext {
  userId: string;
  isStaff: boolean;
  /** Auth session (`sid`); null for a selection token. */
  sessionId: string | null;
  /** The event selected in the access token; null before any event is chosen. */
  eventId: string | null;
  role: EventRole | null;
  /** Set for a selection token (`temp_token`): select-event spends it, so it opens one session only. */
  selection?: { tokenId: string; expiresAt: Date };
}

declare module 'fastify' {
  interface FastifyRequest {
    auth?: AuthContext;
  }
}
