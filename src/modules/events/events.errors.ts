export const EventErrors = {
  /** A capacity lower than the confirmed self-registrations (`registered_count`). */
  CAPACITY_BELOW_REGISTRATIONS: 'EVENT_CAPACITY_BELOW_REGISTRATIONS',
} as const;
