import type { SessionStatus } from './entities/event-session.entity';

/** The status changes a client may ask for, one route each (`mark_live/`, `mark_completed/`, `cancel/`). */
export const SESSION_ACTIONS = ['mark_live', 'mark_completed', 'cancel'] as const;
export type SessionAction = (typeof SESSION_ACTIONS)[number];

/**
 * scheduled → live → completed; scheduled | live → cancelled. Completed and cancelled are final: a cancelled session
 * is never reinstated (it stopped blocking its room slot, which another session may have taken since).
 */
export const SESSION_TRANSITIONS: Readonly<
  Record<SessionAction, { from: readonly SessionStatus[]; to: SessionStatus }>
> = {
  mark_live: { from: ['scheduled'], to: 'live' },
  mark_completed: { from: ['live'], to: 'completed' },
  cancel: { from: ['scheduled', 'live'], to: 'cancelled' },
};

/** The status after `action`, or null when the action is not allowed from `from`. */
export function nextStatus(from: SessionStatus, action: SessionAction): SessionStatus | null {
  const rule = SESSION_TRANSITIONS[action];
  return rule.from.includes(from) ? rule.to : null;
}
