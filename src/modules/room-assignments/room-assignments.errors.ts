/** Field messages of the room-assignment rules (all 400 VALIDATION_FAILED; this module has no specific code). */
export const RoomAssignmentMessages = {
  ROOM_NOT_IN_EVENT: 'Must be a room of this event',
  USER_NOT_IN_EVENT: 'Must be a user with an active role in this event',
  ROLE_MISMATCH: "Must be the user's role in this event",
  END_BEFORE_START: 'Must be after start_time',
} as const;
