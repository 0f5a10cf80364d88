export const DiscordErrors = {
  /** The Discord user's account was deactivated by platform staff: the bot cannot register it anywhere. */
  ACCOUNT_INACTIVE: 'ACCOUNT_INACTIVE',
} as const;
