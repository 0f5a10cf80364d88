/** Why a participant may not mark themselves present in a session now, or null when they may. */
export interface WindowRefusal {
  code: string;
  message: string;
  seconds_until_start?: number;
  seconds_since_end?: number;
}

export interface SessionWindow {
  status: string;
  startTime: Date;
  endTime: Date;
}

/**
 * Attendance is possible only while the session runs: from its start to its end, both included, unless it was
 * cancelled or marked completed (ended early) meanwhile.
 */
export function windowRefusal(session: SessionWindow, now: Date): WindowRefusal | null {
  if (session.status === 'cancelled') return { code: 'SESSION_CANCELLED', message: 'This session was cancelled' };
  if (session.status === 'completed') return { code: 'SESSION_ENDED', message: 'This session has ended' };
  const untilStart = Math.ceil((session.startTime.getTime() - now.getTime()) / 1000);
  if (untilStart > 0) {
    return {
      code: 'SESSION_NOT_STARTED',
      message: 'This session has not started yet',
      seconds_until_start: untilStart,
    };
  }
  const sinceEnd = Math.floor((now.getTime() - session.endTime.getTime()) / 1000);
  if (sinceEnd > 0) return { code: 'SESSION_ENDED', message: 'This session has ended', seconds_since_end: sinceEnd };
  return null;
}

export interface EventWindow {
  isCancelled: boolean;
  startDate: Date;
  endDate: Date;
}

/** The same rule for the event as a whole: from its start date to its end date. */
export function eventWindowRefusal(event: EventWindow, now: Date): WindowRefusal | null {
  const refusal = windowRefusal(
    { status: event.isCancelled ? 'cancelled' : 'scheduled', startTime: event.startDate, endTime: event.endDate },
    now,
  );
  if (!refusal) return null;
  const code = refusal.code.replace('SESSION_', 'EVENT_');
  return { ...refusal, code, message: refusal.message.replace('session', 'event') };
}
